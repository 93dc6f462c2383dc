/* SPDX-License-Identifier: MIT */
/*
 * addr.c, and fmt_inet_ntop's IPv6 form, against the C library's
 * inet_pton and inet_ntop (here only: l2tpd itself links neither) over
 * edge cases and many random addresses and strings.  Parsing runs on
 * exact-size heap copies, so `make SAN=1 test-unit` catches a read past n.
 */
#include "check.h"
#include "addr.h"
#include "fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A fixed seed: a failure reproduces. */
static uint32_t rng = 0x2545f491;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static unsigned fake_ifindex(const char *name)
{
	return !strcmp(name, "eth0") ? 7 : !strcmp(name, "br-lan.10") ? 42 : 0;
}

int test_is_addr(const union sockaddr_inet *a, const char *want,
		 uint32_t scope)
{
	union sockaddr_inet w;

	REQUIRE(addr_parse_ip(want, strlen(want), &w, NULL) == 0);
	if (w.sa.sa_family == AF_INET6)
		w.in6.sin6_scope_id = scope;
	return addr_equal(a, &w);
}

/* addr_parse_ip on an exact-size copy of s. */
static int parse(const char *s, union sockaddr_inet *out)
{
	size_t n = strlen(s);
	uint8_t *copy = test_dup(s, n);
	int r = addr_parse_ip((const char *)copy, n, out, fake_ifindex);

	free(copy);
	return r;
}

/* Whether ours and inet_pton agree on s: same verdict, same bytes. */
static bool agrees(const char *s, char *why, size_t cap)
{
	union sockaddr_inet a;
	uint8_t want6[16], want4[4];
	int r = parse(s, &a);
	bool ok4 = inet_pton(AF_INET, s, want4) == 1;
	bool ok6 = !ok4 && inet_pton(AF_INET6, s, want6) == 1;

	if (ok4)
		return (!r && a.sa.sa_family == AF_INET &&
			!memcmp(&a.in.sin_addr, want4, 4)) ||
		       (snprintf(why, cap, "IPv4 for libc, %d here", r), false);
	if (ok6)
		return (!r && a.sa.sa_family == AF_INET6 &&
			!memcmp(&a.in6.sin6_addr, want6, 16) &&
			!a.in6.sin6_scope_id && !a.in6.sin6_port) ||
		       (snprintf(why, cap, "IPv6 for libc, %d here", r), false);
	return r == -EINVAL ||
	       (snprintf(why, cap, "refused by libc, %d here", r), false);
}

SUITE(addr_parse_edges)
{
	static const char *const cases[] = {
		/* accepted */
		"::", "::1", "1::", "1::2", "2001:db8::1", "2001:DB8::A",
		"fe80::", "0:0:0:0:0:0:0:0", "1:2:3:4:5:6:7:8", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::", "1::3:4:5:6:7:8", "1:2:3:4:5:6::8",
		"0000:0000:0000:0000:0000:0000:0000:0001", "ffff:FFFF::fFfF",
		"::ffff:192.0.2.1", "::192.0.2.1", "1:2:3:4:5:6:1.2.3.4",
		"1::1.2.3.4", "::ffff:0.0.0.0", "::255.255.255.255", "abcd::ef01",
		"0.0.0.0", "192.0.2.1", "255.255.255.255", "1.2.3.4",
		/* refused */
		"", ":", ":::", "::::", "1:::2", "1::2::3", ":1", "1:", ":1::",
		"::1:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "::12345",
		"g::", "::g", "1.2.3.4::", "::1.2.3", "::1.2.3.4.5", "::01.2.3.4",
		"::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5", "1.2.3.4:5::",
		"::ffff:1.2.3.04", " ::1", "::1 ", "[::1]", "::1/64", "01.2.3.4",
		"1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "256.0.0.0", "1.2.3.4 ",
		"0x1.2.3.4", "1.2.3.-4", "+1.2.3.4", "1234.1.1.1", "::-1", "-::1",
		"::ffff:1.2.3.4.", ":::1.2.3.4", "1:2:3:4:5:6:7:8:", "::1234567",
	};
	int fails = 0;
	char why[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		SWEEP_CHECK(fails, agrees(cases[i], why, sizeof(why)), "\"%s\": %s",
			    cases[i], why);
	CHECK_EQ(fails, 0);
}

/* Strings made of the pieces addresses are made of, so that most are near
 * misses, and a fair share are valid in either family. */
static void random_text(char *s, size_t cap)
{
	static const char *const pieces[] = {
		":", "::", ".", "0", "1", "00", "09", "255", "256", "1.2.3.4",
		"ffff", "FfFf", "abcd", "12345", "db8", "0000", "a", "x", "01",
	};
	size_t n = 0;
	unsigned k = rnd() % 12;

	s[0] = '\0';
	for (unsigned i = 0; i < k; i++) {
		const char *p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);

		if (n + l >= cap)
			break;
		memcpy(s + n, p, l + 1);
		n += l;
	}
}

