/* SPDX-License-Identifier: MIT */
/*
 * Name resolution (dns.c): the A and AAAA query encodings byte for byte,
 * replies built by hand (CNAME chains, compression, every error class,
 * AAAA records of exactly 16 bytes), hostile replies (loops, pointers and
 * lengths past the end, every truncation, random bytes), hosts and
 * resolv.conf text of either family including a 10 MB line, and the stub
 * resolver (both questions per attempt, IPv4 and IPv6 nameservers)
 * against a fake nameserver on loopback with a fake clock.
 *
 * Parser inputs are copied into heap buffers of exactly the tested length,
 * so `make SAN=1 test-unit` reports any read past the end.
 */
#include "check.h"
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* dns.c: the nameserver port, so the tests can use an ephemeral one. */
extern uint16_t dns_port;

#define QNAME "broker.example.org"


static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	return p;
}

/* The IPv4 results of union sockaddr_inet ones, for the checks written
 * on in_addr; every result must be IPv4 there. */
static int only_v4(const union sockaddr_inet *u, int r, struct in_addr *out)
{
	for (int i = 0; i < r; i++) {
		REQUIRE(u[i].sa.sa_family == AF_INET && !u[i].in.sin_port);
		out[i] = u[i].in.sin_addr;
	}
	return r;
}

static int parse_exact(const void *src, size_t n, uint16_t id,
		       const char *name, struct in_addr *out, int max)
{
	union sockaddr_inet u[16];
	uint8_t *p = test_dup(src, n);
	int r;

	REQUIRE(max <= 16);
	r = dns_parse_reply(p, n, id, name, DNS_TYPE_A, u, max);
	free(p);
	return only_v4(u, r, out);
}

/* dns_hosts_lookup with IPv4 entries only, bounded by n alone */
static int hosts4(const char *text, size_t n, const char *name,
		  struct in_addr *out, int max)
{
	union sockaddr_inet u[16];

	REQUIRE(max <= 16);
	return only_v4(u, dns_hosts_lookup(text, n, name, u, max, NULL), out);
}

static unsigned fake_ifindex(const char *name)
{
	return !strcmp(name, "eth0") ? 7 : 0;
}

static int resolv_exact(const char *text, union sockaddr_inet *out, int max)
{
	size_t n = strlen(text);
	char *p = (char *)test_dup(text, n);
	int r = dns_resolv_parse(p, n, out, max, fake_ifindex);

	free(p);
	return r;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
	return a.s_addr;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A bound of s seconds for work that must stay linear; stretched by
 * L2TPD_TEST_TIME_SCALE where the tests run emulated (make test-cross). */
static double time_bound(double s)
{
	const char *e = getenv("L2TPD_TEST_TIME_SCALE");
	double k = e ? atof(e) : 1.0;

	return s * (k >= 1.0 ? k : 1.0);
}

/* ---- a small DNS message builder ---- */

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void m_u8(struct msg *m, unsigned v)
{
	if (m->n >= sizeof(m->b)) {
		fprintf(stderr, "test message too long\n");
		exit(2);
	}
	m->b[m->n++] = (uint8_t)v;
}

static void m_u16(struct msg *m, unsigned v)
{
	m_u8(m, (v >> 8) & 0xff);
	m_u8(m, v & 0xff);
}

static void m_set16(struct msg *m, size_t at, unsigned v)
{
	m->b[at] = (uint8_t)(v >> 8);
	m->b[at + 1] = (uint8_t)v;
}

/* Appends the labels of name ("" for none), then a pointer to ptr if
 * ptr >= 0, else the root; returns where the name starts. */
static size_t m_name(struct msg *m, const char *name, int ptr)
{
	size_t start = m->n;
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		m_u8(m, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			m_u8(m, (unsigned char)s[i]);
		s += l;
		if (*s == '.')
			s++;
	}
	if (ptr >= 0)
		m_u16(m, 0xc000 | (unsigned)ptr);
	else
		m_u8(m, 0);
	return start;
}

static void m_hdr(struct msg *m, unsigned id, unsigned flags, unsigned qd,
		  unsigned an)
{
	m->n = 0;
	m_u16(m, id);
	m_u16(m, flags);
	m_u16(m, qd);
	m_u16(m, an);
	m_u16(m, 0);
	m_u16(m, 0);
}

static void m_question(struct msg *m, const char *name, unsigned type,
		       unsigned class)
{
	m_name(m, name, -1);
	m_u16(m, type);
	m_u16(m, class);
}

/* Owner, type, class, TTL and a placeholder rdlength; returns where the
 * rdlength goes for m_rr_end(). */
static size_t m_rr_start(struct msg *m, const char *owner, int optr,
			 unsigned type, unsigned class)
{
	size_t at;

	m_name(m, owner, optr);
	m_u16(m, type);
	m_u16(m, class);
	m_u16(m, 0);
	m_u16(m, 300);
	at = m->n;
	m_u16(m, 0);
	return at;
}

static void m_rr_end(struct msg *m, size_t at)
{
	m_set16(m, at, (unsigned)(m->n - at - 2));
}

static void m_rr_a(struct msg *m, const char *owner, int optr, const char *a)
{
	uint32_t v = ip(a);
	size_t at = m_rr_start(m, owner, optr, 1, 1);

	for (int i = 0; i < 4; i++)
		m_u8(m, ((const uint8_t *)&v)[i]);
	m_rr_end(m, at);
}

/* Returns where the target name starts. */
static size_t m_rr_cname(struct msg *m, const char *owner, int optr,
			 const char *target, int tptr)
{
	size_t at = m_rr_start(m, owner, optr, 5, 1), t;

	t = m_name(m, target, tptr);
	m_rr_end(m, at);
	return t;
}

/* A standard NOERROR response header plus the question for QNAME. */
static void m_reply(struct msg *m, unsigned id, unsigned an)
{
	m_hdr(m, id, 0x8180, 1, an);
	m_question(m, QNAME, 1, 1);
}

/* ---- wire format ---- */

static void test_build(void)
{
	uint8_t want[300], buf[300];
	size_t wn = test_hex("1234 0100 0001 0000 0000 0000"
			     "06 62726f6b6572 07 6578616d706c65 03 6f7267 00"
			     "0001 0001",
			     want, sizeof(want));
	char name[300];
	ssize_t n;

	n = dns_build_query(buf, sizeof(buf), 0x1234, QNAME, DNS_TYPE_A);
	CHECK_MEM(buf, n > 0 ? (size_t)n : 0, want, wn);
	n = dns_build_query(buf, sizeof(buf), 0x1234, QNAME ".", DNS_TYPE_A);
	CHECK_MEM(buf, n > 0 ? (size_t)n : 0, want, wn);

	/* Exactly enough room, and one byte less for every size below. */
	for (size_t cap = 0; cap <= wn; cap++) {
		uint8_t *p = xmalloc(cap);

		n = dns_build_query(p, cap, 0x1234, QNAME, DNS_TYPE_A);
		if (cap < wn)
			CHECK_EQ(n, -ENOSPC);
		else
			CHECK_MEM(p, n > 0 ? (size_t)n : 0, want, wn);
		free(p);
	}

	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, "", DNS_TYPE_A), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, ".", DNS_TYPE_A), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, ".a", DNS_TYPE_A), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, "a..b", DNS_TYPE_A), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, "a.b..", DNS_TYPE_A), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, "a", DNS_TYPE_A), 12 + 3 + 4);

	/* Labels: 63 bytes fit, 64 do not. */
	memset(name, 'a', 64);
	name[63] = '\0';
	n = dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A);
	CHECK_EQ(n, 12 + 65 + 4);
	CHECK_EQ(buf[12], 63);
	name[63] = 'a';
	name[64] = '\0';
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A), -EINVAL);
	strcpy(name, "x.");
	memset(name + 2, 'b', 64);
	name[66] = '\0';
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A), -EINVAL);

	/* Names: 253 characters fit (255 on the wire), 254 do not. */
	memset(name, 'c', 253);
	for (int i = 50; i < 253; i += 50)
		name[i] = '.';
	name[253] = '\0';
	n = dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A);
	CHECK_EQ(n, 12 + 255 + 4);
	CHECK_EQ(buf[12 + 254], 0);
	name[253] = '.';
	name[254] = '\0';
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A), 12 + 255 + 4);
	name[253] = 'c';
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A), -EINVAL);
	memset(name, 'c', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 7, name, DNS_TYPE_A), -EINVAL);
}

static void test_plain(void)
{
	/* As a server sends it: the answer's owner points at the question. */
	uint8_t b[128];
	size_t n = test_hex("beef 8180 0001 0001 0000 0000"
			    "06 62726f6b6572 07 6578616d706c65 03 6f7267 00"
			    "0001 0001"
			    "c00c 0001 0001 00000e10 0004 c0000201",
			    b, sizeof(b));
	struct in_addr out[4];

	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(b, n, 0xbeef, QNAME, out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("192.0.2.1"));
	CHECK_EQ(parse_exact(b, n, 0xbeef, QNAME ".", out, 4), 1);
	CHECK_EQ(parse_exact(b, n, 0xbeef, "BROKER.Example.ORG", out, 4), 1);
	CHECK_EQ(parse_exact(b, n, 0xbeee, QNAME, out, 4), -EAGAIN);
	CHECK_EQ(parse_exact(b, n, 0xbeef, "broker.example.net", out, 4),
		 -EAGAIN);
	CHECK_EQ(parse_exact(b, n, 0xbeef, "example.org", out, 4), -EAGAIN);
	CHECK_EQ(parse_exact(b, n, 0xbeef, "a..b", out, 4), -EINVAL);
	CHECK_EQ(parse_exact(b, n, 0xbeef, QNAME, out, 0), -EINVAL);

	/* Trailing bytes after the sections do not matter. */
	b[n] = 0xff;
	CHECK_EQ(parse_exact(b, n + 1, 0xbeef, QNAME, out, 4), 1);

	/* Upper case in the reply. */
	b[13] = 'B';
	b[20] = 'E';
	CHECK_EQ(parse_exact(b, n, 0xbeef, QNAME, out, 4), 1);
}

