/* SPDX-License-Identifier: MIT */
/*
 * Control-protocol codec (proto.c): byte-exact encodings from PROTOCOL.md
 * section 2, every distinct datagram of the reference capture
 * (shared/vectors/reference-session.txt), round trips, and hostile input:
 * truncation, bad length bytes, wrong magic, per-type sizes, every type with
 * small payloads, and random datagrams.
 *
 * Decoder inputs are copied into heap buffers of exactly the tested length,
 * so `make SAN=1 test-unit` reports any read past the end.  Loops that try
 * thousands of inputs only record a check when an iteration fails (with its
 * context), plus one summary check per loop.
 */
#include "check.h"
#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG 1600 /* larger than any datagram tested here */


/* Decodes a heap copy of exactly n bytes. */
static int decode_exact(const void *src, size_t n, enum proto_role from,
			struct proto_msg *m)
{
	uint8_t *p = test_dup(src, n);
	int r = proto_decode(p, n, from, m);

	free(p);
	return r;
}

static const char *role_name(enum proto_role from)
{
	return from == PROTO_FROM_CLIENT ? "client" : "broker";
}

/* Field-by-field equality (the struct has padding); prints differences. */
static int msg_same(const struct proto_msg *a, const struct proto_msg *b)
{
	int same = 1;

#define FIELD(f)                                                           \
	do {                                                               \
		if (a->f != b->f) {                                        \
			printf("  field " #f ": %lld != %lld\n",           \
			       (long long)a->f, (long long)b->f);          \
			same = 0;                                          \
		}                                                          \
	} while (0)
	FIELD(type);
	FIELD(has_features);
	FIELD(has_tunnel_id);
	FIELD(has_reason);
	FIELD(has_bandwidth);
	FIELD(reason);
	FIELD(limit_type);
	FIELD(uuid_len);
	FIELD(usage);
	FIELD(value);
	FIELD(probe_len);
	FIELD(seq);
	FIELD(tunnel_id);
	FIELD(features);
	FIELD(bandwidth);
#undef FIELD
	if (memcmp(a->cookie, b->cookie, sizeof(a->cookie))) {
		printf("  field cookie differs\n");
		same = 0;
	}
	if (memcmp(a->uuid, b->uuid, sizeof(a->uuid))) {
		printf("  field uuid: \"%s\" != \"%s\"\n", a->uuid, b->uuid);
		same = 0;
	}
	return same;
}

/* A message in canonical form (what decode yields) and its exact bytes. */
struct vec {
	const char *what;
	enum proto_role from;
	struct proto_msg m;
	const char *hex;
};

#define COOKIE_C0 { 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7 }
#define COOKIE_REF { 0x00, 0x00, 0x6e, 0xc3, 0xbb, 0x09, 0x0e, 0xac }
#define UUID_REF "deadbeef-0000-4000-8000-000000000001"

