/* SPDX-License-Identifier: MIT */
/*
 * The client's whole inbound path with the I/O stubbed: the input is a
 * script of records, each [op][len][len bytes], that delivers datagrams
 * from either of two brokers, the second with an IPv6 and an IPv4 address,
 * on either socket slot (decoded as l2tpd.c decodes them), moves the
 * clock, reports socket errors (and refusals found by sends) or stops,
 * reselects and kicks the client,
 * and takes the link down and up.
 * Invariants: hooks stay paired, sockets are opened and closed once per
 * slot, and a stopped client holds nothing.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stub {
	int ups, downs, kernel, sockets;
	uint8_t slots[2];
	int fail_tunnel;
	unsigned refuse_sends;
	uint32_t rnd;
};

static struct stub st;

static int s_resolve(void *ctx, unsigned b, const char *host,
		     union sockaddr_inet *addrs, unsigned max)
{
	(void)ctx;
	assert(b < 2 && host[0] && max >= 2);
	addrs[0] = (union sockaddr_inet){ .in = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(0x0A000001 + b) } };
	if (b == 0)
		return 1;
	addrs[1] = addrs[0];
	addrs[0] = (union sockaddr_inet){ .in6 = { .sin6_family = AF_INET6 } };
	addrs[0].in6.sin6_addr.s6_addr[0] = 0xfd;
	addrs[0].in6.sin6_addr.s6_addr[15] = 2;
	return 2;
}

static void s_resolve_cancel(void *ctx, unsigned b) { (void)ctx; (void)b; }

static int s_open(void *ctx, unsigned b, unsigned slot,
		  const union sockaddr_inet *to)
{
	(void)ctx;
	assert(slot < 2 && !(st.slots[b] & 1u << slot));
	assert(to->sa.sa_family == AF_INET6 ||
	       to->in.sin_addr.s_addr == htonl(0x0A000001 + b));
	st.slots[b] |= (uint8_t)(1u << slot);
	st.sockets++;
	return 0;
}

static void s_close(void *ctx, unsigned b, unsigned slot)
{
	(void)ctx;
	assert(st.slots[b] & 1u << slot);
	st.slots[b] &= (uint8_t)~(1u << slot);
	st.sockets--;
}

static void s_adopt(void *ctx, unsigned b, unsigned slot)
{
	(void)ctx;
	assert(slot == 1 && st.slots[b] == 2);
	st.slots[b] = 1;
}

static int s_send(void *ctx, unsigned b, unsigned slot, const uint8_t *p,
		  size_t n)
{
	(void)ctx;
	assert(st.slots[b] & 1u << slot);
	assert(n >= PROTO_MIN_DGRAM && n <= PROTO_MAX_DGRAM && p[0] == 0x80);
	if (st.refuse_sends) {
		st.refuse_sends--;
		return -ECONNREFUSED;
	}
	return 0;
}

static int s_tunnel_create(void *ctx, unsigned b, const struct tunnel_params *t)
{
	(void)ctx; (void)b;
	assert(t->tunnel_id == 7 && t->session_id && t->peer_session_id &&
	       t->peer_tunnel_id);
	if (st.fail_tunnel)
		return -EEXIST;
	st.kernel++;
	return 0;
}

static void s_tunnel_delete(void *ctx, unsigned b, const struct tunnel_params *t)
{
	(void)ctx; (void)b; (void)t;
	st.kernel--;
}

static int s_set_mtu(void *ctx, unsigned b, const struct tunnel_params *t,
		     int mtu)
{
	(void)ctx; (void)b; (void)t;
	assert(mtu >= PROTO_MTU_FLOOR && mtu <= 1500 - PROTO_TUNNEL_OVERHEAD);
	return 0;
}

static void s_hook(void *ctx, const struct client_event *e, const char *event)
{
	(void)ctx;
	assert(e->broker < 2 && e->addr_known);
	if (!strcmp(event, "session.up"))
		st.ups++;
	else if (!strcmp(event, "session.down"))
		st.downs++;
	assert(st.ups - st.downs == 0 || st.ups - st.downs == 1);
}

static uint32_t s_random(void *ctx)
{
	(void)ctx;
	st.rnd = st.rnd * 1103515245u + 12345u;
	return st.rnd;
}

static const struct client_ops ops = {
	.resolve = s_resolve,
	.resolve_cancel = s_resolve_cancel,
	.open = s_open,
	.close = s_close,
	.send = s_send,
	.adopt = s_adopt,
	.tunnel_create = s_tunnel_create,
	.tunnel_delete = s_tunnel_delete,
	.set_mtu = s_set_mtu,
	.hook = s_hook,
	.random = s_random,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct client_config cfg = {
		.uuid = "fuzz", .ifname = "l2tp0", .tunnel_id = 7,
		.limit_kbps = 1000, .features = PROTO_FEATURE_UNIQUE_SESSION_ID,
		.strategy = SELECT_USAGE,
	};
	static const struct client_broker brokers[2] = {
		{ .host = "10.0.0.1", .port = 8942 },
		{ .host = "10.0.0.2", .port = 8942 },
	};
	static struct client c;
	int64_t now = 1000;
	size_t i = 0;

	memset(&st, 0, sizeof(st));
	client_init(&c, &cfg, &ops, NULL, brokers, 2);
	client_start(&c, now);
	while (i + 2 <= size) {
		uint8_t op = data[i], len = data[i + 1];
		const uint8_t *arg = data + i + 2;
		unsigned b = (op >> 3) & 1, slot = (op >> 4) & 1;
		struct proto_msg m;

		if (len > size - i - 2)
			len = (uint8_t)(size - i - 2);
		i += 2 + (size_t)len;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			if (proto_decode(arg, len, PROTO_FROM_BROKER, &m) == 0)
				client_on_msg(&c, b, slot, &m, now);
			break;
		case 3: {
			int64_t step = (int64_t)(len ? len : 1) * 250;
			int64_t d = client_next_deadline(&c);

			now = d < now + step ? (d > now ? d : now) : now + step;
			client_on_timer(&c, now);
			break;
		}
		case 4:
			client_on_sock_error(&c, b, slot,
					     len & 1 ? ECONNREFUSED : ENETUNREACH, now);
			break;
		case 5:
			st.fail_tunnel = len & 1;
			st.refuse_sends = (len >> 1) & 3;
			break;
		case 6:
			client_reselect(&c, now);
			break;
		case 7:
			if (len & 2)
				client_link(&c, len & 1, now);
			else
				client_kick(&c, now);
			break;
		}
		/* A deadline at or before now would make the poll loop spin. */
		assert(client_next_deadline(&c) > now);
	}
	client_stop(&c, PROTO_ERR_CLIENT_SHUTDOWN, now);
	assert(st.ups == st.downs);
	assert(st.kernel == 0);
	assert(st.sockets == 0);
	assert(client_next_deadline(&c) == INT64_MAX);
	return 0;
}