static void test_several(void)
{
	struct in_addr out[8];
	struct msg m;

	m_reply(&m, 1, 4);
	m_rr_a(&m, "", 12, "10.0.0.1");
	m_rr_a(&m, QNAME, -1, "10.0.0.2");
	m_rr_a(&m, "broker", 12 + 7, "10.0.0.3"); /* "broker" + ->example.org */
	m_rr_a(&m, "", 12, "10.0.0.4");
	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(m.b, m.n, 1, QNAME, out, 8), 4);
	CHECK_EQ(out[0].s_addr, ip("10.0.0.1"));
	CHECK_EQ(out[1].s_addr, ip("10.0.0.2"));
	CHECK_EQ(out[2].s_addr, ip("10.0.0.3"));
	CHECK_EQ(out[3].s_addr, ip("10.0.0.4"));
	CHECK_EQ(out[4].s_addr, 0);
	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(m.b, m.n, 1, QNAME, out, 2), 2);
	CHECK_EQ(out[1].s_addr, ip("10.0.0.2"));
	CHECK_EQ(out[2].s_addr, 0);
}

static void test_cname(void)
{
	struct in_addr out[4];
	struct msg m;
	size_t t;

	/* broker -> a.cdn.net -> b.cdn.net (compressed into a's rdata) */
	m_reply(&m, 2, 5);
	t = m_rr_cname(&m, "", 12, "a.cdn.net", -1);
	m_rr_a(&m, "evil.example.org", -1, "6.6.6.6");
	m_rr_cname(&m, "", (int)t, "b", (int)t + 2);
	m_rr_a(&m, "b", (int)t + 2, "10.1.1.1");
	m_rr_a(&m, "", (int)t, "10.2.2.2"); /* a.cdn.net has a CNAME: odd */
	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(m.b, m.n, 2, QNAME, out, 4), 2);
	CHECK_EQ(out[0].s_addr, ip("10.1.1.1"));
	CHECK_EQ(out[1].s_addr, ip("10.2.2.2"));

	/* Records in reverse order still form the chain. */
	m_reply(&m, 3, 3);
	m_rr_a(&m, "C.cdn.net", -1, "10.3.3.3");
	m_rr_cname(&m, "a.cdn.net", -1, "c.CDN.net", -1);
	m_rr_cname(&m, "", 12, "a.cdn.net", -1);
	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(m.b, m.n, 3, QNAME, out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("10.3.3.3"));

	/* A CNAME of an unrelated owner does not redirect us. */
	m_reply(&m, 4, 2);
	m_rr_cname(&m, "other.example.org", -1, "x.cdn.net", -1);
	m_rr_a(&m, "x.cdn.net", -1, "10.4.4.4");
	CHECK_EQ(parse_exact(m.b, m.n, 4, QNAME, out, 4), -ENOENT);

	/* A chain that ends without an address, and one that loops. */
	m_reply(&m, 5, 1);
	m_rr_cname(&m, "", 12, "nowhere.example.org", -1);
	CHECK_EQ(parse_exact(m.b, m.n, 5, QNAME, out, 4), -ENOENT);
	m_reply(&m, 6, 2);
	m_rr_cname(&m, "", 12, "x.example.org", -1);
	m_rr_cname(&m, "x.example.org", -1, QNAME, -1);
	CHECK_EQ(parse_exact(m.b, m.n, 6, QNAME, out, 4), -ENOENT);

	/* A long chain is followed up to a bound, never beyond. */
	m_reply(&m, 7, 41);
	for (int i = 0; i < 40; i++) {
		char o[32], tg[32];

		snprintf(o, sizeof(o), "n%d.example.org", i);
		snprintf(tg, sizeof(tg), "n%d.example.org", i + 1);
		m_rr_cname(&m, i ? o : QNAME, -1, tg, -1);
	}
	m_rr_a(&m, "n3.example.org", -1, "10.7.7.7");
	m_rr_a(&m, "n39.example.org", -1, "10.7.7.39");
	m_set16(&m, 6, 42);
	memset(out, 0, sizeof(out));
	CHECK_EQ(parse_exact(m.b, m.n, 7, QNAME, out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("10.7.7.7"));

	/* CNAME rdata whose name runs past its rdlength. */
	m_reply(&m, 8, 2);
	t = m_rr_cname(&m, "", 12, "a.cdn.net", -1);
	m_rr_a(&m, "a.cdn.net", -1, "10.8.8.8");
	m.b[t - 1] = 3; /* rdlength 11 -> 3 */
	CHECK_EQ(parse_exact(m.b, m.n, 8, QNAME, out, 4), -EBADMSG);
	/* ... even when what follows happens to parse as a name. */
	m_reply(&m, 8, 2);
	m_rr_end(&m, m_rr_start(&m, "", 12, 5, 1));
	m_rr_a(&m, "a.cdn.net", -1, "10.8.8.8");
	CHECK_EQ(parse_exact(m.b, m.n, 8, QNAME, out, 4), -EBADMSG);
}

static void test_mismatch(void)
{
	struct in_addr out[4];
	struct msg m;

	memset(out, 0, sizeof(out));
	/* An answer for another name. */
	m_hdr(&m, 9, 0x8180, 1, 1);
	m_question(&m, "evil.example.org", 1, 1);
	m_rr_a(&m, "", 12, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 9, QNAME, out, 4), -EAGAIN);
	/* The right question, but only an unrelated record. */
	m_reply(&m, 9, 1);
	m_rr_a(&m, "evil.example.org", -1, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 9, QNAME, out, 4), -ENOENT);
	CHECK_EQ(out[0].s_addr, 0);
	/* Unrelated A plus the real one: only the real one. */
	m_reply(&m, 9, 2);
	m_rr_a(&m, "evil.example.org", -1, "6.6.6.6");
	m_rr_a(&m, "", 12, "10.9.9.9");
	CHECK_EQ(parse_exact(m.b, m.n, 9, QNAME, out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("10.9.9.9"));
	/* A records of another class, or of the wrong length, are skipped. */
	m_reply(&m, 9, 3);
	m_rr_a(&m, "", 12, "6.6.6.6");
	m_set16(&m, m.n - 12, 3); /* class CH */
	{
		size_t at = m_rr_start(&m, "", 12, 1, 1);

		for (int i = 0; i < 5; i++)
			m_u8(&m, 7);
		m_rr_end(&m, at);
	}
	{
		size_t at = m_rr_start(&m, "", 12, 28, 1); /* AAAA */

		for (int i = 0; i < 16; i++)
			m_u8(&m, 1);
		m_rr_end(&m, at);
	}
	CHECK_EQ(parse_exact(m.b, m.n, 9, QNAME, out, 4), -ENOENT);

	/* The question's type, class and count must be ours. */
	m_hdr(&m, 10, 0x8180, 1, 1);
	m_question(&m, QNAME, 28, 1);
	m_rr_a(&m, "", 12, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 10, QNAME, out, 4), -EAGAIN);
	m_hdr(&m, 10, 0x8180, 1, 1);
	m_question(&m, QNAME, 1, 3);
	m_rr_a(&m, "", 12, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 10, QNAME, out, 4), -EAGAIN);
	m_hdr(&m, 10, 0x8180, 2, 1);
	m_question(&m, QNAME, 1, 1);
	m_question(&m, QNAME, 1, 1);
	m_rr_a(&m, "", 12, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 10, QNAME, out, 4), -EAGAIN);
	m_hdr(&m, 10, 0x8180, 0, 1);
	m_rr_a(&m, QNAME, -1, "6.6.6.6");
	CHECK_EQ(parse_exact(m.b, m.n, 10, QNAME, out, 4), -EAGAIN);

	/* Not a response, or not to a standard query. */
	m_reply(&m, 11, 1);
	m_rr_a(&m, "", 12, "6.6.6.6");
	m_set16(&m, 2, 0x0100);
	CHECK_EQ(parse_exact(m.b, m.n, 11, QNAME, out, 4), -EAGAIN);
	m_set16(&m, 2, 0x8980); /* opcode 1 */
	CHECK_EQ(parse_exact(m.b, m.n, 11, QNAME, out, 4), -EAGAIN);
	m_set16(&m, 2, 0x8580); /* AA is fine */
	CHECK_EQ(parse_exact(m.b, m.n, 11, QNAME, out, 4), 1);
}

static void test_rcode(void)
{
	struct in_addr out[4];
	struct msg m;

	m_hdr(&m, 12, 0x8183, 1, 0); /* NXDOMAIN */
	m_question(&m, QNAME, 1, 1);
	CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -ENOENT);
	CHECK_EQ(parse_exact(m.b, m.n, 13, QNAME, out, 4), -EAGAIN);
	CHECK_EQ(parse_exact(m.b, m.n, 12, "other.example.org", out, 4),
		 -EAGAIN);
	m_hdr(&m, 12, 0x8183, 0, 0); /* NXDOMAIN must echo the question */
	CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -EAGAIN);

	m_hdr(&m, 12, 0x8180, 1, 0); /* NODATA */
	m_question(&m, QNAME, 1, 1);
	CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -ENOENT);

	for (unsigned rc = 1; rc < 16; rc++) {
		if (rc == 3)
			continue;
		m_hdr(&m, 12, 0x8180 | rc, 1, 0);
		m_question(&m, QNAME, 1, 1);
		CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -EIO);
	}
	m_hdr(&m, 12, 0x8185, 0, 0); /* REFUSED without the question */
	CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -EIO);
	m_hdr(&m, 12, 0x8182, 1, 0);
	m_question(&m, "other.example.org", 1, 1);
	CHECK_EQ(parse_exact(m.b, m.n, 12, QNAME, out, 4), -EAGAIN);

	/* TC, with or without a (partial) answer or question. */
	m_hdr(&m, 14, 0x8380, 1, 1);
	m_question(&m, QNAME, 1, 1);
	CHECK_EQ(parse_exact(m.b, m.n, 14, QNAME, out, 4), -EMSGSIZE);
	m_rr_a(&m, "", 12, "10.0.0.1");
	CHECK_EQ(parse_exact(m.b, m.n, 14, QNAME, out, 4), -EMSGSIZE);
	m_hdr(&m, 14, 0x8380, 0, 0);
	CHECK_EQ(parse_exact(m.b, m.n, 14, QNAME, out, 4), -EMSGSIZE);
}

