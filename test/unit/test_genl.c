/* SPDX-License-Identifier: MIT */
/*
 * Netlink builders and reply parsers (genl.c), and the ACK parser of
 * nlmsg.c under the replies the l2tp requests get.
 *
 * Netlink is host order, so each request's fields are listed once and its
 * expected bytes are built from that list in either byte order: requests
 * are compared byte for byte with the host-order bytes on every host, the
 * little-endian bytes are compared with a hand-written reference vector on
 * every host, and on little-endian hosts the request is compared with that
 * vector too.  Family id 0x20 and the sequence numbers are those of the
 * reference trace (shared/vectors/reference-genl.txt).
 *
 * Replies are assembled in host order by a small writer below, then fed to
 * the parsers whole, truncated at every length, and mutated byte by byte,
 * always from heap buffers of exactly the tested size so that
 * `make SAN=1 test-unit` reports any read past the end.  Sweeps only record
 * a check when an iteration fails, plus one summary check each.
 */
#include "check.h"
#include "genl.h"
#include "linkwatch.h"
#include "nlb.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILY NLB_FAMILY


static bool host_is_little_endian(void)
{
	uint16_t v = 1;
	uint8_t b;

	memcpy(&b, &v, 1);
	return b == 1;
}

static int ack_exact(const uint8_t *src, size_t n, uint32_t seq)
{
	uint8_t *p = test_dup(src, n);
	int r = nl_parse_ack(p, n, seq);

	free(p);
	return r;
}

static int family_exact(const uint8_t *src, size_t n, uint32_t seq,
			uint16_t *id)
{
	uint8_t *p = test_dup(src, n);
	int r = nl_parse_family(p, n, seq, id);

	free(p);
	return r;
}

/* ---- requests ---------------------------------------------------------- */

/* What a request must contain, in host order. */
struct want_attr {
	uint16_t type;
	uint16_t size; /* payload bytes: 1, 2, 4, or strlen + 1 */
	uint32_t value;
	const char *str;
};

struct want_msg {
	const char *what;
	uint16_t type;
	uint32_t seq;
	uint8_t cmd;
	const char *hex; /* little-endian bytes */
	struct want_attr attrs[6];
	size_t nattrs;
};

/* A request's parameters, named as the builders take them. */
#define PARM(...) (&(const struct l2tp_parm){ __VA_ARGS__ })

/* Built by build_request(); index matches reqs[]. */
static ssize_t build_request(size_t i, uint8_t *buf, size_t cap)
{
	switch (i) {
	case 0:
		return genl_build_getfamily(buf, cap, 5819, "l2tp");
	case 1:
		return l2tp_build_tunnel_create(buf, cap, FAMILY, 5822,
			PARM(.tunnel_id = 1, .peer_tunnel_id = 100, .fd = 6));
	case 2:
		return l2tp_build_session_create(buf, cap, FAMILY, 5823,
			PARM(.tunnel_id = 1, .session_id = 1,
			     .peer_session_id = 100, .ifname = "l2tp0"));
	case 3:
		return l2tp_build_session_mtu(buf, cap, FAMILY, 5824,
			PARM(.tunnel_id = 1, .session_id = 1, .mtu = 1446));
	case 4:
		return l2tp_build_session_delete(buf, cap, FAMILY, 5826,
			PARM(.tunnel_id = 1, .session_id = 1));
	case 5:
		return l2tp_build_tunnel_delete(buf, cap, FAMILY, 5827, 1);
	case 6:
		return l2tp_build_tunnel_create(buf, cap, 0xbeef, 0xfffffffe,
			PARM(.tunnel_id = 0xdeadbeef, .peer_tunnel_id = 0x01020304,
			     .fd = INT_MAX));
	case 7:
		return l2tp_build_session_create(buf, cap, FAMILY, 7,
			PARM(.tunnel_id = 0xdeadbeef, .session_id = 0xcafef00d,
			     .peer_session_id = 0x0badc0de,
			     .ifname = "abcdefghijklmno"));
	case 8:
		return l2tp_build_session_create(buf, cap, FAMILY, 8,
			PARM(.tunnel_id = 2, .session_id = 3,
			     .peer_session_id = 4, .ifname = "l2"));
	case 9:
		return l2tp_build_session_mtu(buf, cap, FAMILY, 9,
			PARM(.tunnel_id = 5, .session_id = 6, .mtu = 0xffff));
	}
	return -1;
}