static const struct vec vecs[] = {
	{ "COOKIE request", PROTO_FROM_CLIENT,
	  { .type = PROTO_COOKIE },
	  "8073a701 0108 5858585858585858" },
	{ "COOKIE reply", PROTO_FROM_BROKER,
	  { .type = PROTO_COOKIE, .cookie = COOKIE_REF },
	  "8073a701 0108 00006ec3bb090eac" },
	{ "COOKIE reply ff", PROTO_FROM_BROKER,
	  { .type = PROTO_COOKIE,
	    .cookie = { 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8 } },
	  "8073a701 0108 fffefdfcfbfaf9f8" },
	{ "USAGE request, features 1", PROTO_FROM_CLIENT,
	  { .type = PROTO_USAGE, .has_features = true, .features = 1 },
	  "8073a701 0a0c 5555555555555555 00000001" },
	{ "USAGE request, features 0xfffffffe", PROTO_FROM_CLIENT,
	  { .type = PROTO_USAGE, .has_features = true,
	    .features = 0xfffffffe },
	  "8073a701 0a0c 5555555555555555 fffffffe" },
	{ "USAGE request, no features", PROTO_FROM_CLIENT,
	  { .type = PROTO_USAGE },
	  "8073a701 0a08 5555555555555555" },
	{ "USAGE reply 0", PROTO_FROM_BROKER,
	  { .type = PROTO_USAGE, .usage = 0 },
	  "8073a701 0a02 0000 00000000" },
	{ "USAGE reply 0xffff", PROTO_FROM_BROKER,
	  { .type = PROTO_USAGE, .usage = 0xffff },
	  "8073a701 0a02 ffff 00000000" },
	{ "USAGE reply 0x1234", PROTO_FROM_BROKER,
	  { .type = PROTO_USAGE, .usage = 0x1234 },
	  "8073a701 0a02 1234 00000000" },
	{ "PREPARE uuid abc", PROTO_FROM_CLIENT,
	  { .type = PROTO_PREPARE, .cookie = COOKIE_C0, .uuid_len = 3,
	    .uuid = "abc", .has_tunnel_id = true, .tunnel_id = 1,
	    .has_features = true, .features = 1 },
	  "8073a701 0214 c0c1c2c3c4c5c6c7 03 616263 00000001 00000001" },
	{ "PREPARE empty uuid", PROTO_FROM_CLIENT,
	  { .type = PROTO_PREPARE,
	    .cookie = { 0, 1, 2, 3, 4, 5, 6, 7 }, .uuid_len = 0,
	    .has_tunnel_id = true, .tunnel_id = 0x01020304,
	    .has_features = true, .features = 0 },
	  "8073a701 0211 0001020304050607 00 01020304 00000000" },
	{ "PREPARE reference uuid", PROTO_FROM_CLIENT,
	  { .type = PROTO_PREPARE, .cookie = COOKIE_REF, .uuid_len = 36,
	    .uuid = UUID_REF, .has_tunnel_id = true, .tunnel_id = 1,
	    .has_features = true, .features = 1 },
	  "8073a701 0235 00006ec3bb090eac 24"
	  "64656164626565662d303030302d343030302d383030302d303030303030303030303031"
	  "00000001 00000001" },
	{ "TUNNEL 100 features 1", PROTO_FROM_BROKER,
	  { .type = PROTO_TUNNEL, .tunnel_id = 100, .has_features = true,
	    .features = 1 },
	  "8073a701 0408 00000064 00000001" },
	{ "TUNNEL 100 no features", PROTO_FROM_BROKER,
	  { .type = PROTO_TUNNEL, .tunnel_id = 100 },
	  "8073a701 0404 00000064 0000" },
	{ "TUNNEL high bits", PROTO_FROM_BROKER,
	  { .type = PROTO_TUNNEL, .tunnel_id = 0xfffffffe,
	    .has_features = true, .features = 0x80000001 },
	  "8073a701 0408 fffffffe 80000001" },
	{ "ERROR client shutdown 0x11", PROTO_FROM_CLIENT,
	  { .type = PROTO_ERROR, .has_reason = true,
	    .reason = PROTO_ERR_CLIENT_SHUTDOWN },
	  "8073a701 0301 11 0000000000" },
	{ "ERROR client other request 0x10", PROTO_FROM_CLIENT,
	  { .type = PROTO_ERROR, .has_reason = true,
	    .reason = PROTO_ERR_CLIENT_OTHER_REQUEST },
	  "8073a701 0301 10 0000000000" },
	{ "ERROR client timeout 0x12", PROTO_FROM_CLIENT,
	  { .type = PROTO_ERROR, .has_reason = true,
	    .reason = PROTO_ERR_CLIENT_TIMEOUT },
	  "8073a701 0301 12 0000000000" },
	{ "ERROR client, no reason", PROTO_FROM_CLIENT,
	  { .type = PROTO_ERROR },
	  "8073a701 0300 000000000000" },
	{ "ERROR broker L=0", PROTO_FROM_BROKER,
	  { .type = PROTO_ERROR },
	  "8073a701 0300 000000000000" },
	{ "ERROR broker other request 0x01", PROTO_FROM_BROKER,
	  { .type = PROTO_ERROR, .has_reason = true,
	    .reason = PROTO_ERR_BROKER_OTHER_REQUEST },
	  "8073a701 0301 01 0000000000" },
	{ "ERROR broker shutdown 0x02", PROTO_FROM_BROKER,
	  { .type = PROTO_ERROR, .has_reason = true,
	    .reason = PROTO_ERR_BROKER_SHUTDOWN },
	  "8073a701 0301 02 0000000000" },
	{ "KEEPALIVE client seq 7", PROTO_FROM_CLIENT,
	  { .type = PROTO_KEEPALIVE, .seq = 7 },
	  "8073a701 0504 00000007 0000" },
	{ "KEEPALIVE client seq 0xfffffffe", PROTO_FROM_CLIENT,
	  { .type = PROTO_KEEPALIVE, .seq = 0xfffffffe },
	  "8073a701 0504 fffffffe 0000" },
	{ "KEEPALIVE broker seq 7", PROTO_FROM_BROKER,
	  { .type = PROTO_KEEPALIVE, .seq = 7 },
	  "8073a701 0502 0007 00000000" },
	{ "KEEPALIVE broker seq 0xffff", PROTO_FROM_BROKER,
	  { .type = PROTO_KEEPALIVE, .seq = 0xffff },
	  "8073a701 0502 ffff 00000000" },
	{ "PMTUD_ACK client 1472", PROTO_FROM_CLIENT,
	  { .type = PROTO_PMTUD_ACK, .value = 1472 },
	  "8073a701 0702 05c0 00000000" },
	{ "PMTUD_ACK broker 1306", PROTO_FROM_BROKER,
	  { .type = PROTO_PMTUD_ACK, .value = 1306 },
	  "8073a701 0702 051a 00000000" },
	{ "PMTU_NTFY client 1446", PROTO_FROM_CLIENT,
	  { .type = PROTO_PMTU_NTFY, .value = 1446 },
	  "8073a701 0902 05a6 00000000" },
	{ "PMTU_NTFY broker 1280", PROTO_FROM_BROKER,
	  { .type = PROTO_PMTU_NTFY, .value = 1280 },
	  "8073a701 0902 0500 00000000" },
	{ "REL_ACK seq 0", PROTO_FROM_BROKER,
	  { .type = PROTO_REL_ACK, .seq = 0 },
	  "8073a701 0802 0000 00000000" },
	{ "REL_ACK seq 0xbeef", PROTO_FROM_BROKER,
	  { .type = PROTO_REL_ACK, .seq = 0xbeef },
	  "8073a701 0802 beef 00000000" },
	{ "LIMIT seq 0 102400 kbit/s", PROTO_FROM_CLIENT,
	  { .type = PROTO_LIMIT, .seq = 0,
	    .limit_type = PROTO_LIMIT_BANDWIDTH_DOWN, .has_bandwidth = true,
	    .bandwidth = 102400 },
	  "8073a701 8008 0000 01 04 00019000" },
	{ "LIMIT seq 0xfffe max", PROTO_FROM_CLIENT,
	  { .type = PROTO_LIMIT, .seq = 0xfffe,
	    .limit_type = PROTO_LIMIT_BANDWIDTH_DOWN, .has_bandwidth = true,
	    .bandwidth = 0xffffffff },
	  "8073a701 8008 fffe 01 04 ffffffff" },
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

/* Every valid message tested: vecs, the six probes per role, a PREPARE
 * with the longest uuid. */
struct sample {
	char what[64];
	enum proto_role from;
	struct proto_msg m;
	uint8_t bytes[BIG];
	size_t len;
};

#define NSAMPLES (NVECS + 2 * PROTO_PROBE_COUNT + 1)
static struct sample samples[NSAMPLES];
static size_t nsamples;

static void probe_bytes(uint8_t *out, size_t len)
{
	static const uint8_t hdr[6] = { 0x80, 0x73, 0xa7, 0x01, 0x06, 0x00 };

	memset(out, 0, len);
	memcpy(out, hdr, sizeof(hdr));
}

static void longest_prepare(struct proto_msg *m, uint8_t *bytes, size_t *len)
{
	static const uint8_t cookie[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };

	memset(m, 0, sizeof(*m));
	m->type = PROTO_PREPARE;
	memcpy(m->cookie, cookie, sizeof(cookie));
	m->uuid_len = PROTO_UUID_MAX;
	for (size_t i = 0; i < PROTO_UUID_MAX; i++)
		m->uuid[i] = (char)('a' + i % 26);
	m->has_tunnel_id = true;
	m->tunnel_id = 0x11223344;
	m->has_features = true;
	m->features = 0x55667788;

	/* 6 header + 8 cookie + 1 + 238 + 4 + 4 = 261, length byte 255 */
	static const uint8_t tail[8] = { 0x11, 0x22, 0x33, 0x44,
					 0x55, 0x66, 0x77, 0x88 };
	static const uint8_t hdr[6] = { 0x80, 0x73, 0xa7, 0x01, 0x02, 0xff };
	size_t n = 0;

	memcpy(bytes + n, hdr, 6);
	n += 6;
	memcpy(bytes + n, cookie, 8);
	n += 8;
	bytes[n++] = PROTO_UUID_MAX;
	memcpy(bytes + n, m->uuid, PROTO_UUID_MAX);
	n += PROTO_UUID_MAX;
	memcpy(bytes + n, tail, 8);
	n += 8;
	*len = n;
}

static void build_samples(void)
{
	struct sample *s;

	if (nsamples)
		return;
	for (size_t i = 0; i < NVECS; i++) {
		s = &samples[nsamples++];
		snprintf(s->what, sizeof(s->what), "%s", vecs[i].what);
		s->from = vecs[i].from;
		s->m = vecs[i].m;
		s->len = test_hex(vecs[i].hex, s->bytes, sizeof(s->bytes));
	}
	for (int r = 0; r < 2; r++) {
		for (size_t i = 0; i < PROTO_PROBE_COUNT; i++) {
			s = &samples[nsamples++];
			s->from = r ? PROTO_FROM_BROKER : PROTO_FROM_CLIENT;
			s->len = proto_probe_sizes[i] - PROTO_PROBE_OVERHEAD;
			snprintf(s->what, sizeof(s->what), "PMTUD %s %zu",
				 role_name(s->from), s->len);
			memset(&s->m, 0, sizeof(s->m));
			s->m.type = PROTO_PMTUD;
			s->m.probe_len = (uint16_t)s->len;
			probe_bytes(s->bytes, s->len);
		}
	}
	s = &samples[nsamples++];
	snprintf(s->what, sizeof(s->what), "PREPARE uuid of %d bytes",
		 PROTO_UUID_MAX);
	s->from = PROTO_FROM_CLIENT;
	longest_prepare(&s->m, s->bytes, &s->len);
	REQUIRE(nsamples == NSAMPLES);
}

/* Payload length L of a valid sample (0 for probes). */
static size_t sample_payload(const struct sample *s)
{
	return s->bytes[5];
}

SUITE(proto_encode)
{
	build_samples();
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		uint8_t buf[BIG + 32];
		ssize_t r;
		size_t k;

		/* Garbage first: padding must be written as zeros. */
		memset(buf, 0xa5, sizeof(buf));
		r = proto_encode(buf, sizeof(buf), s->from, &s->m);
		if (!CHECK_EQ(r, (ssize_t)s->len))
			printf("  at: %s\n", s->what);
		if (r > 0) {
			if (!CHECK_MEM(buf, (size_t)r, s->bytes, s->len))
				printf("  at: %s\n", s->what);
			for (k = (size_t)r; k < sizeof(buf) && buf[k] == 0xa5; k++)
				;
			CHECK_EQ(k, sizeof(buf));
		}
		/* Non-probe datagrams are padded to at least 12 bytes. */
		if (s->m.type != PROTO_PMTUD)
			CHECK(r >= PROTO_MIN_DGRAM);

		/* Exactly enough room, in a heap buffer of that size. */
		uint8_t *h = malloc(s->len);
		REQUIRE(h != NULL);
		memset(h, 0x5a, s->len);
		r = proto_encode(h, s->len, s->from, &s->m);
		CHECK_EQ(r, (ssize_t)s->len);
		CHECK_MEM(h, s->len, s->bytes, s->len);
		free(h);

		/* Every cap below the size: -ENOSPC, nothing past cap. */
		int fails = 0;
		for (size_t cap = 0; cap < s->len; cap++) {
			memset(buf, 0xa5, sizeof(buf));
			r = proto_encode(buf, cap, s->from, &s->m);
			SWEEP_CHECK(fails, r == -ENOSPC, "%s cap %zu: %zd",
				    s->what, cap, r);
			for (k = cap; k < sizeof(buf) && buf[k] == 0xa5; k++)
				;
			SWEEP_CHECK(fails, k == sizeof(buf),
				    "%s cap %zu wrote byte %zu", s->what, cap,
				    k);
			uint8_t *e = malloc(cap ? cap : 1);
			REQUIRE(e != NULL);
			r = proto_encode(e, cap, s->from, &s->m);
			SWEEP_CHECK(fails, r == -ENOSPC, "%s heap cap %zu: %zd",
				    s->what, cap, r);
			free(e);
		}
		if (!CHECK_EQ(fails, 0))
			printf("  at: %s\n", s->what);
	}
}