SUITE(addr_parse_random_text)
{
	int fails = 0, valid = 0;
	char s[64], why[64];

	for (int i = 0; i < 200000; i++) {
		uint8_t tmp[16];

		random_text(s, sizeof(s));
		valid += inet_pton(AF_INET6, s, tmp) == 1 ||
			 inet_pton(AF_INET, s, tmp) == 1;
		SWEEP_CHECK(fails, agrees(s, why, sizeof(why)), "\"%s\": %s", s, why);
		if (fails > 10)
			break;
	}
	CHECK_EQ(fails, 0);
	/* the sweep means something only if it met valid ones too */
	REQUIRE(valid > 1000);
}

/* A random address with runs of zero groups, and often a well-known prefix. */
static void random_addr(uint8_t b[16])
{
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)rnd();
	for (int i = 0; i < 8; i++)
		if (rnd() % 2)
			b[2 * i] = b[2 * i + 1] = 0;
	switch (rnd() % 6) {
	case 0: /* IPv4-mapped */
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		break;
	case 1: /* all but the last 32 bits zero */
		memset(b, 0, 12);
		break;
	case 2:
		b[0] = 0x20;
		b[1] = 0x01;
		b[2] = 0x0d;
		b[3] = 0xb8;
		break;
	}
	if (rnd() % 8 == 0) /* short groups: 1..3 digits */
		for (int i = 0; i < 8; i++)
			b[2 * i] = 0;
}

/* The RFC 5952 text of b with groups written in other ways the parser
 * must take: every group in full, upper case, no compression. */