static const struct want_msg reqs[] = {
	{ "GETFAMILY l2tp", GENL_ID_CTRL, 5819, CTRL_CMD_GETFAMILY,
	  /* nlmsghdr: len 32, type 0x10, flags REQUEST|ACK, seq, pid 0 */
	  "20000000 1000 0500 bb160000 00000000"
	  /* genlmsghdr: cmd 3, version 1 */
	  "03 01 0000"
	  /* FAMILY_NAME "l2tp\0": nla_len 9, 3 bytes of padding */
	  "0900 0200 6c327470 00 000000",
	  { { CTRL_ATTR_FAMILY_NAME, 5, 0, "l2tp" } }, 1 },
	{ "TUNNEL_CREATE", FAMILY, 5822, L2TP_CMD_TUNNEL_CREATE,
	  "3c000000 2000 0500 be160000 00000000"
	  "01 01 0000"
	  "0800 0900 01000000"     /* CONN_ID 1 */
	  "0800 0a00 64000000"     /* PEER_CONN_ID 100 */
	  "0500 0700 03 000000"    /* PROTO_VERSION 3 (u8) */
	  "0600 0200 0000 0000"    /* ENCAP_TYPE UDP (u16) */
	  "0800 1700 06000000",    /* FD 6 */
	  { { L2TP_ATTR_CONN_ID, 4, 1, NULL },
	    { L2TP_ATTR_PEER_CONN_ID, 4, 100, NULL },
	    { L2TP_ATTR_PROTO_VERSION, 1, 3, NULL },
	    { L2TP_ATTR_ENCAP_TYPE, 2, 0, NULL },
	    { L2TP_ATTR_FD, 4, 6, NULL } }, 5 },
	{ "SESSION_CREATE l2tp0", FAMILY, 5823, L2TP_CMD_SESSION_CREATE,
	  "40000000 2000 0500 bf160000 00000000"
	  "05 01 0000"
	  "0800 0900 01000000"     /* CONN_ID 1 */
	  "0800 0b00 01000000"     /* SESSION_ID 1 */
	  "0800 0c00 64000000"     /* PEER_SESSION_ID 100 */
	  "0600 0100 0500 0000"    /* PW_TYPE ETH (u16) */
	  "0a00 0800 6c32747030 00 0000", /* IFNAME "l2tp0\0" */
	  { { L2TP_ATTR_CONN_ID, 4, 1, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 1, NULL },
	    { L2TP_ATTR_PEER_SESSION_ID, 4, 100, NULL },
	    { L2TP_ATTR_PW_TYPE, 2, 5, NULL },
	    { L2TP_ATTR_IFNAME, 6, 0, "l2tp0" } }, 5 },
	{ "SESSION_MODIFY mtu 1446", FAMILY, 5824, L2TP_CMD_SESSION_MODIFY,
	  "2c000000 2000 0500 c0160000 00000000"
	  "07 01 0000"
	  "0800 0900 01000000"     /* CONN_ID 1 */
	  "0800 0b00 01000000"     /* SESSION_ID 1 */
	  "0600 1c00 a605 0000",   /* MTU 1446 (u16) */
	  { { L2TP_ATTR_CONN_ID, 4, 1, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 1, NULL },
	    { L2TP_ATTR_MTU, 2, 1446, NULL } }, 3 },
	{ "SESSION_DELETE", FAMILY, 5826, L2TP_CMD_SESSION_DELETE,
	  "24000000 2000 0500 c2160000 00000000"
	  "06 01 0000"
	  "0800 0900 01000000"
	  "0800 0b00 01000000",
	  { { L2TP_ATTR_CONN_ID, 4, 1, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 1, NULL } }, 2 },
	{ "TUNNEL_DELETE", FAMILY, 5827, L2TP_CMD_TUNNEL_DELETE,
	  "1c000000 2000 0500 c3160000 00000000"
	  "02 01 0000"
	  "0800 0900 01000000",
	  { { L2TP_ATTR_CONN_ID, 4, 1, NULL } }, 1 },
	{ "TUNNEL_CREATE high bits", 0xbeef, 0xfffffffe,
	  L2TP_CMD_TUNNEL_CREATE,
	  "3c000000 efbe 0500 feffffff 00000000"
	  "01 01 0000"
	  "0800 0900 efbeadde"
	  "0800 0a00 04030201"
	  "0500 0700 03 000000"
	  "0600 0200 0000 0000"
	  "0800 1700 ffffff7f",
	  { { L2TP_ATTR_CONN_ID, 4, 0xdeadbeef, NULL },
	    { L2TP_ATTR_PEER_CONN_ID, 4, 0x01020304, NULL },
	    { L2TP_ATTR_PROTO_VERSION, 1, 3, NULL },
	    { L2TP_ATTR_ENCAP_TYPE, 2, 0, NULL },
	    { L2TP_ATTR_FD, 4, INT_MAX, NULL } }, 5 },
	{ "SESSION_CREATE 15-char name", FAMILY, 7, L2TP_CMD_SESSION_CREATE,
	  "48000000 2000 0500 07000000 00000000"
	  "05 01 0000"
	  "0800 0900 efbeadde"
	  "0800 0b00 0df0feca"
	  "0800 0c00 dec0ad0b"
	  "0600 0100 0500 0000"
	  /* 15 chars + NUL: nla_len 20, already aligned */
	  "1400 0800 6162636465666768696a6b6c6d6e6f 00",
	  { { L2TP_ATTR_CONN_ID, 4, 0xdeadbeef, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 0xcafef00d, NULL },
	    { L2TP_ATTR_PEER_SESSION_ID, 4, 0x0badc0de, NULL },
	    { L2TP_ATTR_PW_TYPE, 2, 5, NULL },
	    { L2TP_ATTR_IFNAME, 16, 0, "abcdefghijklmno" } }, 5 },
	{ "SESSION_CREATE 2-char name", FAMILY, 8, L2TP_CMD_SESSION_CREATE,
	  "3c000000 2000 0500 08000000 00000000"
	  "05 01 0000"
	  "0800 0900 02000000"
	  "0800 0b00 03000000"
	  "0800 0c00 04000000"
	  "0600 0100 0500 0000"
	  "0700 0800 6c32 00 00",
	  { { L2TP_ATTR_CONN_ID, 4, 2, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 3, NULL },
	    { L2TP_ATTR_PEER_SESSION_ID, 4, 4, NULL },
	    { L2TP_ATTR_PW_TYPE, 2, 5, NULL },
	    { L2TP_ATTR_IFNAME, 3, 0, "l2" } }, 5 },
	{ "SESSION_MODIFY mtu 0xffff", FAMILY, 9, L2TP_CMD_SESSION_MODIFY,
	  "2c000000 2000 0500 09000000 00000000"
	  "07 01 0000"
	  "0800 0900 05000000"
	  "0800 0b00 06000000"
	  "0600 1c00 ffff 0000",
	  { { L2TP_ATTR_CONN_ID, 4, 5, NULL },
	    { L2TP_ATTR_SESSION_ID, 4, 6, NULL },
	    { L2TP_ATTR_MTU, 2, 0xffff, NULL } }, 3 },
};