SUITE(proto_encode_special)
{
	struct proto_msg m;
	uint8_t buf[BIG], want[BIG];
	size_t wn;
	ssize_t r;

	/* A broker KEEPALIVE carries only the low 16 bits of seq. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_KEEPALIVE;
	m.seq = 0x12345;
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m);
	wn = test_hex("8073a701 0502 2345 00000000", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* REL_ACK likewise echoes a u16. */
	m.type = PROTO_REL_ACK;
	m.seq = 0x10001;
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m);
	wn = test_hex("8073a701 0802 0001 00000000", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* TUNNEL omits features when they are zero, whatever has_features. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_TUNNEL;
	m.tunnel_id = 100;
	m.has_features = true;
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m);
	wn = test_hex("8073a701 0404 00000064 0000", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* A COOKIE request never carries the cookie field. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_COOKIE;
	memset(m.cookie, 0x77, sizeof(m.cookie));
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m);
	wn = test_hex("8073a701 0108 5858585858585858", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* USAGE request without has_features ignores the features value. */
	memset(&m, 0, sizeof(m));
	m.type = PROTO_USAGE;
	m.features = 1;
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m);
	wn = test_hex("8073a701 0a08 5555555555555555", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* Probes: length byte 0, zero filler, exactly size - 28 bytes. */
	for (size_t i = 0; i < PROTO_PROBE_COUNT; i++) {
		size_t len = proto_probe_sizes[i] - PROTO_PROBE_OVERHEAD;
		size_t nz = 0;

		memset(&m, 0, sizeof(m));
		m.type = PROTO_PMTUD;
		m.probe_len = (uint16_t)len;
		memset(buf, 0xee, sizeof(buf));
		r = proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m);
		CHECK_EQ(r, (ssize_t)len);
		CHECK_EQ(buf[5], 0);
		for (size_t k = PROTO_HDR_LEN; k < len; k++)
			nz += buf[k] != 0;
		CHECK_EQ(nz, 0);
		CHECK_EQ(buf[len], 0xee);
	}
	static const uint16_t sizes[PROTO_PROBE_COUNT] = {
		1334, 1400, 1450, 1476, 1492, 1500,
	};
	CHECK_MEM(proto_probe_sizes, sizeof(proto_probe_sizes), sizes,
		  sizeof(sizes));
	/* Smallest possible probe: just the header. */
	m.probe_len = PROTO_HDR_LEN;
	r = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m);
	wn = test_hex("8073a701 0600", want, sizeof(want));
	CHECK_MEM(buf, r > 0 ? (size_t)r : 0, want, wn);

	/* -EINVAL: unrepresentable messages and types a role never sends. */
	for (unsigned n = PROTO_UUID_MAX + 1; n <= 255; n++) {
		memset(&m, 0, sizeof(m));
		m.type = PROTO_PREPARE;
		m.uuid_len = (uint8_t)n;
		memset(m.uuid, 'u', PROTO_UUID_MAX);
		r = proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m);
		if (!CHECK_EQ(r, -EINVAL))
			printf("  at: uuid_len %u\n", n);
	}
	memset(&m, 0, sizeof(m));
	m.type = PROTO_TUNNEL;
	m.tunnel_id = 1;
	CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m), -EINVAL);
	m.type = PROTO_PREPARE;
	CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m), -EINVAL);
	m.type = PROTO_REL_ACK;
	CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m), -EINVAL);
	m.type = PROTO_LIMIT;
	m.bandwidth = 1000;
	CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m), -EINVAL);
	/* -EINVAL wins over -ENOSPC. */
	CHECK_EQ(proto_encode(buf, 0, PROTO_FROM_BROKER, &m), -EINVAL);
	static const uint8_t unknown[] = { 0x00, 0x0b, 0x0c, 0x7f, 0x81, 0xfe,
					   0xff };
	for (size_t i = 0; i < sizeof(unknown); i++) {
		memset(&m, 0, sizeof(m));
		m.type = unknown[i];
		CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m),
			 -EINVAL);
		CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m),
			 -EINVAL);
	}
	memset(&m, 0, sizeof(m));
	m.type = PROTO_PMTUD;
	for (uint16_t n = 0; n < PROTO_HDR_LEN; n++) {
		m.probe_len = n;
		CHECK_EQ(proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, &m),
			 -EINVAL);
	}
}