static void long_form(const uint8_t b[16], char *s, size_t cap, bool upper)
{
	snprintf(s, cap, upper ? "%02X%02X:%02X%02X:%02X%02X:%02X%02X:%02X%02X:%02X%02X:%02X%02X:%02X%02X"
			       : "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

SUITE(addr_random_addresses)
{
	int parse_fails = 0, fmt_fails = 0, mixed = 0;

	for (int i = 0; i < 100000; i++) {
		uint8_t b[16], back[16];
		char libc[INET6_ADDRSTRLEN], ours[INET6_ADDRSTRLEN], s[64], why[64];
		bool compat;

		random_addr(b);
		REQUIRE(inet_ntop(AF_INET6, b, libc, sizeof(libc)));
		REQUIRE(fmt_inet_ntop(AF_INET6, b, ours, sizeof(ours)) == ours ||
			!CHECK(0));
		/* The C library writes ::a.b.c.d for the deprecated IPv4-
		 * compatible form too; RFC 5952 keeps dotted quads for
		 * prefixes that say the tail is IPv4, here ::ffff:0:0/96. */
		compat = strchr(libc, '.') && !(b[10] == 0xff && b[11] == 0xff);
		mixed += compat;
		SWEEP_CHECK(fmt_fails, compat ? !strchr(ours, '.') : !strcmp(ours, libc),
			    "%s: libc %s", ours, libc);
		SWEEP_CHECK(fmt_fails, inet_pton(AF_INET6, ours, back) == 1 &&
			    !memcmp(back, b, 16), "%s does not read back", ours);

		SWEEP_CHECK(parse_fails, agrees(libc, why, sizeof(why)), "%s: %s", libc, why);
		SWEEP_CHECK(parse_fails, agrees(ours, why, sizeof(why)), "%s: %s", ours, why);
		long_form(b, s, sizeof(s), i % 2);
		SWEEP_CHECK(parse_fails, agrees(s, why, sizeof(why)), "%s: %s", s, why);
		if (parse_fails + fmt_fails > 10)
			break;
	}
	CHECK_EQ(parse_fails, 0);
	CHECK_EQ(fmt_fails, 0);
	REQUIRE(mixed > 100);
}

SUITE(addr_random_ipv4)
{
	int fails = 0;

	for (int i = 0; i < 50000; i++) {
		char s[32], why[64], libc[INET_ADDRSTRLEN], ours[INET_ADDRSTRLEN];
		uint32_t v = rnd();

		/* parts of 0..299, some with a leading zero */
		snprintf(s, sizeof(s), i % 3 ? "%u.%u.%u.%u" : "%u.%02u.%u.%03u",
			 v % 300, (v >> 8) % 300, (v >> 16) % 256, (v >> 24) % 300);
		SWEEP_CHECK(fails, agrees(s, why, sizeof(why)), "%s: %s", s, why);
		REQUIRE(inet_ntop(AF_INET, &v, libc, sizeof(libc)));
		SWEEP_CHECK(fails, fmt_inet_ntop(AF_INET, &v, ours, sizeof(ours)) &&
			    !strcmp(libc, ours), "%s: libc %s", ours, libc);
		if (fails > 10)
			break;
	}
	CHECK_EQ(fails, 0);
}

SUITE(addr_parse_scope)
{
	union sockaddr_inet a, keep;

	CHECK_EQ(parse("fe80::1%2", &a), 0);
	CHECK_EQ(a.sa.sa_family, AF_INET6);
	CHECK_EQ(a.in6.sin6_scope_id, 2);
	CHECK_EQ(parse("fe80::1%eth0", &a), 0);
	CHECK_EQ(a.in6.sin6_scope_id, 7);
	CHECK_EQ(parse("fe80::1%br-lan.10", &a), 0);
	CHECK_EQ(a.in6.sin6_scope_id, 42);
	CHECK_EQ(parse("fe80::1%4294967295", &a), 0);
	CHECK_EQ(a.in6.sin6_scope_id, 4294967295u);
	CHECK_EQ(parse("::ffff:192.0.2.1%3", &a), 0);
	CHECK_EQ(a.in6.sin6_scope_id, 3);

	memset(&keep, 0x5a, sizeof(keep));
	a = keep;
	CHECK_EQ(parse("fe80::1%wlan0", &a), -ENODEV);
	CHECK_EQ(addr_parse_ip("fe80::1%eth0", 12, &a, NULL), -ENODEV);
	CHECK_EQ(parse("fe80::1%", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%0", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%4294967296", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%99999999999999999999", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%000000000001", &a), 0); /* digits: a number */
	CHECK_EQ(a.in6.sin6_scope_id, 1);
	a = keep;
	CHECK_EQ(parse("fe80::1%eth0%1", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%a/b", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%a:b", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%a b", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%.", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%..", &a), -EINVAL);
	CHECK_EQ(parse("fe80::1%0123456789abcdef", &a), -EINVAL); /* 16 bytes */
	CHECK_EQ(parse("192.0.2.1%1", &a), -EINVAL);
	CHECK_EQ(parse("%1", &a), -EINVAL);
	CHECK_EQ(parse("fe80:::1%1", &a), -EINVAL);
	CHECK_MEM(&a, sizeof(a), &keep, sizeof(keep));
	/* 15 bytes is the longest name */
	CHECK_EQ(parse("fe80::1%0123456789abcde", &a), -ENODEV);
}

SUITE(addr_parse_bounded)
{
	union sockaddr_inet a;
	const char *s = "192.0.2.1";

	/* n, not the NUL, ends the text */
	CHECK_EQ(addr_parse_ip(s, 7, &a, NULL), -EINVAL);
	CHECK_EQ(addr_parse_ip("::1", 2, &a, NULL), 0);
	CHECK_EQ(a.sa.sa_family, AF_INET6);
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&a.in6.sin6_addr));
	CHECK_EQ(addr_parse_ip("fe80::1%12", 9, &a, NULL), 0);
	CHECK_EQ(a.in6.sin6_scope_id, 1);
	CHECK_EQ(addr_parse_ip("", 0, &a, NULL), -EINVAL);
	/* a NUL inside n is a character like any other */
	CHECK_EQ(addr_parse_ip("::1\0", 4, &a, NULL), -EINVAL);
	CHECK_EQ(addr_parse_ip("1.2.3.4\0", 8, &a, NULL), -EINVAL);
	memset(&a, 0x5a, sizeof(a));
	CHECK_EQ(parse("192.0.2.1", &a), 0);
	CHECK_EQ(a.sa.sa_family, AF_INET);
	CHECK_EQ(a.in.sin_port, 0);
	CHECK_EQ(ntohl(a.in.sin_addr.s_addr), 0xc0000201);
	CHECK_EQ(addr_len(&a), sizeof(struct sockaddr_in));
}

static union sockaddr_inet ip(const char *s, uint16_t port)
{
	union sockaddr_inet a;

	REQUIRE(addr_parse_ip(s, strlen(s), &a, fake_ifindex) == 0);
	addr_set_port(&a, port);
	return a;
}

/* addr_format at every cap from 0 to past the end, in exact-size buffers. */
static void check_format(const char *in, uint16_t port, bool with_port,
			 const char *want)
{
	union sockaddr_inet a = ip(in, port);
	size_t len = strlen(want);
	int fails = 0;

	for (size_t cap = 0; cap <= len + 1; cap++) {
		char *b = malloc(cap ? cap : 1);
		int r;

		REQUIRE(b);
		memset(b, 0x5a, cap ? cap : 1);
		r = addr_format(&a, with_port, b, cap);
		if (cap > len)
			SWEEP_CHECK(fails, r == (int)len && !strcmp(b, want),
				    "%s cap %zu: %d \"%.*s\"", want, cap, r,
				    (int)cap, b);
		else
			SWEEP_CHECK(fails, r == -ENOSPC &&
				    (cap ? b[0] == '\0' : b[0] == 0x5a),
				    "%s cap %zu: %d", want, cap, r);
		free(b);
	}
	CHECK_EQ(fails, 0);
}

SUITE(addr_format)
{
	union sockaddr_inet a;
	char buf[ADDR_STRLEN];

	check_format("192.0.2.1", 8942, true, "192.0.2.1:8942");
	check_format("192.0.2.1", 8942, false, "192.0.2.1");
	check_format("2001:DB8:0::1", 8942, true, "[2001:db8::1]:8942");
	check_format("2001:DB8:0::1", 8942, false, "2001:db8::1");
	check_format("fe80::1%eth0", 53, true, "[fe80::1%7]:53");
	check_format("fe80::1%eth0", 53, false, "fe80::1%7");
	check_format("::ffff:10.0.0.1", 1, true, "[::ffff:10.0.0.1]:1");
	/* the longest there is fits ADDR_STRLEN */
	check_format("1111:2222:3333:4444:5555:6666:255.255.255.255%4294967295",
		     65535, true,
		     "[1111:2222:3333:4444:5555:6666:ffff:ffff%4294967295]:65535");
	check_format("ffff::ffff:255.255.255.255%4294967295", 65535, true,
		     "[ffff::ffff:ffff:ffff%4294967295]:65535");
	check_format("::ffff:255.255.255.255%4294967295", 65535, true,
		     "[::ffff:255.255.255.255%4294967295]:65535");

	memset(&a, 0, sizeof(a));
	a.sa.sa_family = AF_UNIX;
	buf[0] = 'x';
	CHECK_EQ(addr_format(&a, true, buf, sizeof(buf)), -EAFNOSUPPORT);
	CHECK_EQ(buf[0], '\0');
}

SUITE(addr_compare_and_sizes)
{
	union sockaddr_inet v4 = ip("192.0.2.1", 8942), v6 = ip("2001:db8::1", 8942);
	union sockaddr_inet ll = ip("fe80::1%2", 8942), other, none;

	memset(&none, 0, sizeof(none));
	CHECK_EQ(addr_len(&v4), sizeof(struct sockaddr_in));
	CHECK_EQ(addr_len(&v6), sizeof(struct sockaddr_in6));
	CHECK_EQ(addr_len(&none), 0);
	CHECK_EQ(addr_port(&v4), 8942);
	CHECK_EQ(addr_port(&v6), 8942);
	CHECK_EQ(ntohs(v6.in6.sin6_port), 8942);
	CHECK_EQ(ntohs(v4.in.sin_port), 8942);
	addr_set_port(&none, 1);
	CHECK_EQ(addr_port(&none), 0);
	CHECK_EQ(addr_ip_udp_overhead(&v4), 28);
	CHECK_EQ(addr_ip_udp_overhead(&v6), 48);
	CHECK_EQ(addr_ip_udp_overhead(&none), 0);

	CHECK(addr_equal(&v4, &v4));
	CHECK(addr_equal(&v6, &v6));
	CHECK(!addr_equal(&none, &none));
	CHECK(!addr_equal(&v4, &v6));
	other = v6;
	addr_set_port(&other, 8943);
	CHECK(!addr_equal(&v6, &other));
	other = ll;
	other.in6.sin6_scope_id = 3;
	CHECK(!addr_equal(&ll, &other));
	other = v6;
	other.in6.sin6_addr.s6_addr[15] = 2;
	CHECK(!addr_equal(&v6, &other));
	other = v4;
	addr_set_port(&other, 1);
	CHECK(!addr_equal(&v4, &other));
	other = ip("192.0.2.2", 8942);
	CHECK(!addr_equal(&v4, &other));
}

SUITE(addr_unmap)
{
	union sockaddr_inet a = ip("::ffff:192.0.2.1", 8942), v4 = ip("192.0.2.1", 8942);
	union sockaddr_inet b = ip("::192.0.2.1", 8942), keep = b;

	addr_unmap(&a);
	CHECK(addr_equal(&a, &v4));
	CHECK_EQ(addr_ip_udp_overhead(&a), 28);
	addr_unmap(&b);
	CHECK(addr_equal(&b, &keep));
	addr_unmap(&a);
	CHECK(addr_equal(&a, &v4));
}