#define NREQS (sizeof(reqs) / sizeof(reqs[0]))

/* Appends v as an n-byte integer in the given byte order. */
static size_t put_uint(uint8_t *p, uint32_t v, size_t n, bool little)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> 8 * (little ? i : n - 1 - i));
	return n;
}

/* The bytes w describes, in the given byte order; returns their length. */
static size_t want_bytes(const struct want_msg *w, bool little, uint8_t *out,
			 size_t cap)
{
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;

	for (size_t i = 0; i < w->nattrs; i++)
		len += (NLA_HDRLEN + w->attrs[i].size + 3u) & ~3u;
	if (len > cap) {
		fprintf(stderr, "%s: %zu bytes expected\n", w->what, len);
		exit(2);
	}
	memset(out, 0, len);
	uint8_t *p = out;
	p += put_uint(p, (uint32_t)len, 4, little);
	p += put_uint(p, w->type, 2, little);
	p += put_uint(p, NLM_F_REQUEST | NLM_F_ACK, 2, little);
	p += put_uint(p, w->seq, 4, little);
	p += put_uint(p, 0, 4, little); /* nlmsg_pid: the kernel's to fill */
	*p++ = w->cmd;
	*p++ = 1;                       /* genl version */
	p += 2;                         /* reserved */
	for (size_t i = 0; i < w->nattrs; i++) {
		const struct want_attr *a = &w->attrs[i];

		p += put_uint(p, (uint32_t)(NLA_HDRLEN + a->size), 2, little);
		p += put_uint(p, a->type, 2, little);
		if (a->str)
			memcpy(p, a->str, a->size);
		else
			put_uint(p, a->value, a->size, little);
		p += (a->size + 3u) & ~3u; /* padding stays zero */
	}
	return len;
}