SUITE(proto_roundtrip)
{
	build_samples();

	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		uint8_t buf[BIG];
		struct proto_msg d;
		ssize_t r;
		int dr;

		r = proto_encode(buf, sizeof(buf), s->from, &s->m);
		CHECK_EQ(r, (ssize_t)s->len);
		if (r <= 0)
			continue;
		dr = decode_exact(buf, (size_t)r, s->from, &d);
		if (!CHECK_EQ(dr, 0) || !CHECK(msg_same(&d, &s->m)))
			printf("  at: %s\n", s->what);
	}
}

/* Distinct datagrams of the reference capture and their meaning. */
struct capture {
	enum proto_role from;
	const char *hex;  /* whole datagram, or a probe's header */
	size_t probe_len; /* probes: datagram length, zero filler after hex */
	struct proto_msg m;
};

#define C_ PROTO_FROM_CLIENT
#define B_ PROTO_FROM_BROKER
#define PROBE(from, n)                                                \
	{ from, "8073a7010600", n,                                    \
	  { .type = PROTO_PMTUD, .probe_len = n } }
#define KA(from, hex, s) { from, hex, 0, { .type = PROTO_KEEPALIVE, .seq = s } }
#define ACK(hex, v) { B_, hex, 0, { .type = PROTO_PMTUD_ACK, .value = v } }

static const struct capture capture[] = {
	{ C_, "8073a7010a0c555555555555555500000001", 0,
	  { .type = PROTO_USAGE, .has_features = true, .features = 1 } },
	{ B_, "8073a7010a02000000000000", 0,
	  { .type = PROTO_USAGE, .usage = 0 } },
	{ C_, "8073a70101085858585858585858", 0, { .type = PROTO_COOKIE } },
	{ B_, "8073a701010800006ec3bb090eac", 0,
	  { .type = PROTO_COOKIE, .cookie = COOKIE_REF } },
	{ C_, "8073a701023500006ec3bb090eac2464656164626565662d303030302d343030"
	      "302d383030302d3030303030303030303030310000000100000001", 0,
	  { .type = PROTO_PREPARE, .cookie = COOKIE_REF, .uuid_len = 36,
	    .uuid = UUID_REF, .has_tunnel_id = true, .tunnel_id = 1,
	    .has_features = true, .features = 1 } },
	{ B_, "8073a70104080000006400000001", 0,
	  { .type = PROTO_TUNNEL, .tunnel_id = 100, .has_features = true,
	    .features = 1 } },
	/* the reference client pads with whatever was in its buffer */
	KA(C_, "8073a7010504000000005858", 0),
	PROBE(B_, 1472),
	{ C_, "8073a701070205c000000000", 0,
	  { .type = PROTO_PMTUD_ACK, .value = 1472 } },
	{ B_, "8073a701090205a600000000", 0,
	  { .type = PROTO_PMTU_NTFY, .value = 1446 } },
	KA(C_, "8073a7010504000000010000", 1),
	KA(B_, "8073a7010502000000000000", 0),
	PROBE(C_, 1306),
	PROBE(C_, 1372),
	PROBE(C_, 1422),
	PROBE(C_, 1448),
	PROBE(C_, 1464),
	PROBE(C_, 1472),
	ACK("8073a7010702051a00000000", 1306),
	ACK("8073a7010702055c00000000", 1372),
	ACK("8073a7010702058e00000000", 1422),
	ACK("8073a701070205a800000000", 1448),
	ACK("8073a701070205b800000000", 1464),
	ACK("8073a701070205c000000000", 1472),
	KA(B_, "8073a7010502000100000000", 1),
	KA(C_, "8073a7010504000000020000", 2),
	{ C_, "8073a701090205a65887ecb8", 0,
	  { .type = PROTO_PMTU_NTFY, .value = 1446 } },
	KA(B_, "8073a7010502000200000000", 2),
	KA(C_, "8073a701050400000003ecb8", 3),
	KA(B_, "8073a7010502000300000000", 3),
	KA(C_, "8073a701050400000004ecb8", 4),
	KA(B_, "8073a7010502000400000000", 4),
	{ C_, "8073a7010301110000000000", 0,
	  { .type = PROTO_ERROR, .has_reason = true, .reason = 0x11 } },
	{ B_, "8073a7010301010000000000", 0,
	  { .type = PROTO_ERROR, .has_reason = true, .reason = 0x01 } },
};

#undef C_
#undef B_
#undef PROBE
#undef KA
#undef ACK