static void test_compression(void)
{
	struct in_addr out[4];
	struct msg m;
	size_t at;

	/* Owner: "broker" + pointer to "example.org" inside the question. */
	m_reply(&m, 20, 1);
	m_rr_a(&m, "broker", 19, "10.0.0.20");
	CHECK_EQ(parse_exact(m.b, m.n, 20, QNAME, out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("10.0.0.20"));
	/* A pointer to a pointer. */
	m_reply(&m, 21, 2);
	at = m.n;
	m_rr_a(&m, "", 12, "10.0.0.21");
	m_rr_a(&m, "", (int)at, "10.0.0.22");
	CHECK_EQ(parse_exact(m.b, m.n, 21, QNAME, out, 4), 2);

	/* A pointer to itself in an answer. */
	m_reply(&m, 22, 1);
	m_rr_a(&m, "", (int)m.n, "10.0.0.23");
	CHECK_EQ(parse_exact(m.b, m.n, 22, QNAME, out, 4), -EBADMSG);
	/* ... and in the question. */
	m_hdr(&m, 22, 0x8180, 1, 0);
	m_u16(&m, 0xc00c);
	m_u16(&m, 1);
	m_u16(&m, 1);
	CHECK_EQ(parse_exact(m.b, m.n, 22, QNAME, out, 4), -EBADMSG);

	/* Two pointers to each other (the second record's owner points to the
	 * first record's, which points forward to the second). */
	m_reply(&m, 23, 2);
	at = m.n;
	m_rr_a(&m, "", 0, "10.0.0.24");
	m_set16(&m, at, 0xc000 | (unsigned)m.n);
	m_rr_a(&m, "", (int)at, "10.0.0.25");
	CHECK_EQ(parse_exact(m.b, m.n, 23, QNAME, out, 4), -EBADMSG);

	/* A pointer forward to a well-formed name: RFC 1035 only points to
	 * prior occurrences, and allowing only those rules out loops. */
	m_reply(&m, 23, 2);
	at = m.n;
	m_rr_a(&m, "", 0, "10.0.0.24");
	m_set16(&m, at, 0xc000 | (unsigned)m.n);
	m_rr_a(&m, QNAME, -1, "10.0.0.25");
	CHECK_EQ(parse_exact(m.b, m.n, 23, QNAME, out, 4), -EBADMSG);

	/* A label followed by a pointer back to that label. */
	m_reply(&m, 24, 1);
	at = m.n;
	m_rr_a(&m, "loop", (int)at, "10.0.0.26");
	CHECK_EQ(parse_exact(m.b, m.n, 24, QNAME, out, 4), -EBADMSG);

	/* A pointer beyond the end, and one cut in half. */
	m_reply(&m, 25, 1);
	m_rr_a(&m, "", 0x3fff, "10.0.0.27");
	CHECK_EQ(parse_exact(m.b, m.n, 25, QNAME, out, 4), -EBADMSG);
	m_reply(&m, 25, 1);
	m_u8(&m, 0xc0);
	CHECK_EQ(parse_exact(m.b, m.n, 25, QNAME, out, 4), -EBADMSG);

	/* The reserved label types 01 and 10. */
	m_reply(&m, 26, 1);
	m_rr_a(&m, "", 12, "10.0.0.28");
	m.b[m.n - 16] = 0x40;
	CHECK_EQ(parse_exact(m.b, m.n, 26, QNAME, out, 4), -EBADMSG);
	m.b[m.n - 16] = 0x80;
	CHECK_EQ(parse_exact(m.b, m.n, 26, QNAME, out, 4), -EBADMSG);

	/* A label length past the end. */
	m_reply(&m, 27, 1);
	m_u8(&m, 40);
	m_u8(&m, 'a');
	CHECK_EQ(parse_exact(m.b, m.n, 27, QNAME, out, 4), -EBADMSG);

	/* Pointers that keep a name growing past 255 bytes: each owner is a
	 * 63-byte label plus a pointer to the previous owner. */
	m_reply(&m, 28, 5);
	{
		char label[64];
		int prev = 12;

		memset(label, 'z', 63);
		label[63] = '\0';
		for (int i = 0; i < 5; i++) {
			at = m.n;
			m_rr_a(&m, label, prev, "10.0.0.29");
			prev = (int)at;
		}
	}
	CHECK_EQ(parse_exact(m.b, m.n, 28, QNAME, out, 4), -EBADMSG);
}

static void test_bounds(void)
{
	struct in_addr out[4];
	struct msg m;

	/* rdlength beyond the end. */
	m_reply(&m, 30, 1);
	m_rr_a(&m, "", 12, "10.0.0.30");
	m_set16(&m, m.n - 6, 5);
	CHECK_EQ(parse_exact(m.b, m.n, 30, QNAME, out, 4), -EBADMSG);
	m_set16(&m, m.n - 6, 0xffff);
	CHECK_EQ(parse_exact(m.b, m.n, 30, QNAME, out, 4), -EBADMSG);
	/* More answers announced than present. */
	m_reply(&m, 31, 2);
	m_rr_a(&m, "", 12, "10.0.0.31");
	CHECK_EQ(parse_exact(m.b, m.n, 31, QNAME, out, 4), -EBADMSG);
	m_set16(&m, 6, 0xffff);
	CHECK_EQ(parse_exact(m.b, m.n, 31, QNAME, out, 4), -EBADMSG);
	/* Short headers. */
	CHECK_EQ(parse_exact(m.b, 0, 31, QNAME, out, 4), -EAGAIN);
	CHECK_EQ(parse_exact(m.b, 1, 31, QNAME, out, 4), -EAGAIN);
	CHECK_EQ(parse_exact(m.b, 2, 31, QNAME, out, 4), -EBADMSG);
	CHECK_EQ(parse_exact(m.b, 11, 31, QNAME, out, 4), -EBADMSG);
	CHECK_EQ(parse_exact(m.b, 11, 32, QNAME, out, 4), -EAGAIN);
}

/* Every prefix of a valid reply fails cleanly: EAGAIN until the id is
 * there, then EBADMSG. */
static void test_truncations(void)
{
	struct in_addr out[4];
	unsigned fails = 0;
	struct msg m;
	size_t t;

	m_reply(&m, 40, 4);
	t = m_rr_cname(&m, "", 12, "a.cdn.net", -1);
	m_rr_cname(&m, "", (int)t, "b", (int)t + 2);
	m_rr_a(&m, "b", (int)t + 2, "10.4.0.1");
	m_rr_a(&m, "b", (int)t + 2, "10.4.0.2");
	CHECK_EQ(parse_exact(m.b, m.n, 40, QNAME, out, 4), 2);
	for (size_t k = 0; k < m.n; k++) {
		int r = parse_exact(m.b, k, 40, QNAME, out, 4);

		SWEEP_CHECK(fails, r == (k < 2 ? -EAGAIN : -EBADMSG),
			    "prefix %zu of %zu: %d", k, m.n, r);
	}
	CHECK_EQ(fails, 0);
}

/* Random replies, fully random or behind a valid header and question
 * (so the answer walk sees them), and single-byte mutations of a valid
 * reply: no crash, and results stay within the contract. */
static void test_random(void)
{
	static const int allowed[] = { -EAGAIN, -EBADMSG, -ENOENT, -EIO,
				       -EMSGSIZE };
	const size_t nallowed = sizeof(allowed) / sizeof(allowed[0]);
	struct in_addr out[4];
	unsigned fails = 0;
	struct msg base, m;
	size_t t;

	m_reply(&base, 0x5151, 3);
	t = m_rr_cname(&base, "", 12, "a.cdn.net", -1);
	m_rr_a(&base, "", (int)t, "10.5.0.1");
	m_rr_a(&base, "", (int)t, "10.5.0.2");

	for (int i = 0; i < 900; i++) {
		size_t len = rnd() % 600, off = 0;
		int r, ok;

		if (i % 3 == 1) {
			m_reply(&m, 0x5151, rnd() % 8);
			off = m.n;
		} else if (i % 3 == 2) {
			m = base;
			len = m.n;
			for (int j = 0; j < 3; j++)
				m.b[rnd() % m.n] = (uint8_t)rnd();
			off = m.n;
		}
		if (len < off)
			len = off;
		for (size_t j = off; j < len; j++)
			m.b[j] = (uint8_t)(rnd() % 4 ? rnd() : 0xc0);
		if (i % 3 == 0 && len >= 2 && rnd() % 2)
			m_set16(&m, 0, 0x5151);
		r = parse_exact(m.b, len, 0x5151, QNAME, out, 4);
		ok = r > 0 && r <= 4;
		for (size_t j = 0; j < nallowed; j++)
			ok |= r == allowed[j];
		SWEEP_CHECK(fails, ok, "random reply %d: %d", i, r);
	}
	CHECK_EQ(fails, 0);
}

/* m_rr_aaaa is with the fake nameserver below. */
static void m_rr_aaaa(struct msg *m, const char *owner, int optr,
		      const char *a);

static int parse6(const struct msg *m, uint16_t id, union sockaddr_inet *out,
		  int max)
{
	uint8_t *p = test_dup(m->b, m->n);
	int r = dns_parse_reply(p, m->n, id, QNAME, DNS_TYPE_AAAA, out, max);

	free(p);
	return r;
}

/* AAAA questions and records: 16 bytes exactly, the question's type
 * decides which records count. */
static void test_aaaa(void)
{
	uint8_t want[300], buf[300];
	size_t wn = test_hex("4321 0100 0001 0000 0000 0000"
			     "06 62726f6b6572 07 6578616d706c65 03 6f7267 00"
			     "001c 0001",
			     want, sizeof(want));
	union sockaddr_inet out[4];
	struct msg m;
	ssize_t n;

	n = dns_build_query(buf, sizeof(buf), 0x4321, QNAME, DNS_TYPE_AAAA);
	CHECK_MEM(buf, n > 0 ? (size_t)n : 0, want, wn);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, QNAME, 5), -EINVAL);
	CHECK_EQ(dns_build_query(buf, sizeof(buf), 1, QNAME, 0), -EINVAL);

	/* records of both types: only AAAA ones, in order, port 0 */
	m_hdr(&m, 7, 0x8180, 1, 4);
	m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
	m_rr_aaaa(&m, "", 12, "2001:db8::1");
	m_rr_a(&m, "", 12, "10.0.0.1");
	m_rr_aaaa(&m, "", 12, "fe80::2");
	m_rr_aaaa(&m, "evil.example.org", -1, "2001:db8::666");
	memset(out, 0x5a, sizeof(out));
	CHECK_EQ(parse6(&m, 7, out, 4), 2);
	CHECK(test_is_addr(&out[0], "2001:db8::1", 0));
	CHECK(test_is_addr(&out[1], "fe80::2", 0));
	CHECK_EQ(parse6(&m, 7, out, 1), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::1", 0));
	/* the same records under an A question: the A one only */
	m_hdr(&m, 7, 0x8180, 1, 2);
	m_question(&m, QNAME, DNS_TYPE_A, 1);
	m_rr_aaaa(&m, "", 12, "2001:db8::1");
	m_rr_a(&m, "", 12, "10.0.0.1");
	{
		uint8_t *p = test_dup(m.b, m.n);

		CHECK_EQ(dns_parse_reply(p, m.n, 7, QNAME, DNS_TYPE_A, out, 4), 1);
		CHECK(test_is_addr(&out[0], "10.0.0.1", 0));
		/* asked AAAA, the reply is to A: not ours */
		CHECK_EQ(dns_parse_reply(p, m.n, 7, QNAME, DNS_TYPE_AAAA, out, 4),
			 -EAGAIN);
		CHECK_EQ(dns_parse_reply(p, m.n, 7, QNAME, 5, out, 4), -EINVAL);
		free(p);
	}
	/* 15 and 17 bytes are not an AAAA record */
	for (int len = 15; len <= 17; len += 2) {
		size_t at;

		m_hdr(&m, 8, 0x8180, 1, 1);
		m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
		at = m_rr_start(&m, "", 12, DNS_TYPE_AAAA, 1);
		for (int i = 0; i < len; i++)
			m_u8(&m, 1);
		m_rr_end(&m, at);
		CHECK_EQ(parse6(&m, 8, out, 4), -ENOENT);
	}
	/* CNAME chains lead to AAAA records as to A ones */
	m_hdr(&m, 9, 0x8180, 1, 3);
	m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
	m_rr_aaaa(&m, "b.example.net", -1, "2001:db8::b");
	m_rr_cname(&m, "a.example.net", -1, "b.example.net", -1);
	m_rr_cname(&m, "", 12, "a.example.net", -1);
	CHECK_EQ(parse6(&m, 9, out, 4), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::b", 0));
	/* NXDOMAIN, and a truncated AAAA answer */
	m_hdr(&m, 10, 0x8183, 1, 0);
	m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
	CHECK_EQ(parse6(&m, 10, out, 4), -ENOENT);
	m_hdr(&m, 10, 0x8380, 1, 0);
	m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
	CHECK_EQ(parse6(&m, 10, out, 4), -EMSGSIZE);
	/* every cut of a good AAAA answer is malformed or not ours */
	m_hdr(&m, 11, 0x8180, 1, 1);
	m_question(&m, QNAME, DNS_TYPE_AAAA, 1);
	m_rr_aaaa(&m, "", 12, "2001:db8::c");
	{
		int fails = 0;

		for (size_t cut = 0; cut < m.n; cut++) {
			uint8_t *p = test_dup(m.b, cut);
			int r = dns_parse_reply(p, cut, 11, QNAME, DNS_TYPE_AAAA,
						out, 4);

			SWEEP_CHECK(fails, r == -EBADMSG || r == -EAGAIN,
				    "cut %zu: %d", cut, r);
			free(p);
		}
		CHECK_EQ(fails, 0);
	}
	CHECK_EQ(parse6(&m, 11, out, 4), 1);
}

SUITE(dns_wire)
{
	test_build();
	test_plain();
	test_several();
	test_cname();
	test_mismatch();
	test_aaaa();
	test_rcode();
	test_compression();
	test_bounds();
	test_truncations();
	test_random();
}

/* ---- hosts and resolv.conf ---- */


static int hosts_len6(const char *text, size_t n, const char *name,
		      union sockaddr_inet *out, int max)
{
	return dns_hosts_lookup(text, n, name, out, max, NULL);
}

static int hosts_exact6(const char *text, const char *name,
			union sockaddr_inet *out, int max)
{
	size_t n = strlen(text);
	char *p = (char *)test_dup(text, n);
	int r = hosts_len6(p, n, name, out, max);

	free(p);
	return r;
}

static void test_hosts_text(void)
{
	const char *hosts =
		"# static table\n"
		"127.0.0.1\tlocalhost\n"
		"::1 localhost ip6-localhost " QNAME "\n"
		"10.0.0.1   other.example.org   " QNAME "  bk # broker\n"
		"  \t10.0.0.2\tBROKER.example.ORG\n"
		"#10.0.0.3 " QNAME "\n"
		"10.0.0.4 foo#" QNAME "\n"
		"10.0.0.5 " QNAME "x " QNAME ".evil x" QNAME "\n"
		"10.0.0.256 " QNAME "\n"
		QNAME " 10.0.0.7\n"
		"10.0.0.8\r\n"
		"010.0.0.9 " QNAME "\n"
		"10.0.0.10 " QNAME " " QNAME "\r\n"
		"fe80::1%eth0 " QNAME "\n"
		"\n"
		"10.0.0.11 alias1 alias2\talias3";
	union sockaddr_inet out[8];

	/* every address, of either family, in file order; the interface
	 * name in a scope needs a lookup, and none is given here */
	memset(out, 0, sizeof(out));
	CHECK_EQ(hosts_exact6(hosts, QNAME, out, 8), 4);
	CHECK(test_is_addr(&out[0], "::1", 0));
	CHECK(test_is_addr(&out[1], "10.0.0.1", 0));
	CHECK(test_is_addr(&out[2], "10.0.0.2", 0));
	CHECK(test_is_addr(&out[3], "10.0.0.10", 0));
	CHECK_EQ(out[4].sa.sa_family, 0);
	memset(out, 0, sizeof(out));
	CHECK_EQ(hosts_exact6(hosts, QNAME, out, 2), 2);
	CHECK_EQ(out[2].sa.sa_family, 0);
	CHECK_EQ(hosts_exact6(hosts, QNAME, out, 0), 0);
	CHECK_EQ(hosts_exact6(hosts, "Broker.Example.Org", out, 8), 4);
	CHECK_EQ(hosts_exact6(hosts, "localhost", out, 8), 2);
	CHECK(test_is_addr(&out[0], "127.0.0.1", 0));
	CHECK_EQ(hosts_exact6(hosts, "ip6-localhost", out, 8), 1);
	CHECK(test_is_addr(&out[0], "::1", 0));
	CHECK_EQ(hosts_exact6(hosts, "bk", out, 8), 1);
	CHECK_EQ(hosts_exact6(hosts, "broker", out, 8), 0);
	CHECK_EQ(hosts_exact6(hosts, "foo", out, 8), 1);
	CHECK(test_is_addr(&out[0], "10.0.0.4", 0));
	CHECK_EQ(hosts_exact6(hosts, "10.0.0.7", out, 8), 0);
	CHECK_EQ(hosts_exact6(hosts, "alias3", out, 8), 1);
	CHECK(test_is_addr(&out[0], "10.0.0.11", 0));
	CHECK_EQ(hosts_exact6(hosts, "alias2", out, 8), 1);
	CHECK_EQ(hosts_exact6(hosts, "alias", out, 8), 0);
	CHECK_EQ(hosts_exact6(hosts, "", out, 8), 0);
	CHECK_EQ(hosts_exact6("", QNAME, out, 8), 0);
	CHECK_EQ(hosts_exact6("10.0.0.1", "10.0.0.1", out, 8), 0);
	CHECK_EQ(hosts_exact6("10.0.0.1 a", "a", out, 8), 1);

	/* The length bounds the text, whatever follows. */
	CHECK_EQ(hosts_len6("10.0.0.1 abc", 11, "abc", out, 8), 0);
	CHECK_EQ(hosts_len6("10.0.0.1 abc", 11, "ab", out, 8), 1);
	CHECK_EQ(hosts_len6("10.0.0.1 abc", 12, "abc", out, 8), 1);
}

/* Fills a 10 MB single line and times the lookup. */
static void test_hosts_long(void)
{
	const size_t big = 10u << 20;
	char *t = xmalloc(big + 256);
	struct in_addr out[2];
	double t0;
	size_t n;
	int r;

	/* Valid entry with millions of aliases, the name last, no newline. */
	n = (size_t)sprintf(t, "10.1.2.3");
	while (n < big) {
		t[n] = (n & 64) ? '\t' : ' ';
		t[n + 1] = 'x';
		n += 2;
	}
	n += (size_t)sprintf(t + n, " " QNAME);
	t0 = now_s();
	r = hosts4(t, n, QNAME, out, 2);
	CHECK(now_s() - t0 < time_bound(1.0));
	CHECK_EQ(r, 1);
	CHECK_EQ(out[0].s_addr, ip("10.1.2.3"));
	CHECK_EQ(hosts4(t, n, "broker.example", out, 2), 0);
	CHECK_EQ(hosts4(t, n, "x", out, 2), 1);

	/* One huge alias that merely ends in the name. */
	n = (size_t)sprintf(t, "10.1.2.4 ");
	memset(t + n, 'y', big);
	n += big;
	n += (size_t)sprintf(t + n, QNAME);
	t0 = now_s();
	r = hosts4(t, n, QNAME, out, 2);
	CHECK(now_s() - t0 < time_bound(1.0));
	CHECK_EQ(r, 0);

	/* A huge address field that starts like an address. */
	n = (size_t)sprintf(t, "10.1.2.5");
	memset(t + n, '5', big);
	n += big;
	n += (size_t)sprintf(t + n, " " QNAME);
	CHECK_EQ(hosts4(t, n, QNAME, out, 2), 0);

	/* A huge comment line, then the entry. */
	t[0] = '#';
	memset(t + 1, 'z', big);
	n = big + 1;
	n += (size_t)sprintf(t + n, "\n10.1.2.6 " QNAME);
	t0 = now_s();
	r = hosts4(t, n, QNAME, out, 2);
	CHECK(now_s() - t0 < time_bound(1.0));
	CHECK_EQ(r, 1);
	CHECK_EQ(out[0].s_addr, ip("10.1.2.6"));

	/* Many short lines. */
	n = 0;
	while (n < big)
		n += (size_t)sprintf(t + n, "10.9.9.9 h%zu\n", n);
	n += (size_t)sprintf(t + n, "10.1.2.7 " QNAME);
	t0 = now_s();
	r = hosts4(t, n, QNAME, out, 2);
	CHECK(now_s() - t0 < time_bound(1.0));
	CHECK_EQ(r, 1);
	free(t);
}

static void test_resolv(void)
{
	const char *conf =
		"# generated\n"
		"search example.org\n"
		"nameserver 192.0.2.53\n"
		"#nameserver 192.0.2.1\n"
		";nameserver 192.0.2.2\n"
		"nameserver ::1\n"
		"nameserver fe80::1%eth0\n"
		"nameserver fe80::2%wlan0\n"
		"nameserver fe80::3%9\n"
		"nameserver [2001:db8::1]\n"
		"nameserver 2001:db8::1:53\n"
		"nameservers 192.0.2.3\n"
		"Nameserver 192.0.2.4\n"
		"nameserver\n"
		"nameserver 192.0.2.256\n"
		"options ndots:2 timeout:1\n"
		"nameserver\t192.0.2.54 # primary\r\n"
		"  nameserver 2001:DB8::35;x\n"
		"domain nameserver 192.0.2.5\n"
		"nameserver 192.0.2.56";
	union sockaddr_inet out[12];

	memset(out, 0, sizeof(out));
	CHECK_EQ(resolv_exact(conf, out, 12), 8);
	CHECK(test_is_addr(&out[0], "192.0.2.53", 0));
	CHECK(test_is_addr(&out[1], "::1", 0));
	CHECK(test_is_addr(&out[2], "fe80::1", 7));
	CHECK(test_is_addr(&out[3], "fe80::3", 9));
	CHECK(test_is_addr(&out[4], "2001:db8::1:53", 0));
	CHECK(test_is_addr(&out[5], "192.0.2.54", 0));
	CHECK(test_is_addr(&out[6], "2001:db8::35", 0));
	CHECK(test_is_addr(&out[7], "192.0.2.56", 0));
	memset(out, 0, sizeof(out));
	CHECK_EQ(resolv_exact(conf, out, DNS_MAX_SERVERS), 3);
	CHECK_EQ(out[3].sa.sa_family, 0);
	CHECK_EQ(resolv_exact(conf, out, 0), 0);
	CHECK_EQ(resolv_exact("", out, 3), 0);
	CHECK_EQ(resolv_exact("search x\noptions edns0\n", out, 3), 0);
	CHECK_EQ(dns_resolv_parse("nameserver 10.0.0.12", 19, out, 3, NULL), 1);
	CHECK(test_is_addr(&out[0], "10.0.0.1", 0));
	/* without a way to look names up, a named scope is no address */
	CHECK_EQ(dns_resolv_parse("nameserver fe80::1%eth0", 23, out, 3, NULL), 0);
}

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *temp_file(const char *text, size_t len)
{
	char *path = xmalloc(64);
	int fd;

	strcpy(path, "/tmp/l2tpd-test-dns-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("temp file");
		exit(2);
	}
	close(fd);
	return path;
}

/* What dns_read_lines() passes on, and how. */
struct runs {
	char text[4096];
	size_t len;
	unsigned calls, stop_after;
	bool unterminated; /* a run without its newline came before another */
	bool empty;        /* a run of no bytes */
	bool last_open;
};

static bool collect(const char *t, size_t n, void *arg)
{
	struct runs *r = arg;

	if (r->last_open)
		r->unterminated = true;
	r->empty |= n == 0;
	r->last_open = n && t[n - 1] != '\n';
	if (n > sizeof(r->text) - r->len) {
		fprintf(stderr, "collect: overflow\n");
		exit(2);
	}
	memcpy(r->text + r->len, t, n);
	r->len += n;
	return ++r->calls != r->stop_after;
}

/* text less its lines longer than cap with a newline (the last line, which
 * has none, would need room for one too). */
static size_t lines_up_to(const char *text, size_t len, size_t cap, char *out)
{
	size_t n = 0;

	for (size_t s = 0, e; s < len; s = e) {
		const char *nl = memchr(text + s, '\n', len - s);

		e = nl ? (size_t)(nl - text) + 1 : len;
		if (e - s + !nl <= cap) {
			memcpy(out + n, text + s, e - s);
			n += e - s;
		}
	}
	return n;
}

static void test_read_lines(void)
{
	/* lines of many lengths, the last without its newline */
	static const char text[] =
		"10.0.0.1 a\n\n#\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx long\n"
		"b\nnameserver 10.0.0.2\n1234567890123456789\n\n\nend";
	const size_t len = sizeof(text) - 1;
	char *path = temp_file(text, len), want[sizeof(text)], buf[128];
	int fails = 0;

	for (size_t cap = 1; cap <= len + 2; cap++) {
		struct runs r = { .len = 0 };
		size_t wn = lines_up_to(text, len, cap, want);
		int rc = dns_read_lines(path, len, buf, cap, collect, &r);

		SWEEP_CHECK(fails, rc == 0, "cap %zu: %d", cap, rc);
		SWEEP_CHECK(fails, r.len == wn && !memcmp(r.text, want, wn),
			    "cap %zu: %zu bytes, want %zu: %.*s", cap, r.len, wn,
			    (int)r.len, r.text);
		SWEEP_CHECK(fails, !r.unterminated && !r.empty,
			    "cap %zu: runs not whole lines", cap);
	}
	CHECK_EQ(fails, 0);
	/* with room for every line, nothing is lost */
	{
		struct runs r = { .len = 0 };

		CHECK_EQ(dns_read_lines(path, len, buf, sizeof(buf), collect, &r), 0);
		CHECK_MEM(r.text, r.len, text, len);
		CHECK_EQ(r.calls, 2); /* all but "end", then "end" at EOF */
	}
	/* each() stops it. */
	{
		struct runs r = { .stop_after = 1 };

		CHECK_EQ(dns_read_lines(path, len, buf, 16, collect, &r), 0);
		CHECK_EQ(r.calls, 1);
		CHECK_MEM(r.text, r.len, "10.0.0.1 a\n\n#\n", 14);
	}
	/* The size limit, exactly. */
	{
		struct runs r = { .len = 0 };

		CHECK_EQ(dns_read_lines(path, len - 1, buf, sizeof(buf), collect,
					&r), -EFBIG);
		CHECK_EQ(dns_read_lines(path, 0, buf, sizeof(buf), collect, &r),
			 -EFBIG);
		CHECK_EQ(dns_read_lines(path, len, buf, 0, collect, &r), -EINVAL);
	}
	unlink(path);
	free(path);

	struct runs r = { .len = 0 };
	CHECK_EQ(dns_read_lines("/nonexistent/l2tpd-hosts", 100, buf,
				sizeof(buf), collect, &r), -ENOENT);
	CHECK_EQ(dns_read_lines("/dev/zero", 100000, buf, sizeof(buf), collect,
				&r), -EFBIG);
	CHECK_EQ(r.calls, 0);

	path = temp_file("", 0);
	CHECK_EQ(dns_read_lines(path, 100, buf, sizeof(buf), collect, &r), 0);
	CHECK_EQ(r.calls, 0);
	unlink(path);
	free(path);

	/* A pipe delivers in pieces of its own; the result is the same. */
	{
		char fdpath[64];
		int p[2];
		pid_t pid;

		if (pipe(p)) {
			perror("pipe");
			exit(2);
		}
		pid = fork();
		if (!pid) {
			close(p[0]);
			for (size_t i = 0; i < len; i += 7) {
				size_t n = len - i < 7 ? len - i : 7;

				if (write(p[1], text + i, n) != (ssize_t)n)
					_exit(1);
				usleep(1000);
			}
			_exit(0);
		}
		close(p[1]);
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", p[0]);
		memset(&r, 0, sizeof(r));
		CHECK_EQ(dns_read_lines(fdpath, len, buf, 24, collect, &r), 0);
		size_t wn = lines_up_to(text, len, 24, want);
		CHECK_MEM(r.text, r.len, want, wn);
		CHECK(!r.unterminated && !r.empty);
		close(p[0]);
		waitpid(pid, NULL, 0);
	}
}

/* dns_lookup_local with IPv4 results only */
static int local4(const char *name, struct in_addr *out, int max)
{
	union sockaddr_inet u[16];
	int r;

	REQUIRE(max <= 16);
	r = dns_lookup_local(name, u, max);
	return r > 0 ? only_v4(u, r, out) : r;
}

static void test_resolve_local(void)
{
	const char hosts[] = "10.0.0.1 " QNAME " bk\n"
			     "10.0.0.2 " QNAME "\n"
			     "10.0.0.3 bad..name\n";
	char *path = temp_file(hosts, sizeof(hosts) - 1);
	struct in_addr out[4];
	char longname[300];

	memset(out, 0, sizeof(out));
	CHECK_EQ(local4("192.0.2.7", out, 4), 1);
	CHECK_EQ(out[0].s_addr, ip("192.0.2.7"));

	setenv("L2TPD_HOSTS", path, 1);
	memset(out, 0, sizeof(out));
	CHECK_EQ(local4(QNAME, out, 4), 2);
	CHECK_EQ(out[0].s_addr, ip("10.0.0.1"));
	CHECK_EQ(out[1].s_addr, ip("10.0.0.2"));
	CHECK_EQ(local4(QNAME, out, 1), 1);
	CHECK_EQ(local4("BK", out, 4), 1);
	CHECK_EQ(local4("bad..name", out, 4), 1);
	CHECK_EQ(local4("elsewhere.example.org", out, 4), 0);
	CHECK_EQ(local4("1.2.3", out, 4), 0);
	CHECK_EQ(local4("other..name", out, 4), -EINVAL);
	CHECK_EQ(local4("", out, 4), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(local4(longname, out, 4), -EINVAL);
	CHECK_EQ(local4(QNAME, out, 0), -EINVAL);

	unlink(path);
	free(path);

	/* A big file is read piece by piece: entries at its end are found,
	 * and a line too long for the line buffer (4096 bytes) is skipped. */
	{
		size_t cap = 200000, n = 0;
		char *big = xmalloc(cap);

		for (int i = 0; n < 100000; i++)
			n += (size_t)snprintf(big + n, cap - n,
					      "10.1.%d.%d host%d.example\n",
					      i / 250 % 250, i % 250 + 1, i);
		n += (size_t)snprintf(big + n, cap - n, "10.0.0.7 %s", QNAME);
		memset(big + n, ' ', 5000);
		n += 5000;
		n += (size_t)snprintf(big + n, cap - n, "x\n10.0.0.8 " QNAME "\n");
		path = temp_file(big, n);
		setenv("L2TPD_HOSTS", path, 1);
		memset(out, 0, sizeof(out));
		CHECK_EQ(local4(QNAME, out, 4), 1);
		CHECK_EQ(out[0].s_addr, ip("10.0.0.8"));
		CHECK_EQ(local4("host0.example", out, 4), 1);
		CHECK_EQ(out[0].s_addr, ip("10.1.0.1"));
		CHECK_EQ(local4("host2999.example", out, 4), 1);
		CHECK_EQ(out[0].s_addr, ip("10.1.11.250"));
		free(big);
	}

	setenv("L2TPD_HOSTS", "/nonexistent/l2tpd-hosts", 1);
	CHECK_EQ(local4(QNAME, out, 4), 0);
	CHECK_EQ(local4("10.0.0.9", out, 4), 1);
	unsetenv("L2TPD_HOSTS");
	unlink(path);
	free(path);
}

/* IPv6 in hosts files and literals. */
static void test_lookup_local6(void)
{
	const char hosts[] = "2001:db8::10 " QNAME "\n"
			     "10.0.0.1 " QNAME "\n"
			     "::ffff:10.0.0.2 " QNAME "\n"
			     "fe80::1%lo " QNAME "\n"
			     "fe80::2%no-such-if0 " QNAME "\n"
			     "2001:db8::11 v6only.example\n"
			     "2001:db8:::12 " QNAME "\n";
	char *path = temp_file(hosts, sizeof(hosts) - 1);
	unsigned lo = if_nametoindex("lo");
	union sockaddr_inet out[8];

	REQUIRE(lo > 0);
	setenv("L2TPD_HOSTS", path, 1);
	memset(out, 0, sizeof(out));
	CHECK_EQ(dns_lookup_local(QNAME, out, 8), 4);
	CHECK(test_is_addr(&out[0], "2001:db8::10", 0));
	CHECK(test_is_addr(&out[1], "10.0.0.1", 0));
	CHECK(test_is_addr(&out[2], "10.0.0.2", 0)); /* unmapped */
	CHECK(test_is_addr(&out[3], "fe80::1", lo));
	CHECK_EQ(dns_lookup_local(QNAME, out, 2), 2);
	CHECK_EQ(dns_lookup_local("v6only.example", out, 8), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::11", 0));

	CHECK_EQ(dns_lookup_local("2001:DB8::1", out, 8), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::1", 0));
	CHECK_EQ(dns_lookup_local("fe80::1%lo", out, 8), 1);
	CHECK(test_is_addr(&out[0], "fe80::1", lo));
	CHECK_EQ(dns_lookup_local("fe80::1%77", out, 8), 1);
	CHECK(test_is_addr(&out[0], "fe80::1", 77));
	CHECK_EQ(dns_lookup_local("fe80::1%no-such-if0", out, 8), -ENODEV);
	CHECK_EQ(dns_lookup_local("::ffff:192.0.2.9", out, 8), 1);
	CHECK(test_is_addr(&out[0], "192.0.2.9", 0));
	CHECK_EQ(dns_lookup_local("2001:db8:::1", out, 8), -EINVAL);
	CHECK_EQ(dns_lookup_local("2001:db8::1", out, 0), -EINVAL);

	unsetenv("L2TPD_HOSTS");
	unlink(path);
	free(path);
}

static void test_hosts6_text(void)
{
	const char *hosts = "::1 localhost ip6-localhost\n"
			    "127.0.0.1 localhost\n"
			    "fe80::1%eth0 router\n"
			    "fe80::2%wlan0 router\n"
			    "fe80::3%3 router\n"
			    "2001:db8::1 b # 2001:db8::2 b\n"
			    "2001:db8::1/64 b\n"
			    "[2001:db8::3] b\n"
			    "2001:db8::4\tB\n";
	union sockaddr_inet out[8];
	size_t n = strlen(hosts);
	char *p = (char *)test_dup(hosts, n);

	CHECK_EQ(dns_hosts_lookup(p, n, "localhost", out, 8, fake_ifindex), 2);
	CHECK(test_is_addr(&out[0], "::1", 0));
	CHECK(test_is_addr(&out[1], "127.0.0.1", 0));
	CHECK_EQ(dns_hosts_lookup(p, n, "router", out, 8, fake_ifindex), 2);
	CHECK(test_is_addr(&out[0], "fe80::1", 7));
	CHECK(test_is_addr(&out[1], "fe80::3", 3));
	CHECK_EQ(dns_hosts_lookup(p, n, "router", out, 8, NULL), 1);
	CHECK(test_is_addr(&out[0], "fe80::3", 3));
	CHECK_EQ(dns_hosts_lookup(p, n, "b", out, 8, fake_ifindex), 2);
	CHECK(test_is_addr(&out[0], "2001:db8::1", 0));
	CHECK(test_is_addr(&out[1], "2001:db8::4", 0));
	CHECK_EQ(dns_hosts_lookup(p, n, "b", out, 1, fake_ifindex), 1);
	free(p);
}

SUITE(dns_hosts)
{
	test_hosts_text();
	test_hosts_long();
	test_resolv();
	test_read_lines();
	test_resolve_local();
	test_lookup_local6();
	test_hosts6_text();
}

/* ---- the stub resolver against a fake nameserver ---- */

/* A UDP socket on loopback of the family of lo ("127.0.0.1", "::1", ...),
 * at port (0: any); its address in sa.  -1 if that cannot be bound. */
static int try_udp_socket(const char *lo, uint16_t port, union sockaddr_inet *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd;

	REQUIRE(addr_parse_ip(lo, strlen(lo), sa, NULL) == 0);
	addr_set_port(sa, port);
	fd = socket(sa->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &sa->sa, addr_len(sa)) ||
	    getsockname(fd, &sa->sa, &sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int udp_socket(union sockaddr_inet *sa)
{
	int fd = try_udp_socket("127.0.0.1", 0, sa);

	REQUIRE(fd >= 0);
	return fd;
}

static short wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* The fake server's next query, with where it came from; length or -1. */
static ssize_t server_recv(int fd, uint8_t *buf, size_t cap,
			   union sockaddr_inet *from)
{
	socklen_t fl = sizeof(*from);

	if (!(wait_fd(fd, 2000) & POLLIN))
		return -1;
	return recvfrom(fd, buf, cap, 0, &from->sa, &fl);
}

struct asked {
	uint8_t q[2][300]; /* the A, then the AAAA question */
	ssize_t n[2];
	union sockaddr_inet from;
};

/* Both questions of one attempt, sorted by type; false if either is
 * missing or of another type. */
static bool server_recv_both(int fd, struct asked *a)
{
	for (int i = 0; i < 2; i++) {
		uint8_t buf[300];
		ssize_t n = server_recv(fd, buf, sizeof(buf), &a->from);
		unsigned type;
		int t;

		if (n < 16)
			return false;
		type = (unsigned)(buf[n - 4] << 8 | buf[n - 3]);
		if (type != DNS_TYPE_A && type != DNS_TYPE_AAAA)
			return false;
		t = type == DNS_TYPE_AAAA;
		memcpy(a->q[t], buf, (size_t)n);
		a->n[t] = n;
	}
	return a->n[0] > 0 && a->n[1] > 0;
}

static void m_rr_aaaa(struct msg *m, const char *owner, int optr,
		      const char *a)
{
	uint8_t v[16];
	size_t at = m_rr_start(m, owner, optr, DNS_TYPE_AAAA, 1);

	REQUIRE(inet_pton(AF_INET6, a, v) == 1);
	for (int i = 0; i < 16; i++)
		m_u8(m, v[i]);
	m_rr_end(m, at);
}

/* Answers query q/qn with rcode and the given addresses, A or AAAA records
 * as they are written (owner compressed to the question), from id (the
 * query's own if < 0). */
static void server_reply(int fd, const union sockaddr_inet *to,
			 const uint8_t *q, ssize_t qn, int id, unsigned rcode,
			 const char *const *addrs, unsigned naddrs)
{
	struct msg m;

	if (qn < 12)
		return; /* the caller's checks report the missing query */
	m_hdr(&m, id < 0 ? (unsigned)(q[0] << 8 | q[1]) : (unsigned)id,
	      0x8180 | rcode, 1, naddrs);
	for (ssize_t i = 12; i < qn; i++)
		m_u8(&m, q[i]);
	for (unsigned i = 0; i < naddrs; i++) {
		if (strchr(addrs[i], ':'))
			m_rr_aaaa(&m, "", 12, addrs[i]);
		else
			m_rr_a(&m, "", 12, addrs[i]);
	}
	if (sendto(fd, m.b, m.n, 0, &to->sa, addr_len(to)) != (ssize_t)m.n) {
		perror("sendto");
		exit(2);
	}
}

static void reply(int fd, const struct asked *a, int t, unsigned rcode,
		  const char *const *addrs, unsigned naddrs)
{
	server_reply(fd, &a->from, a->q[t], a->n[t], -1, rcode, addrs, naddrs);
}

static char *write_resolv(const char *text)
{
	char *path = temp_file(text, strlen(text));

	setenv("L2TPD_RESOLV_CONF", path, 1);
	return path;
}

/* dns_query_run once q->fd is readable (or 2 s passed). */
static int run_when_readable(struct dns_query *q, union sockaddr_inet *out,
			     int max, int64_t now)
{
	if (!(wait_fd(q->fd, 2000) & POLLIN))
		return -99;
	usleep(20000); /* let datagrams sent together arrive together */
	return dns_query_run(q, out, max, now);
}

static void test_roundtrip(void)
{
	static const char *const addrs[] = { "10.20.0.1", "10.20.0.2" };
	static const char *const addrs6[] = { "2001:db8::5", "2001:db8::6" };
	char *conf = write_resolv("nameserver 127.0.0.1\n");
	union sockaddr_inet sa, peer, out[4];
	socklen_t pl = sizeof(peer);
	struct dns_query q;
	struct asked a;
	uint8_t want[300];
	ssize_t wn;
	int srv = udp_socket(&sa), other, fl;

	dns_port = addr_port(&sa);
	dns_query_init(&q);
	CHECK_EQ(q.fd, -1);
	CHECK(!dns_query_pending(&q));
	CHECK_EQ(dns_query_start(&q, QNAME ".", 1000), 0);
	CHECK(dns_query_pending(&q));
	CHECK(q.fd >= 0);
	CHECK_EQ(q.deadline, 1000 + DNS_ATTEMPT_MS);
	CHECK_EQ(q.nservers, 1);
	CHECK(!strcmp(q.name, QNAME));
	CHECK(q.id[0] != q.id[1]);
	fl = fcntl(q.fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK));
	CHECK(fcntl(q.fd, F_GETFD) & FD_CLOEXEC);
	CHECK(!getpeername(q.fd, &peer.sa, &pl) && addr_equal(&peer, &sa));
	CHECK_EQ(dns_query_run(&q, out, 4, 1001), 0); /* nothing yet */

	/* The A question byte for byte as before, then the AAAA one. */
	CHECK(server_recv_both(srv, &a));
	wn = dns_build_query(want, sizeof(want), q.id[0], QNAME, DNS_TYPE_A);
	CHECK_MEM(a.q[0], (size_t)a.n[0], want, wn > 0 ? (size_t)wn : 0);
	wn = dns_build_query(want, sizeof(want), q.id[1], QNAME, DNS_TYPE_AAAA);
	CHECK_MEM(a.q[1], (size_t)a.n[1], want, wn > 0 ? (size_t)wn : 0);

	/* Another sender's answer never reaches the connected socket. */
	other = udp_socket(&sa);
	server_reply(other, &a.from, a.q[0], a.n[0], -1, 0, addrs, 1);
	close(other);
	CHECK_EQ(wait_fd(q.fd, 100), 0);
	CHECK_EQ(dns_query_run(&q, out, 4, 1002), 0);

	/* A wrong id is skipped; the right answer behind it counts, and the
	 * query waits for the other question. */
	server_reply(srv, &a.from, a.q[0], a.n[0], q.id[0] ^ 1, 0, addrs, 1);
	reply(srv, &a, 0, 0, addrs, 2);
	CHECK_EQ(run_when_readable(&q, out, 4, 1003), 0);
	CHECK(dns_query_pending(&q));
	/* no AAAA record: the A ones are the answer */
	reply(srv, &a, 1, 0, NULL, 0);
	memset(out, 0, sizeof(out));
	CHECK_EQ(run_when_readable(&q, out, 4, 1004), 2);
	CHECK_EQ(out[0].in.sin_addr.s_addr, ip("10.20.0.1"));
	CHECK_EQ(out[1].in.sin_addr.s_addr, ip("10.20.0.2"));
	CHECK_EQ(out[0].sa.sa_family, AF_INET);
	CHECK_EQ(addr_port(&out[0]), 0);
	CHECK_EQ(q.fd, -1);
	CHECK(!dns_query_pending(&q));
	CHECK_EQ(dns_query_run(&q, out, 4, 1005), -EBADF);

	/* Both types, the AAAA answer first: A records still come first,
	 * and max cuts the list. */
	CHECK_EQ(dns_query_start(&q, QNAME, 1500), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 1, 0, addrs6, 2);
	reply(srv, &a, 0, 0, addrs, 1);
	memset(out, 0, sizeof(out));
	CHECK_EQ(run_when_readable(&q, out, 4, 1501), 3);
	CHECK(test_is_addr(&out[0], "10.20.0.1", 0));
	CHECK(test_is_addr(&out[1], "2001:db8::5", 0));
	CHECK(test_is_addr(&out[2], "2001:db8::6", 0));
	CHECK_EQ(dns_query_start(&q, QNAME, 1600), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, addrs, 2);
	reply(srv, &a, 1, 0, addrs6, 2);
	CHECK_EQ(run_when_readable(&q, out, 3, 1601), 3);
	CHECK(test_is_addr(&out[2], "2001:db8::5", 0));
	/* addresses for one question, REFUSED for the other (dnsmasq with a
	 * host record of one family does this): the addresses, at once */
	CHECK_EQ(dns_query_start(&q, QNAME, 1650), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, addrs, 1);
	reply(srv, &a, 1, 5, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 1651), 1);
	CHECK(test_is_addr(&out[0], "10.20.0.1", 0));
	/* an AAAA-only name */
	CHECK_EQ(dns_query_start(&q, QNAME, 1700), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, NULL, 0);
	reply(srv, &a, 1, 0, addrs6 + 1, 1);
	CHECK_EQ(run_when_readable(&q, out, 4, 1701), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::6", 0));

	/* NXDOMAIN (and no record of the other type) ends the query. */
	CHECK_EQ(dns_query_start(&q, QNAME, 2000), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 3, NULL, 0);
	reply(srv, &a, 1, 3, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 2001), -ENOENT);
	CHECK_EQ(q.fd, -1);

	/* SERVFAIL for one question moves on once the other is in (the one
	 * server, second round), and the last attempt's error is returned. */
	CHECK_EQ(dns_query_start(&q, QNAME, 3000), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 2, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 3001), 0);
	CHECK_EQ(q.attempt, 0);
	reply(srv, &a, 1, 0, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 3002), 0);
	CHECK(q.fd >= 0);
	CHECK_EQ(q.attempt, 1);
	CHECK_EQ(q.deadline, 3002 + DNS_ATTEMPT_MS);
	CHECK(server_recv_both(srv, &a));
	CHECK((a.q[0][0] << 8 | a.q[0][1]) == q.id[0]);
	reply(srv, &a, 0, 5, NULL, 0);
	reply(srv, &a, 1, 5, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 3003), -EIO);
	CHECK_EQ(q.fd, -1);

	/* Truncated, then a good answer from the retry. */
	CHECK_EQ(dns_query_start(&q, QNAME, 4000), 0);
	CHECK(server_recv_both(srv, &a));
	{
		struct msg m;

		m_hdr(&m, q.id[0], 0x8380, 1, 0);
		m_question(&m, QNAME, 1, 1);
		sendto(srv, m.b, m.n, 0, &a.from.sa, addr_len(&a.from));
	}
	reply(srv, &a, 1, 0, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 4001), 0);
	CHECK_EQ(q.attempt, 1);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, addrs + 1, 1);
	reply(srv, &a, 1, 0, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 4002), 1);
	CHECK_EQ(out[0].in.sin_addr.s_addr, ip("10.20.0.2"));

	/* One question unanswered (a server that drops AAAA or A queries):
	 * once the other's addresses are in, the wait for it is cut to
	 * DNS_SECOND_ANSWER_MS, then those addresses are taken. */
	CHECK_EQ(dns_query_start(&q, QNAME, 4500), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 1, 0, addrs6, 1);
	CHECK_EQ(run_when_readable(&q, out, 4, 4501), 0);
	CHECK_EQ(q.deadline, 4501 + DNS_SECOND_ANSWER_MS);
	CHECK_EQ(dns_query_run(&q, out, 4, 4501 + DNS_SECOND_ANSWER_MS - 1), 0);
	CHECK_EQ(dns_query_run(&q, out, 4, 4501 + DNS_SECOND_ANSWER_MS), 1);
	CHECK(test_is_addr(&out[0], "2001:db8::5", 0));
	CHECK(!dns_query_pending(&q));
	/* ... the answer that comes within it is taken as well */
	CHECK_EQ(dns_query_start(&q, QNAME, 4550), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, addrs, 1);
	CHECK_EQ(run_when_readable(&q, out, 4, 4551), 0);
	CHECK_EQ(q.deadline, 4551 + DNS_SECOND_ANSWER_MS);
	reply(srv, &a, 1, 0, addrs6, 1);
	CHECK_EQ(run_when_readable(&q, out, 4, 4552), 2);
	CHECK_EQ(out[0].in.sin_addr.s_addr, ip("10.20.0.1"));
	CHECK(test_is_addr(&out[1], "2001:db8::5", 0));
	/* ... and an empty answer does not cut the wait for the other */
	CHECK_EQ(dns_query_start(&q, QNAME, 4560), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 1, 0, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 4561), 0);
	CHECK_EQ(q.deadline, 4560 + DNS_ATTEMPT_MS);
	dns_query_cancel(&q);
	/* ... and with no record of the other type, the next attempt */
	CHECK_EQ(dns_query_start(&q, QNAME, 4600), 0);
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 1, 0, NULL, 0);
	CHECK_EQ(run_when_readable(&q, out, 4, 4601), 0);
	CHECK_EQ(dns_query_run(&q, out, 4, 4600 + DNS_ATTEMPT_MS), 0);
	CHECK_EQ(q.attempt, 1);
	/* Restarting a running query replaces it; cancel leaves it idle. */
	CHECK_EQ(dns_query_start(&q, QNAME, 5000), 0);
	CHECK_EQ(dns_query_start(&q, "other.example.org", 5000), 0);
	CHECK(!strcmp(q.name, "other.example.org"));
	dns_query_cancel(&q);
	CHECK_EQ(q.fd, -1);
	dns_query_cancel(&q);
	CHECK_EQ(q.fd, -1);

	close(srv);
	unsetenv("L2TPD_RESOLV_CONF");
	unlink(conf);
	free(conf);
}

