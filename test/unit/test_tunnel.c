/* SPDX-License-Identifier: MIT */
/*
 * tunnel_create() against a fake kernel holding tunnels by id, and the
 * source check of received datagrams.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "tunnel.h"

struct fake_kernel {
	uint32_t ids[4]; /* 0: free slot */
	int fds[4];
	int creates, destroys;
	int destroy_error;
};

static int fk_create(void *ctx, const struct l2tp_parm *p)
{
	struct fake_kernel *k = ctx;
	uint32_t tid = p->tunnel_id;
	int fd = p->fd;

	k->creates++;
	for (int i = 0; i < 4; i++)
		if (k->ids[i] == tid)
			return -EEXIST;
	for (int i = 0; i < 4; i++)
		if (!k->ids[i]) {
			k->ids[i] = tid;
			k->fds[i] = fd;
			return 0;
		}
	return -ENOMEM;
}

static int fk_destroy(void *ctx, uint32_t tid)
{
	struct fake_kernel *k = ctx;

	k->destroys++;
	if (k->destroy_error)
		return k->destroy_error;
	for (int i = 0; i < 4; i++)
		if (k->ids[i] == tid) {
			k->ids[i] = 0;
			return 0;
		}
	return -ENODEV;
}

/* tunnel tid to peer over fd */
#define PARM(tid, peer, sock) \
	(&(const struct l2tp_parm){ .tunnel_id = (tid), .peer_tunnel_id = (peer), \
				    .fd = (sock) })

static const struct tunnel_ops fk_ops = { fk_create, fk_destroy };

static int fd_of(const struct fake_kernel *k, uint32_t tid)
{
	for (int i = 0; i < 4; i++)
		if (k->ids[i] == tid)
			return k->fds[i];
	return -1;
}

SUITE(tunnel_eexist)
{
	struct fake_kernel k = { 0 };
	bool replaced = true;

	/* nothing there: created, nothing deleted */
	CHECK_EQ(tunnel_create(&fk_ops, &k, true, PARM(1, 77, 5), &replaced), 0);
	CHECK(!replaced);
	CHECK_EQ(k.destroys, 0);
	CHECK_EQ(fd_of(&k, 1), 5);

	/* the id is another live l2tpd's: its tunnel survives */
	CHECK_EQ(tunnel_create(&fk_ops, &k, false, PARM(1, 78, 6), &replaced), -EEXIST);
	CHECK(!replaced);
	CHECK_EQ(k.destroys, 0);
	CHECK_EQ(fd_of(&k, 1), 5);

	/* ours (a crash left it): replaced */
	CHECK_EQ(tunnel_create(&fk_ops, &k, true, PARM(1, 79, 7), &replaced), 0);
	CHECK(replaced);
	CHECK_EQ(k.destroys, 1);
	CHECK_EQ(fd_of(&k, 1), 7);

	/* the delete fails: that error, no second create */
	k.creates = 0;
	k.destroy_error = -EPERM;
	CHECK_EQ(tunnel_create(&fk_ops, &k, true, PARM(1, 80, 8), &replaced), -EPERM);
	CHECK_EQ(k.creates, 1);
	CHECK_EQ(fd_of(&k, 1), 7);

	/* another id next to ours: created, ours untouched */
	k.destroy_error = 0;
	CHECK_EQ(tunnel_create(&fk_ops, &k, true, PARM(2, 81, 9), &replaced), 0);
	CHECK(!replaced);
	CHECK_EQ(fd_of(&k, 2), 9);
	CHECK_EQ(fd_of(&k, 1), 7);

	/* other errors pass through untouched */
	k.ids[0] = k.ids[1] = k.ids[2] = k.ids[3] = 9;
	k.destroys = 0;
	CHECK_EQ(tunnel_create(&fk_ops, &k, true, PARM(3, 82, 10), &replaced), -ENOMEM);
	CHECK_EQ(k.destroys, 0);
}

SUITE(tunnel_source_check)
{
	union sockaddr_inet broker = { .in = { .sin_family = AF_INET,
					       .sin_port = htons(8942) } };
	union sockaddr_inet from;

	inet_pton(AF_INET, "10.77.0.1", &broker.in.sin_addr);
	from = broker;
	CHECK(tunnel_from_broker(&from, sizeof(from.in), &broker));
	/* another port of the broker's host */
	from.in.sin_port = htons(8943);
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
	/* the broker's port on another host */
	from = broker;
	inet_pton(AF_INET, "10.77.0.3", &from.in.sin_addr);
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
	/* another family, or an address of another size */
	from = broker;
	from.in.sin_family = AF_INET6;
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
	from = broker;
	CHECK(!tunnel_from_broker(&from, sizeof(from.in) - 1, &broker));
	CHECK(!tunnel_from_broker(&from, 0, &broker));
	CHECK(!tunnel_from_broker(&from, sizeof(from.in) + 12, &broker));
	/* port 0 and byte order */
	from.in.sin_port = 0;
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
	/* the port with its bytes swapped, as a byte-order slip would give */
	from.in.sin_port = (uint16_t)(broker.in.sin_port >> 8 | broker.in.sin_port << 8);
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
}

SUITE(tunnel_source_check_ipv6)
{
	union sockaddr_inet broker = { .in6 = { .sin6_family = AF_INET6,
						.sin6_port = htons(8942) } };
	union sockaddr_inet from, v4 = { .in = { .sin_family = AF_INET,
						 .sin_port = htons(8942) } };

	inet_pton(AF_INET6, "2001:db8::1", &broker.in6.sin6_addr);
	from = broker;
	CHECK(tunnel_from_broker(&from, sizeof(from.in6), &broker));
	CHECK(!tunnel_from_broker(&from, sizeof(from.in), &broker));
	CHECK(!tunnel_from_broker(&from, sizeof(from.in6) - 1, &broker));
	from.in6.sin6_port = htons(8943);
	CHECK(!tunnel_from_broker(&from, sizeof(from.in6), &broker));
	from = broker;
	inet_pton(AF_INET6, "2001:db8::2", &from.in6.sin6_addr);
	CHECK(!tunnel_from_broker(&from, sizeof(from.in6), &broker));
	/* a link-local broker: the scope must match as well */
	inet_pton(AF_INET6, "fe80::1", &broker.in6.sin6_addr);
	broker.in6.sin6_scope_id = 3;
	from = broker;
	CHECK(tunnel_from_broker(&from, sizeof(from.in6), &broker));
	from.in6.sin6_scope_id = 4;
	CHECK(!tunnel_from_broker(&from, sizeof(from.in6), &broker));
	/* the same bytes as IPv4 are not the IPv6 broker */
	CHECK(!tunnel_from_broker(&v4, sizeof(v4.in), &broker));
}