SUITE(genl_build)
{
	bool le = host_is_little_endian();

	for (size_t i = 0; i < NREQS; i++) {
		const struct want_msg *w = &reqs[i];
		uint8_t vec[256], want_le[256], want_host[256], buf[256];
		size_t vn = test_hex(w->hex, vec, sizeof(vec));
		size_t ln = want_bytes(w, true, want_le, sizeof(want_le));
		size_t hn = want_bytes(w, le, want_host, sizeof(want_host));
		ssize_t r;

		/* The field list and the reference vector agree. */
		if (!CHECK_MEM(want_le, ln, vec, vn))
			printf("  at: %s: fields against vector\n", w->what);
		/* Garbage first: padding must come out as zeros. */
		memset(buf, 0xa5, sizeof(buf));
		r = build_request(i, buf, sizeof(buf));
		if (!CHECK(r > 0)) {
			printf("  at: %s: %zd\n", w->what, r);
			continue;
		}
		if (!CHECK_MEM(buf, (size_t)r, want_host, hn))
			printf("  at: %s: %s-endian fields\n", w->what,
			       le ? "little" : "big");
		if (le && !CHECK_MEM(buf, (size_t)r, vec, vn))
			printf("  at: %s: reference vector\n", w->what);
		size_t k;
		for (k = (size_t)r; k < sizeof(buf) && buf[k] == 0xa5; k++)
			;
		CHECK_EQ(k, sizeof(buf));

		/* Exact cap, in a heap buffer of that size. */
		size_t len = (size_t)r;
		uint8_t *h = malloc(len);
		CHECK(h != NULL);
		if (h) {
			memset(h, 0x5a, len);
			CHECK_EQ(build_request(i, h, len), (ssize_t)len);
			CHECK_MEM(h, len, buf, len);
			free(h);
		}

		/* Every smaller cap: -ENOSPC and nothing written past cap. */
		int fails = 0;
		for (size_t cap = 0; cap < len; cap++) {
			memset(buf, 0xc3, sizeof(buf));
			r = build_request(i, buf, cap);
			SWEEP_CHECK(fails, r == -ENOSPC, "%s cap %zu: %zd",
				    w->what, cap, r);
			for (k = cap; k < sizeof(buf) && buf[k] == 0xc3; k++)
				;
			SWEEP_CHECK(fails, k == sizeof(buf),
				    "%s cap %zu: byte %zu written", w->what,
				    cap, k);
			uint8_t *e = malloc(cap ? cap : 1);
			if (e) {
				r = build_request(i, e, cap);
				SWEEP_CHECK(fails, r == -ENOSPC,
					    "%s heap cap %zu: %zd", w->what,
					    cap, r);
				free(e);
			}
		}
		if (!CHECK_EQ(fails, 0))
			printf("  at: %s\n", w->what);
	}

	/* The sizes PROTOCOL.md section 6 gives. */
	uint8_t buf[256];
	CHECK_EQ(build_request(0, buf, sizeof(buf)), 32);
	CHECK_EQ(build_request(1, buf, sizeof(buf)), 60);
	CHECK_EQ(build_request(2, buf, sizeof(buf)), 64);
}

SUITE(genl_build_invalid)
{
	static const char *const bad_names[] = {
		"",
		"abcdefghijklmnop",       /* 16 */
		"abcdefghijklmnopq",      /* 17 */
		"l2tp-with-a-very-long-interface-name",
	};
	uint8_t buf[256];
	size_t k;

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		memset(buf, 0xc3, sizeof(buf));
		const struct l2tp_parm *p = PARM(.tunnel_id = 1, .session_id = 1,
						 .peer_session_id = 100,
						 .ifname = bad_names[i]);

		if (!CHECK_EQ(l2tp_build_session_create(buf, sizeof(buf), FAMILY,
							1, p),
			      -EINVAL))
			printf("  at: ifname \"%s\"\n", bad_names[i]);
		for (k = 0; k < sizeof(buf) && buf[k] == 0xc3; k++)
			;
		CHECK_EQ(k, sizeof(buf));
		/* even when there is no room at all */
		CHECK_EQ(l2tp_build_session_create(buf, 0, FAMILY, 1, p), -EINVAL);
	}
	static const int bad_fds[] = { -1, -2, INT_MIN };
	for (size_t i = 0; i < sizeof(bad_fds) / sizeof(bad_fds[0]); i++) {
		memset(buf, 0xc3, sizeof(buf));
		const struct l2tp_parm *p = PARM(.tunnel_id = 1,
						 .peer_tunnel_id = 100,
						 .fd = bad_fds[i]);

		CHECK_EQ(l2tp_build_tunnel_create(buf, sizeof(buf), FAMILY, 1, p),
			 -EINVAL);
		for (k = 0; k < sizeof(buf) && buf[k] == 0xc3; k++)
			;
		CHECK_EQ(k, sizeof(buf));
		CHECK_EQ(l2tp_build_tunnel_create(buf, 0, FAMILY, 1, p), -EINVAL);
	}
	/* fd 0 is a valid descriptor. */
	CHECK_EQ(l2tp_build_tunnel_create(buf, sizeof(buf), FAMILY, 1,
					  PARM(.tunnel_id = 1, .peer_tunnel_id = 100,
					       .fd = 0)),
		 60);
	CHECK_EQ(rd32(buf + 56), 0);
}