SUITE(proto_capture)
{
	size_t nclient = 0, nbroker = 0;

	for (size_t i = 0; i < sizeof(capture) / sizeof(capture[0]); i++) {
		const struct capture *c = &capture[i];
		uint8_t dg[BIG], want[BIG], out[BIG];
		struct proto_msg d;
		size_t n, hn;
		ssize_t r;

		hn = test_hex(c->hex, dg, sizeof(dg));
		n = hn;
		if (c->probe_len) {
			memset(dg + hn, 0, c->probe_len - hn);
			n = c->probe_len;
		}
		if (!CHECK_EQ(decode_exact(dg, n, c->from, &d), 0) ||
		    !CHECK(msg_same(&d, &c->m)))
			printf("  at: capture %zu (%s)\n", i, c->hex);

		/* Our encoder sends the same bytes, with zero padding
		 * instead of the reference client's garbage. */
		memcpy(want, dg, n);
		if (c->m.type != PROTO_PMTUD)
			memset(want + PROTO_HDR_LEN + dg[5], 0,
			       n - PROTO_HDR_LEN - dg[5]);
		r = proto_encode(out, sizeof(out), c->from, &c->m);
		if (!CHECK_MEM(out, r > 0 ? (size_t)r : 0, want, n))
			printf("  at: capture %zu (%s)\n", i, c->hex);
		/* The broker itself pads with zeros (a fact of the capture). */
		if (c->from == PROTO_FROM_BROKER)
			REQUIRE(!memcmp(want, dg, n));
		if (c->from == PROTO_FROM_CLIENT)
			nclient++;
		else
			nbroker++;
	}
	REQUIRE(nclient == 17 && nbroker == 17);

	/* The broker's PMTUD_ACKs echo the client's probe sizes - 28, and
	 * PMTU_NTFY 1446 is a 1500 path net of the tunnel overhead. */
	for (size_t i = 0; i < PROTO_PROBE_COUNT; i++) {
		const struct capture *c = &capture[18 + i];

		REQUIRE(c->m.type == PROTO_PMTUD_ACK &&
			capture[12 + i].m.probe_len == c->m.value);
		CHECK_EQ(c->m.value,
			 proto_probe_sizes[i] - PROTO_PROBE_OVERHEAD);
	}
}
_Static_assert(1500 - PROTO_TUNNEL_OVERHEAD == 1446,
	       "PMTU_NTFY 1446 is a 1500 path net of the tunnel overhead");

/* Truncation, over-length, trailing bytes, wrong magic/version. */
SUITE(proto_framing)
{
	build_samples();

	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		size_t L = sample_payload(s), end = PROTO_HDR_LEN + L;
		struct proto_msg d;
		uint8_t buf[BIG + 300];
		int fails = 0, r;

		/* Every truncation: bad header, short payload, or (cutting
		 * only padding) the same message. */
		for (size_t k = 0; k < s->len; k++) {
			r = decode_exact(s->bytes, k, s->from, &d);
			if (k < PROTO_HDR_LEN) {
				SWEEP_CHECK(fails, r == -EBADMSG,
					    "%s truncated to %zu: %d", s->what,
					    k, r);
			} else if (k < end) {
				SWEEP_CHECK(fails, r == -EMSGSIZE,
					    "%s truncated to %zu: %d", s->what,
					    k, r);
			} else if (s->m.type == PROTO_PMTUD) {
				/* a shorter probe is a smaller probe */
				SWEEP_CHECK(fails, r == 0 &&
					    d.type == PROTO_PMTUD &&
					    d.probe_len == k,
					    "%s truncated to %zu: %d", s->what,
					    k, r);
			} else {
				SWEEP_CHECK(fails, r == 0 && msg_same(&d, &s->m),
					    "%s truncated to %zu: %d", s->what,
					    k, r);
			}
		}

		/* A length byte beyond the datagram. */
		memcpy(buf, s->bytes, s->len);
		for (unsigned l = (unsigned)(s->len - PROTO_HDR_LEN) + 1;
		     l <= 255; l++) {
			buf[5] = (uint8_t)l;
			r = decode_exact(buf, s->len, s->from, &d);
			SWEEP_CHECK(fails, r == -EMSGSIZE,
				    "%s length byte %u: %d", s->what, l, r);
		}

		/* Trailing bytes after the payload are padding. */
		if (s->m.type != PROTO_PMTUD) {
			static const size_t extra[] = { 1, 3, 4, 100, 300 };
			for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]);
			     e++) {
				memcpy(buf, s->bytes, s->len);
				memset(buf + s->len, 0xff ^ (int)e, extra[e]);
				r = decode_exact(buf, s->len + extra[e], s->from,
						 &d);
				SWEEP_CHECK(fails, r == 0 && msg_same(&d, &s->m),
					    "%s + %zu bytes: %d", s->what,
					    extra[e], r);
				/* garbage in the existing padding too */
				memset(buf + end, 0x58, s->len - end);
				r = decode_exact(buf, s->len + extra[e], s->from,
						 &d);
				SWEEP_CHECK(fails, r == 0 && msg_same(&d, &s->m),
					    "%s garbage padding: %d", s->what,
					    r);
			}
		}

		/* Any change in the magic or version. */
		for (size_t pos = 0; pos < 4; pos++) {
			for (unsigned v = 0; v < 256; v++) {
				if (v == s->bytes[pos])
					continue;
				memcpy(buf, s->bytes, s->len);
				buf[pos] = (uint8_t)v;
				r = decode_exact(buf, s->len, s->from, &d);
				SWEEP_CHECK(fails, r == -EBADMSG,
					    "%s byte %zu = %02x: %d", s->what,
					    pos, v, r);
			}
		}
		if (!CHECK_EQ(fails, 0))
			printf("  at: %s\n", s->what);
	}
}

/* Hand-written malformed or unusual datagrams. */
struct odd {
	enum proto_role from;
	const char *hex;
	int want;
	const char *what;
};