/* A nameserver on ::1: the query socket is IPv6. */
static void test_ipv6_server(void)
{
	static const char *const addrs[] = { "10.20.0.3", "2001:db8::7" };
	char *conf = write_resolv("nameserver ::1\n");
	union sockaddr_inet sa, peer, out[4];
	socklen_t pl = sizeof(peer);
	struct dns_query q;
	struct asked a;
	int srv = try_udp_socket("::1", 0, &sa);

	REQUIRE(srv >= 0); /* loopback has ::1 in any network namespace */
	dns_port = addr_port(&sa);
	dns_query_init(&q);
	CHECK_EQ(dns_query_start(&q, QNAME, 0), 0);
	CHECK(!getpeername(q.fd, &peer.sa, &pl) && addr_equal(&peer, &sa));
	CHECK(server_recv_both(srv, &a));
	reply(srv, &a, 0, 0, addrs, 1);
	reply(srv, &a, 1, 0, addrs + 1, 1);
	CHECK_EQ(run_when_readable(&q, out, 4, 1), 2);
	CHECK(test_is_addr(&out[0], "10.20.0.3", 0));
	CHECK(test_is_addr(&out[1], "2001:db8::7", 0));
	close(srv);
	unsetenv("L2TPD_RESOLV_CONF");
	unlink(conf);
	free(conf);
}