/* ---- replies ----------------------------------------------------------- */

/* The controller's answer to GETFAMILY "l2tp", as a kernel sends it. */
static void nlb_newfamily(struct nlb *w, uint32_t seq, uint16_t id)
{
	static const uint8_t genl[GENL_HDRLEN] = { CTRL_CMD_NEWFAMILY, 2, 0,
						    0 };

	nlb_msg(w, GENL_ID_CTRL, 0, seq);
	nlb_put(w, genl, sizeof(genl));
	nlb_str(w, CTRL_ATTR_FAMILY_NAME, "l2tp");
	nlb_u16(w, CTRL_ATTR_FAMILY_ID, id);
	nlb_u32(w, 3 /* VERSION */, 1);
	nlb_u32(w, 4 /* HDRSIZE */, 0);
	nlb_u32(w, 5 /* MAXATTR */, 35);
	nlb_nest(w, 6 /* OPS */);
	for (uint32_t op = 1; op <= 8; op++) {
		nlb_nest(w, (uint16_t)op);
		nlb_u32(w, 1 /* OP_ID */, op);
		nlb_u32(w, 2 /* OP_FLAGS */, 0x1e);
		nlb_nest_end(w);
	}
	nlb_nest_end(w);
	nlb_nest(w, 7 /* MCAST_GROUPS */);
	nlb_nest(w, 1);
	nlb_str(w, 1 /* GRP_NAME */, "l2tp");
	nlb_u32(w, 2 /* GRP_ID */, 5);
	nlb_nest_end(w);
	nlb_nest_end(w);
	nlb_end(w);
}

#define SEQ 5822u