static const struct odd odds[] = {
	/* framing */
	{ PROTO_FROM_BROKER, "", -EBADMSG, "empty" },
	{ PROTO_FROM_BROKER, "8073a70105", -EBADMSG, "5 bytes" },
	{ PROTO_FROM_BROKER, "8073a70203000000000000", -EBADMSG, "version 2" },
	{ PROTO_FROM_BROKER, "8073a70003000000000000", -EBADMSG, "version 0" },
	{ PROTO_FROM_BROKER, "0073a70103000000000000", -EBADMSG, "magic1" },
	{ PROTO_FROM_BROKER, "80a77301030000000000", -EBADMSG, "magic2 swapped" },
	{ PROTO_FROM_CLIENT, "8073a7010300", 0, "bare 6-byte ERROR" },
	{ PROTO_FROM_CLIENT, "8073a701050500000000", -EMSGSIZE,
	  "length 5 with 4 payload bytes" },
	{ PROTO_FROM_BROKER, "8073a70104ff00000064", -EMSGSIZE,
	  "length 255 in 10 bytes" },
	/* COOKIE: reply exactly 8, request at least 8 */
	{ PROTO_FROM_BROKER, "8073a7010107 00000000000000", -EMSGSIZE,
	  "COOKIE reply 7" },
	{ PROTO_FROM_BROKER, "8073a7010109 000000000000000000", -EMSGSIZE,
	  "COOKIE reply 9" },
	{ PROTO_FROM_BROKER, "8073a7010100 000000000000", -EMSGSIZE,
	  "COOKIE reply 0" },
	{ PROTO_FROM_CLIENT, "8073a7010107 58585858585858", -EMSGSIZE,
	  "COOKIE request 7" },
	{ PROTO_FROM_CLIENT, "8073a7010109 585858585858585858", 0,
	  "COOKIE request 9" },
	/* USAGE: reply exactly 2, request 8 or 12 */
	{ PROTO_FROM_BROKER, "8073a7010a00 000000000000", -EMSGSIZE,
	  "USAGE reply 0" },
	{ PROTO_FROM_BROKER, "8073a7010a01 000000000000", -EMSGSIZE,
	  "USAGE reply 1" },
	{ PROTO_FROM_BROKER, "8073a7010a03 000000000000", -EMSGSIZE,
	  "USAGE reply 3" },
	{ PROTO_FROM_BROKER, "8073a7010a04 000000000000", -EMSGSIZE,
	  "USAGE reply 4" },
	{ PROTO_FROM_CLIENT, "8073a7010a07 55555555555555", -EMSGSIZE,
	  "USAGE request 7" },
	{ PROTO_FROM_CLIENT, "8073a7010a09 555555555555555500", -EMSGSIZE,
	  "USAGE request 9" },
	{ PROTO_FROM_CLIENT, "8073a7010a0b 5555555555555555000000", -EMSGSIZE,
	  "USAGE request 11" },
	{ PROTO_FROM_CLIENT, "8073a7010a0d 55555555555555550000000100",
	  -EMSGSIZE, "USAGE request 13" },
	/* TUNNEL: 4 or 8 */
	{ PROTO_FROM_BROKER, "8073a7010400 000000000000", -EMSGSIZE,
	  "TUNNEL 0" },
	{ PROTO_FROM_BROKER, "8073a7010403 000000000000", -EMSGSIZE,
	  "TUNNEL 3" },
	{ PROTO_FROM_BROKER, "8073a7010405 000000640000", -EMSGSIZE,
	  "TUNNEL 5" },
	{ PROTO_FROM_BROKER, "8073a7010407 00000064000000", -EMSGSIZE,
	  "TUNNEL 7" },
	{ PROTO_FROM_BROKER, "8073a7010409 000000640000000100", -EMSGSIZE,
	  "TUNNEL 9" },
	/* two-byte messages */
	{ PROTO_FROM_BROKER, "8073a7010701 050000000000", -EMSGSIZE,
	  "PMTUD_ACK 1" },
	{ PROTO_FROM_CLIENT, "8073a7010703 05c000000000", -EMSGSIZE,
	  "PMTUD_ACK 3" },
	{ PROTO_FROM_CLIENT, "8073a7010700 000000000000", -EMSGSIZE,
	  "PMTUD_ACK 0" },
	{ PROTO_FROM_BROKER, "8073a7010904 05a600000000", -EMSGSIZE,
	  "PMTU_NTFY 4" },
	{ PROTO_FROM_CLIENT, "8073a7010901 050000000000", -EMSGSIZE,
	  "PMTU_NTFY 1" },
	{ PROTO_FROM_BROKER, "8073a7010801 000000000000", -EMSGSIZE,
	  "REL_ACK 1" },
	{ PROTO_FROM_BROKER, "8073a7010803 000000000000", -EMSGSIZE,
	  "REL_ACK 3" },
	/* ERROR 0 or 1 */
	{ PROTO_FROM_BROKER, "8073a7010302 010000000000", -EMSGSIZE,
	  "ERROR 2 from broker" },
	{ PROTO_FROM_CLIENT, "8073a7010302 110000000000", -EMSGSIZE,
	  "ERROR 2 from client" },
	/* PMTUD length byte 0 */
	{ PROTO_FROM_BROKER, "8073a7010601 000000000000", -EMSGSIZE,
	  "PMTUD length 1" },
	{ PROTO_FROM_CLIENT, "8073a7010602 000000000000", -EMSGSIZE,
	  "PMTUD length 2" },
	/* KEEPALIVE: any length */
	{ PROTO_FROM_BROKER, "8073a7010500 000000000000", 0, "KEEPALIVE 0" },
	{ PROTO_FROM_BROKER, "8073a7010501 070000000000", 0, "KEEPALIVE 1" },
	{ PROTO_FROM_CLIENT, "8073a7010506 000000070000", 0, "KEEPALIVE 6" },
	/* PREPARE */
	{ PROTO_FROM_CLIENT, "8073a7010208 c0c1c2c3c4c5c6c7", -EMSGSIZE,
	  "PREPARE without uuid length" },
	{ PROTO_FROM_CLIENT, "8073a701020b c0c1c2c3c4c5c6c7 05 6162",
	  -EMSGSIZE, "PREPARE uuid cut" },
	{ PROTO_FROM_CLIENT, "8073a701020c c0c1c2c3c4c5c6c7 03 616263", 0,
	  "PREPARE without tunnel id" },
	{ PROTO_FROM_CLIENT, "8073a701020d c0c1c2c3c4c5c6c7 03 616263 00",
	  -EMSGSIZE, "PREPARE 1 byte of tunnel id" },
	{ PROTO_FROM_CLIENT, "8073a701020f c0c1c2c3c4c5c6c7 03 616263 000000",
	  -EMSGSIZE, "PREPARE 3 bytes of tunnel id" },
	{ PROTO_FROM_CLIENT, "8073a7010210 c0c1c2c3c4c5c6c7 03 616263 00000001",
	  0, "PREPARE without features" },
	{ PROTO_FROM_CLIENT,
	  "8073a7010211 c0c1c2c3c4c5c6c7 03 616263 00000001 00", -EMSGSIZE,
	  "PREPARE 1 byte of features" },
	{ PROTO_FROM_CLIENT,
	  "8073a7010213 c0c1c2c3c4c5c6c7 03 616263 00000001 000000",
	  -EMSGSIZE, "PREPARE 3 bytes of features" },
	{ PROTO_FROM_CLIENT,
	  "8073a7010215 c0c1c2c3c4c5c6c7 03 616263 00000001 00000001 00",
	  -EMSGSIZE, "PREPARE 1 byte too many" },
	/* LIMIT */
	{ PROTO_FROM_CLIENT, "8073a7018003 000001000000", -EMSGSIZE,
	  "LIMIT 3" },
	{ PROTO_FROM_CLIENT, "8073a7018008 0000 01 03 00019000", -EMSGSIZE,
	  "LIMIT config length 3" },
	{ PROTO_FROM_CLIENT, "8073a7018008 0000 01 05 00019000", -EMSGSIZE,
	  "LIMIT config length 5" },
	{ PROTO_FROM_CLIENT, "8073a7018009 0000 01 04 0001900000", -EMSGSIZE,
	  "LIMIT 9 with config length 4" },
	{ PROTO_FROM_CLIENT, "8073a7018004 0007 02 00 0000", 0,
	  "LIMIT without config" },
	/* types a role never sends, unknown types */
	{ PROTO_FROM_CLIENT, "8073a70104080000006400000001", -ENOMSG,
	  "TUNNEL from client" },
	{ PROTO_FROM_BROKER,
	  "8073a7010214 c0c1c2c3c4c5c6c7 03 616263 00000001 00000001",
	  -ENOMSG, "PREPARE from broker" },
	{ PROTO_FROM_CLIENT, "8073a7010802 000000000000", -ENOMSG,
	  "REL_ACK from client" },
	{ PROTO_FROM_BROKER, "8073a70180080000010400019000", -ENOMSG,
	  "LIMIT from broker" },
	{ PROTO_FROM_CLIENT, "8073a7010000 000000000000", -ENOMSG, "type 0" },
	{ PROTO_FROM_BROKER, "8073a7010000 000000000000", -ENOMSG, "type 0" },
	{ PROTO_FROM_CLIENT, "8073a7010b02 000000000000", -ENOMSG, "type 0x0b" },
	{ PROTO_FROM_BROKER, "8073a7017f00 000000000000", -ENOMSG, "type 0x7f" },
	{ PROTO_FROM_CLIENT, "8073a7018102 000000000000", -ENOMSG, "type 0x81" },
	{ PROTO_FROM_BROKER, "8073a701ff00 000000000000", -ENOMSG, "type 0xff" },
};