/* Nobody listens: the kernel's port-unreachable counts as a failed
 * attempt.  It may come back on the AAAA send of the same attempt, so
 * start can end the query already. */
static void test_refused(void)
{
	char *conf = write_resolv("nameserver 127.0.0.1\n");
	union sockaddr_inet sa, out[2];
	struct dns_query q;
	int fd = udp_socket(&sa), r, runs = 0;

	close(fd);
	dns_port = addr_port(&sa);
	dns_query_init(&q);
	r = dns_query_start(&q, QNAME, 0);
	while (!r && runs++ < 2 * DNS_ROUNDS) {
		if (!(wait_fd(q.fd, 2000) & (POLLIN | POLLERR)))
			break;
		r = dns_query_run(&q, out, 2, 10);
	}
	CHECK_EQ(r, -ECONNREFUSED);
	CHECK_EQ(q.attempt, DNS_ROUNDS);
	CHECK_EQ(q.fd, -1);
	unsetenv("L2TPD_RESOLV_CONF");
	unlink(conf);
	free(conf);
}

/* Servers that take the questions and never answer: the query's own
 * schedule ends it, DNS_QUERY_MAX_MS after the start. */
static void test_timeout(void)
{
	static const char *const lo[] = { "127.0.0.1", "127.0.0.2", "127.0.0.3" };
	char *conf = write_resolv("nameserver 127.0.0.1\n"
				  "nameserver 127.0.0.2\n"
				  "nameserver 127.0.0.3\n"
				  "nameserver 127.0.0.4\n");
	union sockaddr_inet sa, out[2];
	struct dns_query q;
	int64_t start = 50000, now = start;
	unsigned ids = 0;
	uint16_t first;
	int silent[3];

	silent[0] = udp_socket(&sa);
	dns_port = addr_port(&sa);
	for (int i = 1; i < 3; i++) {
		silent[i] = try_udp_socket(lo[i], dns_port, &sa);
		REQUIRE(silent[i] >= 0);
	}
	dns_query_init(&q);
	CHECK_EQ(dns_query_start(&q, QNAME, now), 0);
	CHECK_EQ(q.nservers, DNS_MAX_SERVERS);
	first = q.id[0];
	for (unsigned i = 0; i < DNS_ROUNDS * DNS_MAX_SERVERS; i++) {
		union sockaddr_inet peer;
		socklen_t pl = sizeof(peer);

		CHECK_EQ(q.attempt, i);
		CHECK(q.fd >= 0);
		CHECK_EQ(q.deadline, now + DNS_ATTEMPT_MS);
		CHECK(!getpeername(q.fd, &peer.sa, &pl) &&
		      addr_port(&peer) == dns_port);
		addr_set_port(&peer, 0);
		CHECK(test_is_addr(&peer, lo[i % DNS_MAX_SERVERS], 0));
		ids += q.id[0] != first;
		CHECK_EQ(dns_query_run(&q, out, 2, q.deadline - 1), 0);
		now += DNS_ATTEMPT_MS;
		if (i + 1 < DNS_ROUNDS * DNS_MAX_SERVERS)
			CHECK_EQ(dns_query_run(&q, out, 2, now), 0);
	}
	CHECK(ids > 0); /* fresh ids per attempt */
	CHECK_EQ(now, start + DNS_QUERY_MAX_MS);
	CHECK_EQ(dns_query_run(&q, out, 2, now), -ETIMEDOUT);
	CHECK_EQ(q.fd, -1);
	CHECK_EQ(dns_query_run(&q, out, 2, now), -EBADF);

	/* One server: DNS_ROUNDS attempts. */
	unlink(conf);
	free(conf);
	conf = write_resolv("nameserver 127.0.0.1\n");
	CHECK_EQ(dns_query_start(&q, QNAME, 0), 0);
	for (unsigned i = 1; i < DNS_ROUNDS; i++)
		CHECK_EQ(dns_query_run(&q, out, 2, i * DNS_ATTEMPT_MS), 0);
	CHECK_EQ(dns_query_run(&q, out, 2, 99999), -ETIMEDOUT);
	CHECK_EQ(q.fd, -1);
	for (int i = 0; i < 3; i++)
		close(silent[i]);

	/* No nameserver, no file, or a name DNS cannot carry. */
	unlink(conf);
	free(conf);
	conf = write_resolv("# empty\nnameserver fe80::1%no-such-if0\n");
	CHECK_EQ(dns_query_start(&q, QNAME, 0), -ENOENT);
	CHECK_EQ(q.fd, -1);
	setenv("L2TPD_RESOLV_CONF", "/nonexistent/l2tpd-resolv.conf", 1);
	CHECK_EQ(dns_query_start(&q, QNAME, 0), -ENOENT);
	unlink(conf);
	free(conf);
	conf = write_resolv("nameserver 127.0.0.1\n");
	CHECK_EQ(dns_query_start(&q, "a..b", 0), -EINVAL);
	CHECK_EQ(dns_query_start(&q, "", 0), -EINVAL);
	CHECK_EQ(q.fd, -1);
	CHECK_EQ(dns_query_run(&q, out, 2, 0), -EBADF);

	unsetenv("L2TPD_RESOLV_CONF");
	unlink(conf);
	free(conf);
	dns_port = 53;
}