SUITE(genl_parse_ack)
{
	uint8_t req[256];
	ssize_t rl = build_request(1, req, sizeof(req)); /* TUNNEL_CREATE */
	struct nlb w;

	CHECK_EQ(rl, 60);

	nlb_init(&w);
	nlb_error(&w, SEQ, 0, req, (size_t)rl);
	CHECK_EQ(w.len, 36);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ + 1), 1);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ - 1), 1);

	nlb_init(&w);
	nlb_error(&w, SEQ, -ENODEV, req, (size_t)rl);
	CHECK_EQ(w.len, 16 + 4 + 60);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -ENODEV);
	CHECK_EQ(ack_exact(w.b, w.len, 0), 1);

	nlb_init(&w);
	nlb_error(&w, SEQ, -EEXIST, NULL, 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EEXIST);
	nlb_init(&w);
	nlb_error(&w, SEQ, -4095, NULL, 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -4095);

	/* The matching message second, after a stale one. */
	nlb_init(&w);
	nlb_error(&w, SEQ - 1, -ENODEV, NULL, 0);
	nlb_error(&w, SEQ, 0, NULL, 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ - 1), -ENODEV);
	nlb_init(&w);
	nlb_error(&w, SEQ - 1, 0, NULL, 0);
	nlb_error(&w, SEQ, -EPERM, req, (size_t)rl);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EPERM);
	/* A non-error message with our seq is not the answer. */
	nlb_init(&w);
	nlb_msg(&w, NLMSG_DONE, NLM_F_MULTI, SEQ);
	nlb_put(&w, &(int32_t){ 0 }, 4);
	nlb_end(&w);
	nlb_error(&w, SEQ, -EINVAL, NULL, 0);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EINVAL);
	/* Three messages, none for us. */
	nlb_init(&w);
	nlb_error(&w, 1, 0, NULL, 0);
	nlb_error(&w, 2, -ENODEV, NULL, 0);
	nlb_newfamily(&w, SEQ, FAMILY);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), 1);

	/* Empty buffer: nothing for us. */
	CHECK_EQ(ack_exact(w.b, 0, SEQ), 1);

	/* Truncated header. */
	nlb_init(&w);
	nlb_error(&w, SEQ, 0, NULL, 0);
	for (size_t n = 1; n < NLMSG_HDRLEN; n++)
		CHECK_EQ(ack_exact(w.b, n, SEQ), -EBADMSG);

	/* nlmsg_len below the header size (0 must not loop forever). */
	static const uint32_t small[] = { 0, 1, 4, 15 };
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		nlb_init(&w);
		nlb_error(&w, SEQ, 0, NULL, 0);
		wr32(w.b, small[i]);
		CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG);
	}
	/* nlmsg_len beyond the buffer. */
	nlb_init(&w);
	nlb_error(&w, SEQ, 0, NULL, 0);
	wr32(w.b, (uint32_t)w.len + 1);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG);
	wr32(w.b, 0xffffffff);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG);
	/* ... also when it is the second message. */
	nlb_init(&w);
	nlb_error(&w, SEQ - 1, 0, NULL, 0);
	nlb_error(&w, SEQ, 0, NULL, 0);
	wr32(w.b + 36, 37);
	CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG);

	/* NLMSG_ERROR too short for its error code. */
	for (uint32_t body = 0; body < 4; body++) {
		nlb_init(&w);
		nlb_msg(&w, NLMSG_ERROR, 0, SEQ);
		nlb_put(&w, "\0\0\0\0", body);
		w.len = NLMSG_HDRLEN + body;
		wr32(w.b, NLMSG_HDRLEN + body);
		CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG);
	}
	/* Positive or out-of-range error values. */
	static const int32_t weird[] = { 1, 4096, INT32_MAX, -4096, INT32_MIN };
	for (size_t i = 0; i < sizeof(weird) / sizeof(weird[0]); i++) {
		nlb_init(&w);
		nlb_error(&w, SEQ, 0, NULL, 0);
		wr32(w.b + NLMSG_HDRLEN, (uint32_t)weird[i]);
		if (!CHECK_EQ(ack_exact(w.b, w.len, SEQ), -EBADMSG))
			printf("  at: error %d\n", weird[i]);
	}
	/* A truncated message after our answer does not hide it, and one
	 * before it does. */
	nlb_init(&w);
	nlb_error(&w, SEQ, -ENODEV, NULL, 0);
	nlb_error(&w, SEQ + 1, 0, NULL, 0);
	CHECK_EQ(ack_exact(w.b, w.len - 1, SEQ), -ENODEV);
	CHECK_EQ(ack_exact(w.b, w.len - 1, SEQ + 1), -EBADMSG);

	/* Every truncation of valid replies. */
	struct nlb bufs[3];
	nlb_init(&bufs[0]);
	nlb_error(&bufs[0], SEQ, 0, req, (size_t)rl);
	nlb_init(&bufs[1]);
	nlb_error(&bufs[1], SEQ, -ENODEV, req, (size_t)rl);
	nlb_init(&bufs[2]);
	nlb_error(&bufs[2], SEQ - 1, -ENODEV, req, (size_t)rl);
	nlb_error(&bufs[2], SEQ, -EEXIST, NULL, 0);
	int fails = 0;
	for (int b = 0; b < 3; b++) {
		size_t first = rd32(bufs[b].b);
		int full = ack_exact(bufs[b].b, bufs[b].len, SEQ);

		CHECK_EQ(full, b == 0 ? 0 : b == 1 ? -ENODEV : -EEXIST);
		for (size_t n = 0; n < bufs[b].len; n++) {
			int r = ack_exact(bufs[b].b, n, SEQ);
			int want = n == 0 ? 1 : -EBADMSG;

			/* with a whole stale message first, cutting right
			 * after it leaves nothing for us */
			if (b == 2 && n == first)
				want = 1;
			SWEEP_CHECK(fails, r == want, "ack %d cut to %zu: %d",
				    b, n, r);
		}
	}
	CHECK_EQ(fails, 0);
}