SUITE(proto_decode_odd)
{
	struct proto_msg d;
	uint8_t buf[300];

	for (size_t i = 0; i < sizeof(odds) / sizeof(odds[0]); i++) {
		size_t n = test_hex(odds[i].hex, buf, sizeof(buf));
		int r = decode_exact(buf, n, odds[i].from, &d);

		if (!CHECK_EQ(r, odds[i].want))
			printf("  at: %s (%s)\n", odds[i].what,
			       role_name(odds[i].from));
	}

	/* The fields of the accepted odd ones. */
	size_t n = test_hex("8073a701020c c0c1c2c3c4c5c6c7 03 616263", buf,
			    sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), 0);
	CHECK_EQ(d.uuid_len, 3);
	CHECK(!strcmp(d.uuid, "abc"));
	CHECK(!d.has_tunnel_id);
	CHECK(!d.has_features);

	n = test_hex("8073a7010210 c0c1c2c3c4c5c6c7 03 616263 00000009", buf,
		     sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), 0);
	CHECK(d.has_tunnel_id);
	CHECK_EQ(d.tunnel_id, 9);
	CHECK(!d.has_features);

	n = test_hex("8073a7018004 0007 02 00 0000", buf, sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), 0);
	CHECK_EQ(d.type, PROTO_LIMIT);
	CHECK_EQ(d.seq, 7);
	CHECK_EQ(d.limit_type, 2);
	CHECK(!d.has_bandwidth);

	n = test_hex("8073a7010501 070000000000", buf, sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_BROKER, &d), 0);
	CHECK_EQ(d.seq, 0);
	n = test_hex("8073a7010503 000700000000", buf, sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_BROKER, &d), 0);
	CHECK_EQ(d.seq, 7);

	n = test_hex("8073a7010300", buf, sizeof(buf));
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_BROKER, &d), 0);
	CHECK_EQ(d.type, PROTO_ERROR);
	CHECK(!d.has_reason);

	/* PREPARE with a uuid length byte over the maximum, even though the
	 * bytes are present. */
	memset(buf, 0, sizeof(buf));
	(void)test_hex("8073a70102f8 c0c1c2c3c4c5c6c7 ef", buf, sizeof(buf));
	n = PROTO_HDR_LEN + 0xf8;
	memset(buf + 15, 'u', PROTO_UUID_MAX + 1);
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), -EMSGSIZE);
	buf[14] = PROTO_UUID_MAX; /* 9 + 238 + 1 stray byte */
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), -EMSGSIZE);
	buf[5] = 9 + PROTO_UUID_MAX;
	n = PROTO_HDR_LEN + 9 + PROTO_UUID_MAX;
	CHECK_EQ(decode_exact(buf, n, PROTO_FROM_CLIENT, &d), 0);
	CHECK_EQ(d.uuid_len, PROTO_UUID_MAX);
	CHECK_EQ(strlen(d.uuid), PROTO_UUID_MAX);

	/* A probe as long as the receive buffer. */
	uint8_t *big = calloc(1, PROTO_MAX_DGRAM);
	REQUIRE(big != NULL);
	probe_bytes(big, PROTO_MAX_DGRAM);
	CHECK_EQ(decode_exact(big, PROTO_MAX_DGRAM, PROTO_FROM_BROKER, &d), 0);
	CHECK_EQ(d.probe_len, PROTO_MAX_DGRAM);
	free(big);
}

/* What decode returns for a datagram of exactly 6 + L bytes whose payload
 * is all zeros (written from PROTOCOL.md sections 1 and 2). */
static int spec_zero_payload(uint8_t type, enum proto_role from, size_t L)
{
	switch (type) {
	case PROTO_ERROR:
		return L <= 1 ? 0 : -EMSGSIZE;
	case PROTO_KEEPALIVE:
		return 0;
	case PROTO_PMTUD:
		return L == 0 ? 0 : -EMSGSIZE;
	case PROTO_PMTUD_ACK:
	case PROTO_PMTU_NTFY:
		return L == 2 ? 0 : -EMSGSIZE;
	}
	if (from == PROTO_FROM_CLIENT) {
		switch (type) {
		case PROTO_COOKIE:
			return L >= 8 ? 0 : -EMSGSIZE;
		case PROTO_USAGE:
			return L == 8 || L == 12 ? 0 : -EMSGSIZE;
		case PROTO_PREPARE: /* uuid length 0 */
			return L == 9 || L == 13 || L == 17 ? 0 : -EMSGSIZE;
		case PROTO_LIMIT: /* config length 0 */
			return L == 4 ? 0 : -EMSGSIZE;
		}
		return -ENOMSG;
	}
	switch (type) {
	case PROTO_COOKIE:
		return L == 8 ? 0 : -EMSGSIZE;
	case PROTO_USAGE:
	case PROTO_REL_ACK:
		return L == 2 ? 0 : -EMSGSIZE;
	case PROTO_TUNNEL:
		return L == 4 || L == 8 ? 0 : -EMSGSIZE;
	}
	return -ENOMSG;
}

static uint32_t rng_state = 0x2545f491;

static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static int allowed(int r)
{
	return r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMSG;
}

/* Every type, both roles, payload lengths 0..20, several payload
 * patterns, in exact-size heap buffers. */
