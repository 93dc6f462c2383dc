/* SPDX-License-Identifier: MIT */
/*
 * The client's whole inbound path with the I/O stubbed: the input is a
 * script of records, each [op][len][len bytes], that delivers datagrams
 * from either of two brokers (decoded as l2tpd.c decodes them), moves the
 * clock, reports socket errors or stops, reselects and kicks the client,
 * and takes the link down and up.
 * Invariants: hooks stay paired and a stopped client holds nothing.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stub {
	int ups, downs, kernel, sockets;
	int fail_tunnel;
	uint32_t rnd;
};

static struct stub st;

static int s_resolve(struct client *c, struct broker *b)
{
	(void)c;
	b->addrs[0].s_addr = htonl(0x0A000001 + (uint32_t)b->index);
	return 1;
}

static void s_resolve_cancel(struct client *c, struct broker *b) { (void)c; (void)b; }

static int s_open(struct client *c, struct broker *b)
{
	(void)c; (void)b;
	st.sockets++;
	return 0;
}

static void s_close(struct client *c, struct broker *b)
{
	(void)c; (void)b;
	st.sockets--;
}

static int s_send(struct client *c, struct broker *b, const uint8_t *p, size_t n)
{
	(void)c; (void)b;
	assert(n >= PROTO_MIN_DGRAM && n <= PROTO_MAX_DGRAM && p[0] == 0x80);
	return 0;
}

static int s_tunnel_create(struct client *c, struct broker *b)
{
	(void)c;
	assert(b->session_id && b->peer_session_id && b->peer_tunnel_id);
	if (st.fail_tunnel)
		return -EEXIST;
	st.kernel++;
	return 0;
}

static void s_tunnel_delete(struct client *c, struct broker *b)
{
	(void)c; (void)b;
	st.kernel--;
}

static int s_set_mtu(struct client *c, struct broker *b, int mtu)
{
	(void)c; (void)b;
	assert(mtu >= PROTO_MTU_FLOOR && mtu <= 1500 - PROTO_TUNNEL_OVERHEAD);
	return 0;
}

static void s_hook(struct client *c, struct broker *b, const char *event)
{
	(void)c; (void)b;
	if (!strcmp(event, "session.up"))
		st.ups++;
	else if (!strcmp(event, "session.down"))
		st.downs++;
	assert(st.ups - st.downs == 0 || st.ups - st.downs == 1);
}

static uint32_t s_random(struct client *c)
{
	(void)c;
	st.rnd = st.rnd * 1103515245u + 12345u;
	return st.rnd;
}

static const struct client_ops ops = {
	.resolve = s_resolve,
	.resolve_cancel = s_resolve_cancel,
	.open = s_open,
	.close = s_close,
	.send = s_send,
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
	struct broker brokers[2];
	struct client c;
	int64_t now = 1000;
	size_t i = 0;

	memset(&st, 0, sizeof(st));
	memset(brokers, 0, sizeof(brokers));
	for (int k = 0; k < 2; k++) {
		strcpy(brokers[k].host, k ? "10.0.0.2" : "10.0.0.1");
		brokers[k].port = 8942;
		strcpy(brokers[k].name, brokers[k].host);
	}
	client_init(&c, &cfg, &ops, NULL, brokers, 2);
	client_start(&c, now);
	while (i + 2 <= size) {
		uint8_t op = data[i], len = data[i + 1];
		const uint8_t *arg = data + i + 2;
		struct broker *b = &brokers[(op >> 3) & 1];
		struct proto_msg m;

		if (len > size - i - 2)
			len = (uint8_t)(size - i - 2);
		i += 2 + (size_t)len;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			if (proto_decode(arg, len, PROTO_FROM_BROKER, &m) == 0)
				client_on_msg(&c, b, &m, now);
			break;
		case 3: {
			int64_t step = (int64_t)(len ? len : 1) * 250;
			int64_t d = client_next_deadline(&c);

			now = d < now + step ? (d > now ? d : now) : now + step;
			client_on_timer(&c, now);
			break;
		}
		case 4:
			client_on_sock_error(&c, b, len & 1 ? ECONNREFUSED : ENETUNREACH, now);
			break;
		case 5:
			st.fail_tunnel = len & 1;
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