SUITE(genl_parse_family)
{
	struct nlb w;
	uint16_t id;

	nlb_init(&w);
	nlb_newfamily(&w, 5819, FAMILY);
	id = 0;
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 0);
	CHECK_EQ(id, 0x20);
	/* With its ACK behind it, and a stale ACK in front. */
	nlb_error(&w, 5819, 0, NULL, 0);
	id = 0;
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 0);
	CHECK_EQ(id, 0x20);
	nlb_init(&w);
	nlb_error(&w, 5818, -ENOENT, NULL, 0);
	nlb_newfamily(&w, 5819, 0x1234);
	id = 0;
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 0);
	CHECK_EQ(id, 0x1234);
	/* The ACK alone (reply in an earlier datagram): keep waiting. */
	nlb_init(&w);
	nlb_error(&w, 5819, 0, NULL, 0);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 1);

	/* Family missing. */
	nlb_init(&w);
	nlb_error(&w, 5819, -ENOENT, NULL, 0);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -ENOENT);

	/* Reply for another request. */
	nlb_init(&w);
	nlb_newfamily(&w, 5818, FAMILY);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 1);
	CHECK_EQ(family_exact(w.b, 0, 5819, &id), 1);

	/* Not a NEWFAMILY (other command, other type, short genl header):
	 * ignored. */
	nlb_init(&w);
	nlb_newfamily(&w, 5819, FAMILY);
	w.b[NLMSG_HDRLEN] = 2; /* CTRL_CMD_DELFAMILY */
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 1);
	nlb_init(&w);
	nlb_newfamily(&w, 5819, FAMILY);
	wr16(w.b + 4, FAMILY);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 1);
	nlb_init(&w);
	nlb_msg(&w, GENL_ID_CTRL, 0, 5819);
	nlb_put(&w, "\1\2", 2);
	w.len = NLMSG_HDRLEN + 2;
	wr32(w.b, NLMSG_HDRLEN + 2);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), 1);

	/* FAMILY_ID with a wrong length, or zero, or missing. */
	static const size_t id_lens[] = { 0, 1, 3, 4, 8 };
	for (size_t i = 0; i < sizeof(id_lens) / sizeof(id_lens[0]); i++) {
		static const uint8_t v[8] = { 0x20, 0, 0, 0, 0, 0, 0, 0 };
		static const uint8_t genl[4] = { CTRL_CMD_NEWFAMILY, 2, 0, 0 };

		nlb_init(&w);
		nlb_msg(&w, GENL_ID_CTRL, 0, 5819);
		nlb_put(&w, genl, sizeof(genl));
		nlb_str(&w, CTRL_ATTR_FAMILY_NAME, "l2tp");
		nlb_attr(&w, CTRL_ATTR_FAMILY_ID, v, id_lens[i]);
		nlb_u32(&w, 3, 1);
		nlb_end(&w);
		if (!CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG))
			printf("  at: FAMILY_ID of %zu bytes\n", id_lens[i]);
	}
	nlb_init(&w);
	nlb_newfamily(&w, 5819, 0);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	{
		static const uint8_t genl[4] = { CTRL_CMD_NEWFAMILY, 2, 0, 0 };

		nlb_init(&w);
		nlb_msg(&w, GENL_ID_CTRL, 0, 5819);
		nlb_put(&w, genl, sizeof(genl));
		nlb_str(&w, CTRL_ATTR_FAMILY_NAME, "l2tp");
		nlb_u32(&w, 3, 1);
		nlb_end(&w);
		CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
		/* no attributes at all */
		nlb_init(&w);
		nlb_msg(&w, GENL_ID_CTRL, 0, 5819);
		nlb_put(&w, genl, sizeof(genl));
		nlb_end(&w);
		CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	}

	/* Broken attribute headers before FAMILY_ID.  The first attribute
	 * (FAMILY_NAME, nla_len 9) starts at offset 20. */
	static const uint16_t bad_nla[] = { 0, 1, 3 };
	for (size_t i = 0; i < sizeof(bad_nla) / sizeof(bad_nla[0]); i++) {
		nlb_init(&w);
		nlb_newfamily(&w, 5819, FAMILY);
		CHECK_EQ(rd16(w.b + 20), 9);
		wr16(w.b + 20, bad_nla[i]);
		if (!CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG))
			printf("  at: nla_len %u\n", bad_nla[i]);
	}
	nlb_init(&w);
	nlb_newfamily(&w, 5819, FAMILY);
	wr16(w.b + 20, (uint16_t)(w.len - 20 + 1));
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	wr16(w.b + 20, 0xffff);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	/* An attribute header cut by the end of the message. */
	{
		static const uint8_t genl[4] = { CTRL_CMD_NEWFAMILY, 2, 0, 0 };

		nlb_init(&w);
		nlb_msg(&w, GENL_ID_CTRL, 0, 5819);
		nlb_put(&w, genl, sizeof(genl));
		nlb_put(&w, "\x08\x00", 2);
		w.len = NLMSG_HDRLEN + GENL_HDRLEN + 2;
		wr32(w.b, (uint32_t)w.len);
		CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	}
	/* nlmsg_len beyond the buffer. */
	nlb_init(&w);
	nlb_newfamily(&w, 5819, FAMILY);
	wr32(w.b, (uint32_t)w.len + 4);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);
	/* Malformed error reply. */
	nlb_init(&w);
	nlb_error(&w, 5819, 0, NULL, 0);
	wr32(w.b + NLMSG_HDRLEN, 5);
	CHECK_EQ(family_exact(w.b, w.len, 5819, &id), -EBADMSG);

	/* Every truncation of the reply alone and of reply + ACK. */
	int fails = 0;
	for (int b = 0; b < 2; b++) {
		size_t first;

		nlb_init(&w);
		nlb_newfamily(&w, 5819, FAMILY);
		first = w.len;
		if (b)
			nlb_error(&w, 5819, 0, NULL, 0);
		for (size_t n = 0; n < w.len; n++) {
			int r;

			id = 0;
			r = family_exact(w.b, n, 5819, &id);
			if (n == 0)
				SWEEP_CHECK(fails, r == 1, "cut to 0: %d", r);
			else if (n < first)
				SWEEP_CHECK(fails, r == -EBADMSG,
					    "family cut to %zu: %d", n, r);
			else
				SWEEP_CHECK(fails, r == 0 && id == FAMILY,
					    "family+ack cut to %zu: %d", n, r);
		}
	}
	CHECK_EQ(fails, 0);
}