SUITE(proto_sweep)
{
	int fails = 0;
	unsigned tried = 0;

	for (unsigned t = 0; t < 256; t++) {
		for (int role = 0; role < 2; role++) {
			enum proto_role from =
				role ? PROTO_FROM_BROKER : PROTO_FROM_CLIENT;
			for (size_t L = 0; L <= 20; L++) {
				for (int pat = 0; pat < 4; pat++) {
					uint8_t dg[64];
					struct proto_msg d, d2;
					size_t n = PROTO_HDR_LEN + L;
					int r, r2;

					memset(dg, 0, sizeof(dg));
					dg[0] = 0x80;
					dg[1] = 0x73;
					dg[2] = 0xa7;
					dg[3] = 0x01;
					dg[4] = (uint8_t)t;
					dg[5] = (uint8_t)L;
					for (size_t k = 0; k < L; k++) {
						uint8_t *b = &dg[6 + k];
						if (pat == 1)
							*b = 0xff;
						else if (pat == 2)
							*b = (uint8_t)k;
						else if (pat == 3)
							*b = (uint8_t)rng();
					}
					r = decode_exact(dg, n, from, &d);
					tried++;
					SWEEP_CHECK(fails, allowed(r),
						    "type %u %s L %zu pat %d: %d",
						    t, role_name(from), L, pat, r);
					if (pat == 0) {
						int want = spec_zero_payload(
							(uint8_t)t, from, L);
						SWEEP_CHECK(fails, r == want,
							    "type %u %s L %zu: %d, spec %d",
							    t, role_name(from), L,
							    r, want);
					}
					if (r == 0)
						SWEEP_CHECK(fails, d.type == t,
							    "type %u decoded as %u",
							    t, d.type);
					/* one byte short of the length byte */
					if (L > 0) {
						r2 = decode_exact(dg, n - 1, from,
								  &d2);
						SWEEP_CHECK(fails,
							    r2 == -EMSGSIZE,
							    "type %u %s L %zu short: %d",
							    t, role_name(from), L,
							    r2);
					}
					/* trailing padding does not matter
					 * (except for a probe, whose size
					 * is the datagram's) */
					if (t != PROTO_PMTUD) {
						size_t pn = n < 12 ? 12 : n + 3;
						r2 = decode_exact(dg, pn, from,
								  &d2);
						SWEEP_CHECK(fails,
							    r2 == r &&
							    (r || msg_same(&d, &d2)),
							    "type %u %s L %zu padded: %d vs %d",
							    t, role_name(from), L,
							    r2, r);
					}
				}
			}
		}
	}
	REQUIRE(tried == 256 * 2 * 21 * 4);
	CHECK_EQ(fails, 0);

	/* Random datagrams, mostly with a valid header. */
	fails = 0;
	for (unsigned it = 0; it < 50000; it++) {
		uint8_t dg[320];
		struct proto_msg d;
		size_t n = rng() % sizeof(dg);
		int r;

		for (size_t k = 0; k < n; k++)
			dg[k] = (uint8_t)rng();
		if (n >= 6 && rng() % 8) {
			dg[0] = 0x80;
			dg[1] = 0x73;
			dg[2] = 0xa7;
			dg[3] = 0x01;
			if (rng() % 2)
				dg[4] = (uint8_t)(rng() % 11);
			if (rng() % 2)
				dg[5] = (uint8_t)(rng() % (n - 5));
		}
		r = decode_exact(dg, n, rng() % 2 ? PROTO_FROM_BROKER
						  : PROTO_FROM_CLIENT, &d);
		SWEEP_CHECK(fails, allowed(r), "random %u: %d", it, r);
		if (r == 0 && d.type == PROTO_PREPARE)
			SWEEP_CHECK(fails, d.uuid_len <= PROTO_UUID_MAX &&
				    strlen(d.uuid) <= d.uuid_len,
				    "random %u: uuid", it);
	}
	CHECK_EQ(fails, 0);

	/* Every length a receive buffer can hold, random bytes, with and
	 * without a valid header, in exact-size heap copies. */
	fails = 0;
	for (size_t n = 0; n <= PROTO_MAX_DGRAM; n++) {
		static uint8_t dg[PROTO_MAX_DGRAM];
		struct proto_msg d;

		for (size_t k = 0; k < n; k++)
			dg[k] = (uint8_t)rng();
		for (int valid = 0; valid < 2; valid++) {
			if (valid && n >= 6)
				memcpy(dg, "\x80\x73\xa7\x01", 4);
			for (int role = 0; role < 2; role++) {
				int r = decode_exact(dg, n, role ? PROTO_FROM_BROKER
								 : PROTO_FROM_CLIENT, &d);

				SWEEP_CHECK(fails, allowed(r), "length %zu: %d", n, r);
			}
		}
	}
	CHECK_EQ(fails, 0);
}

SUITE(proto_names)
{
	static const struct {
		uint8_t type;
		const char *name;
	} names[] = {
		{ PROTO_COOKIE, "COOKIE" },
		{ PROTO_PREPARE, "PREPARE" },
		{ PROTO_ERROR, "ERROR" },
		{ PROTO_TUNNEL, "TUNNEL" },
		{ PROTO_KEEPALIVE, "KEEPALIVE" },
		{ PROTO_PMTUD, "PMTUD" },
		{ PROTO_PMTUD_ACK, "PMTUD_ACK" },
		{ PROTO_REL_ACK, "REL_ACK" },
		{ PROTO_PMTU_NTFY, "PMTU_NTFY" },
		{ PROTO_USAGE, "USAGE" },
		{ PROTO_LIMIT, "LIMIT" },
	};
	const size_t nnames = sizeof(names) / sizeof(names[0]);
	int fails = 0;

	for (size_t i = 0; i < nnames; i++) {
		const char *got = proto_type_name(names[i].type);

		if (!CHECK(got && !strcmp(got, names[i].name)))
			printf("  at: type 0x%02x: %s\n", names[i].type,
			       got ? got : "(null)");
	}
	/* Every other type is UNKNOWN: exactly the eleven have names. */
	for (unsigned t = 0; t < 256; t++) {
		const char *got = proto_type_name((uint8_t)t);
		size_t i = 0;

		while (i < nnames && names[i].type != t)
			i++;
		if (i == nnames)
			SWEEP_CHECK(fails, got && !strcmp(got, "UNKNOWN"),
				    "type 0x%02x: %s", t, got ? got : "(null)");
	}
	CHECK_EQ(fails, 0);
}

/* The type numbers of PROTOCOL.md section 2. */
_Static_assert(PROTO_COOKIE == 0x01, "COOKIE is 0x01");
_Static_assert(PROTO_USAGE == 0x0a, "USAGE is 0x0a");
_Static_assert(PROTO_LIMIT == 0x80, "LIMIT is 0x80");