SUITE(dns_query)
{
	uint16_t saved = dns_port;

	test_roundtrip();
	test_ipv6_server();
	test_refused();
	test_timeout();
	dns_port = saved;
}

SUITE(dns_services)
{
	const char text[] = "# Network services\n"
			    "domain\t\t53/tcp\n"
			    "domain\t\t53/udp\t\t# Domain Name Server\n"
			    "tunnel 8942/udp td digger\n"
			    "broken x42/udp\n"
			    "toobig 65536/udp\n"
			    "noproto 77\n"
			    "tcponly 99/tcp\n"
			    "  lead  1000/udp\r\n"
			    "last 65535/UDP";
	size_t n = sizeof(text) - 1;
	char *path = temp_file(text, n);
	int fails = 0;

	CHECK_EQ(dns_services_lookup(text, n, "domain", "udp"), 53);
	CHECK_EQ(dns_services_lookup(text, n, "domain", "tcp"), 53);
	CHECK_EQ(dns_services_lookup(text, n, "tunnel", "udp"), 8942);
	CHECK_EQ(dns_services_lookup(text, n, "digger", "udp"), 8942); /* alias */
	CHECK_EQ(dns_services_lookup(text, n, "TD", "udp"), 8942);     /* any case */
	CHECK_EQ(dns_services_lookup(text, n, "tunnel", "tcp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "broken", "udp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "toobig", "udp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "noproto", "udp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "tcponly", "udp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "lead", "udp"), 1000);
	CHECK_EQ(dns_services_lookup(text, n, "last", "udp"), 65535);
	CHECK_EQ(dns_services_lookup(text, n, "Name", "udp"), 0); /* in a comment */
	CHECK_EQ(dns_services_lookup(text, n, "", "udp"), 0);
	CHECK_EQ(dns_services_lookup(text, n, "domai", "udp"), 0);
	/* every cut of the text, each in a buffer of exactly its size */
	for (size_t k = 0; k <= n; k++) {
		uint8_t *cut = test_dup(text, k);
		int want = k >= strlen("# Network services\ndomain\t\t53/tcp\n"
				       "domain\t\t53/udp") ? 53 : 0;

		SWEEP_CHECK(fails, dns_services_lookup((const char *)cut, k, "domain",
						       "udp") == want,
			    "cut at %zu", k);
		free(cut);
	}
	CHECK_EQ(fails, 0);

	setenv("L2TPD_SERVICES", path, 1);
	CHECK_EQ(dns_service_port("tunnel", "udp"), 8942);
	CHECK_EQ(dns_service_port("nothere", "udp"), 0);
	setenv("L2TPD_SERVICES", "/nonexistent/l2tpd-services", 1);
	CHECK_EQ(dns_service_port("tunnel", "udp"), 0);
	unsetenv("L2TPD_SERVICES");
	unlink(path);
	free(path);
}