static uint32_t rng_state = 0x9e3779b9;

static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

/* Runs all three parsers over one buffer; 1 if every result is one the
 * API allows. */
static int parsers_behave(const uint8_t *p, size_t n)
{
	uint16_t id = 0;
	bool up;
	int a = ack_exact(p, n, SEQ);
	int f = family_exact(p, n, SEQ, &id);
	uint8_t *copy = test_dup(p, n);
	int l = nl_parse_link(copy, n, "l2tp0", &up);

	free(copy);

	if (a > 1 || a < -4095)
		return 0;
	if (f > 1 || f < -4095 || (f == 0 && id == 0))
		return 0;
	return l == 0 || l == 1 || l == -EBADMSG;
}

/* Byte mutations of valid replies and random buffers. */
SUITE(genl_parse_fuzz)
{
	struct nlb bufs[4];
	uint8_t req[256];
	ssize_t rl = build_request(1, req, sizeof(req));
	int fails = 0;

	CHECK(rl > 0);
	nlb_init(&bufs[0]);
	nlb_error(&bufs[0], SEQ, -ENODEV, req, rl > 0 ? (size_t)rl : 0);
	nlb_error(&bufs[0], SEQ + 1, 0, NULL, 0);
	nlb_init(&bufs[1]);
	nlb_newfamily(&bufs[1], SEQ, FAMILY);
	nlb_error(&bufs[1], SEQ, 0, NULL, 0);
	nlb_init(&bufs[2]);
	nlb_link(&bufs[2], RTM_NEWLINK, "eth0", IFF_UP_);
	nlb_link(&bufs[2], RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	nlb_init(&bufs[3]);
	nlb_link(&bufs[3], RTM_DELLINK, "l2tp0", 0);
	nlb_newfamily(&bufs[3], SEQ, FAMILY);

	static const uint8_t xors[] = { 0x01, 0x04, 0x10, 0x80, 0xff };
	for (int b = 0; b < 4; b++) {
		uint8_t m[1024];

		for (size_t pos = 0; pos < bufs[b].len; pos++) {
			for (size_t x = 0; x < sizeof(xors) + 1; x++) {
				memcpy(m, bufs[b].b, bufs[b].len);
				m[pos] = x < sizeof(xors) ? m[pos] ^ xors[x] : 0;
				SWEEP_CHECK(fails,
					    parsers_behave(m, bufs[b].len),
					    "buffer %d byte %zu mutation %zu", b,
					    pos, x);
			}
		}
	}
	CHECK_EQ(fails, 0);

	/* Random buffers with plausible headers. */
	fails = 0;
	for (unsigned it = 0; it < 20000; it++) {
		uint8_t m[256];
		size_t n = rng() % sizeof(m);

		for (size_t k = 0; k < n; k++)
			m[k] = (uint8_t)rng();
		for (size_t off = 0; off + NLMSG_HDRLEN <= n && rng() % 4;) {
			uint32_t len = (uint32_t)(rng() % (n - off + 8));
			static const uint16_t types[] = {
				NLMSG_ERROR, NLMSG_DONE, GENL_ID_CTRL,
				RTM_NEWLINK, RTM_DELLINK,
			};

			wr32(m + off, len);
			wr16(m + off + 4, types[rng() % 5]);
			wr32(m + off + 8, rng() % 2 ? SEQ : rng());
			if (len < NLMSG_HDRLEN)
				break;
			off += (len + 3) & ~3u;
		}
		SWEEP_CHECK(fails, parsers_behave(m, n), "random %u", it);
	}
	CHECK_EQ(fails, 0);
}

