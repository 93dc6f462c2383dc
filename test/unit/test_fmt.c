/* SPDX-License-Identifier: MIT */
/*
 * fmt.c against the C library's own snprintf: the same result, return value
 * and bytes, at every buffer size from 0 to past the end, each time in a heap
 * buffer of exactly that size so that `make SAN=1 test-unit` reports any
 * write past it.  What fmt.c does not support is checked to come out
 * verbatim.
 */
#include "check.h"
#include "fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <wchar.h>

/* fmt_vsnprintf(fmt, ap) at every cap against want[0..wn). */
static void check_caps(int line, const char *want, int wn, const char *fmt,
		       va_list ap) __attribute__((format(printf, 4, 0)));

static void check_caps(int line, const char *want, int wn, const char *fmt,
		       va_list ap)
{
	int fails = 0;

	for (size_t cap = 0; cap <= (size_t)wn + 2; cap++) {
		char *b = malloc(cap ? cap : 1);
		size_t keep = cap ? ((size_t)wn < cap ? (size_t)wn : cap - 1) : 0;
		va_list aq;
		int n;

		if (!b) {
			perror("malloc");
			exit(2);
		}
		memset(b, 0x5a, cap ? cap : 1);
		va_copy(aq, ap);
		n = fmt_vsnprintf(b, cap, fmt, aq);
		va_end(aq);
		SWEEP_CHECK(fails, n == wn, "line %d cap %zu: returned %d, want %d",
			    line, cap, n, wn);
		SWEEP_CHECK(fails, !memcmp(b, want, keep),
			    "line %d cap %zu: bytes differ", line, cap);
		SWEEP_CHECK(fails, cap ? b[keep] == '\0' : b[0] == 0x5a,
			    "line %d cap %zu: not terminated at %zu", line, cap,
			    keep);
		free(b);
	}
	if (!CHECK_EQ(fails, 0))
		printf("  at: line %d, format \"%s\"\n", line, fmt);
}

static void same_as_libc(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void same_as_libc(int line, const char *fmt, ...)
{
	char want[8192];
	va_list ap, aq;
	int wn;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(want, sizeof(want), fmt, aq);
	va_end(aq);
	if (!CHECK(wn >= 0 && (size_t)wn < sizeof(want))) {
		va_end(ap);
		return;
	}
	check_caps(line, want, wn, fmt, ap);
	va_end(ap);
}

#define SAME(...) same_as_libc(__LINE__, __VA_ARGS__)

/* For what libc and fmt.c are meant to do differently. */
static void expect(int line, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void expect(int line, const char *want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_caps(line, want, (int)strlen(want), fmt, ap);
	va_end(ap);
}

#define EXPECT(...) expect(__LINE__, __VA_ARGS__)

SUITE(fmt_strings)
{
	static char long_text[300];
	const char *volatile null = NULL;

	memset(long_text, 'x', sizeof(long_text) - 1);
	SAME("%s", "");
	SAME("plain text, no conversion");
	SAME("%s", "abc");
	SAME("<%s>", long_text);
	SAME("%s:%s", "a", "bc");
	SAME("%.40s...", long_text);
	SAME("%.40s", "short");
	SAME("%.0s|", "gone");
	SAME("%.3s", "abc");
	SAME("[%10s]", "right");
	SAME("[%-10s]", "left");
	SAME("[%3s]", "longer than width");
	SAME("[%-3.2s]", "cut");
	SAME("[%c%c%c]", 'a', ' ', '~');
	SAME("[%3c][%-3c]", 'r', 'l');
	SAME("%c", '\0'); /* a NUL inside the result counts */
	SAME("100%%");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
	SAME("");
	SAME("[%5%]");
#pragma GCC diagnostic pop
	SAME("%%%s%%", "x");
	/* glibc's choice, kept, though the C standard leaves it undefined */
	EXPECT("(null)", "%s", null);
	EXPECT("[(nu]", "[%.3s]", null);
}

SUITE(fmt_integers)
{
	static const int ints[] = { 0, 1, -1, 9, 10, -10, 1446, INT_MAX,
				    INT_MIN, INT_MIN + 1 };
	static const unsigned uints[] = { 0, 1, 0xab, 0xdeadbeef, UINT_MAX };
	static const long longs[] = { 0, -1, 123456789, LONG_MAX, LONG_MIN };
	static const long long llongs[] = { 0, -1, 1700000000123LL, LLONG_MAX,
					    LLONG_MIN, LLONG_MIN + 1 };

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		int v = ints[i];

		SAME("%d", v);
		SAME("%i", v);
		SAME("[%5d]", v);
		SAME("[%-5d]", v);
		SAME("[%05d]", v);
		SAME("[%012d]", v);
		SAME("[%1d]", v);
		/* The flags the compiler rejects in real code, still as in C. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
		SAME("[%-05d]", v);
		SAME("[%0-5d]", v);
#pragma GCC diagnostic pop
	}
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		unsigned v = uints[i];

		SAME("%u", v);
		SAME("%x", v);
		SAME("%02x", v);
		SAME("\\x%02x", v & 0xff);
		SAME("[%10x]", v);
		SAME("[%-10u]", v);
		SAME("[%010u]", v);
		SAME("%lu %lx", (unsigned long)v, (unsigned long)v);
		SAME("%llu", (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		SAME("%ld", longs[i]);
		SAME("[%-24ld][%024ld]", longs[i], longs[i]);
	}
	for (size_t i = 0; i < sizeof(llongs) / sizeof(llongs[0]); i++) {
		SAME("%lld", llongs[i]);
		SAME("[%24lld][%024lld]", llongs[i], llongs[i]);
		SAME("%llu %llx", (unsigned long long)llongs[i],
		     (unsigned long long)llongs[i]);
	}
	SAME("%lu %lx", ULONG_MAX, ULONG_MAX);
	SAME("%llu %llx", ULLONG_MAX, ULLONG_MAX);
	/* Arguments of every size one after another stay in step. */
	SAME("%d %ld %lld %c %s %u %lu %llx %x", -70000, -123456789L,
	     -9000000000000000000LL, 'q', "mid", 42u, 4000000000UL,
	     0xfedcba9876543210ULL, 0xbeefu);
}

/* The lines l2tpd writes, in their real shapes. */
SUITE(fmt_lines)
{
	SAME("<%d>l2tpd[%d]: %s", 3 << 3 | 4, 12345, "b.example:8942: selected (usage 17)");
	SAME("%s: tunnel up: tunnel %u/%u, session %u/%u, %s", "b:1", 1u,
	     4000000000u, 1u, 77u, "l2tp0");
	SAME("state=%s\nbroker=%s\nbroker_addr=%s:%u\n"
	     "tunnel_id=%u\npeer_tunnel_id=%u\nsession_id=%u\npeer_session_id=%u\n"
	     "mtu=%d\nup_since_mono_ms=%lld\nup_since_wall=%lld\n"
	     "reconnects=%u\nlast_error=%s\n",
	     "keepalive", "b.example:8942", "192.0.2.1", 8942u, 1u, 2u, 3u, 4u,
	     1446, 123456789012LL, 1700000000LL, 5u, "Connection refused");
	SAME("%s: broker closed the tunnel (reason 0x%02x)", "b:1", 0x11u);
	SAME(" (%ld repeats held back)", 12L);
	SAME("-b %.40s...: host longer than %d bytes",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 253);
	SAME("-%c: unknown option", 'Z');
	SAME("l2tpd/%s", "l2tp0");
}

SUITE(fmt_unsupported)
{
	int n = 7;

	/* Not interpreted: the rest comes out as it stands and no further
	 * argument is read (so none is misread either). */
	EXPECT("x1 %p %s", "x%d %p %s", 1, (void *)&n, "s");
	EXPECT("a %f", "a %f", 1.5);
	EXPECT("%#x", "%#x", 255u);
	EXPECT("%*d", "%*d", 3, 4);
	EXPECT("%.*s", "%.*s", 2, "abc");
	EXPECT("%o", "%o", 8u);
	EXPECT("%jd", "%jd", (intmax_t)1);
	/* what C has and l2tpd does not use */
	EXPECT("%+d", "%+d", 1);
	EXPECT("% d", "% d", 1);
	EXPECT("%.3d", "%.3d", 1);
	EXPECT("%X", "%X", 10u);
	EXPECT("%hd", "%hd", (short)1);
	EXPECT("%hhu", "%hhu", (unsigned char)1);
	EXPECT("%zu", "%zu", (size_t)1);
	EXPECT("%lc", "%lc", (wint_t)'a');
	EXPECT("%ls", "%ls", L"wide");
	EXPECT("%Lf", "%Lf", 1.0L);
	EXPECT("1 %4096d", "%d %4096d", 1, 2);
	EXPECT("%.4096s", "%.4096s", "s");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
	/* %n must never store anything */
	EXPECT("ab%n", "ab%n", &n);
	CHECK_EQ(n, 7);
	EXPECT("abc%", "abc%");
	EXPECT("%q%d", "%q%d", 1);
	EXPECT("%l", "%l");
	EXPECT("%hz", "%hz", 1);
#pragma GCC diagnostic pop
	/* The largest width is honoured. */
	char big[4100];
	CHECK_EQ(fmt_snprintf(big, sizeof(big), "%4095d", 5), 4095);
	CHECK_EQ(big[4094], '5');
	CHECK_EQ(big[0], ' ');
}

SUITE(fmt_dprintf)
{
	char in[FMT_DPRINTF_MAX + 64], big[FMT_DPRINTF_MAX + 32];
	int p[2];
	ssize_t k;

	if (!CHECK_EQ(pipe(p), 0))
		return;
	CHECK_EQ(fmt_dprintf(p[1], "l2tpd %s\n", "0.1.0"), 12);
	k = read(p[0], in, sizeof(in));
	CHECK_MEM(in, k > 0 ? (size_t)k : 0, "l2tpd 0.1.0\n", 12);

	/* Longer than the buffer: cut, in one write. */
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(fmt_dprintf(p[1], "%s", big), FMT_DPRINTF_MAX - 1);
	k = read(p[0], in, sizeof(in));
	CHECK_EQ(k, FMT_DPRINTF_MAX - 1);
	CHECK_MEM(in, k > 0 ? (size_t)k : 0, big, FMT_DPRINTF_MAX - 1);
	CHECK_EQ(fmt_dprintf(p[1], "%s", ""), 0);
	close(p[0]);
	close(p[1]);

	errno = 0;
	CHECK_EQ(fmt_dprintf(p[1], "x"), -1);
	CHECK_EQ(errno, EBADF);
}

SUITE(fmt_inet_ntop)
{
	static const char *const addrs[] = {
		"0.0.0.0", "127.0.0.1", "192.0.2.1", "10.20.30.40",
		"255.255.255.255", "1.0.0.255",
	};
	char want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN + 4];

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct in_addr a;
		size_t len = strlen(addrs[i]);

		CHECK_EQ(inet_pton(AF_INET, addrs[i], &a), 1);
		CHECK(inet_ntop(AF_INET, &a, want, sizeof(want)) == want);
		CHECK(fmt_inet_ntop(AF_INET, &a, got, sizeof(got)) == got);
		if (!CHECK(!strcmp(got, want)))
			printf("  at: %s: %s\n", want, got);
		/* exactly large enough, then every size too small */
		CHECK(fmt_inet_ntop(AF_INET, &a, got, (socklen_t)len + 1) == got);
		CHECK(!strcmp(got, addrs[i]));
		for (size_t size = 0; size <= len; size++) {
			errno = 0;
			if (!CHECK(fmt_inet_ntop(AF_INET, &a, got, (socklen_t)size) ==
				   NULL) || !CHECK_EQ(errno, ENOSPC))
				printf("  at: %s size %zu\n", addrs[i], size);
		}
	}
	uint8_t a6[16] = { 0 };
	errno = 0;
	CHECK(fmt_inet_ntop(AF_UNIX, a6, got, sizeof(got)) == NULL);
	CHECK_EQ(errno, EAFNOSUPPORT);
}

SUITE(fmt_inet_ntop6)
{
	/* RFC 5952 sections 4.1 to 4.3 and 5 */
	static const struct { const char *in, *want; } v[] = {
		{ "2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1" },
		{ "2001:db8:0:0:0:0:2:1", "2001:db8::2:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:DB8::ABCD", "2001:db8::abcd" },
		{ "0:0:0:0:0:0:0:0", "::" },
		{ "0:0:0:0:0:0:0:1", "::1" },
		{ "1:0:0:0:0:0:0:0", "1::" },
		{ "1:0:0:0:0:0:0:1", "1::1" },
		{ "0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
		{ "::ffff:0:0", "::ffff:0.0.0.0" },
		{ "::192.0.2.1", "::c000:201" },
		{ "::1:ffff:c000:201", "::1:ffff:c000:201" },
		{ "fe80::1", "fe80::1" },
	};
	char got[INET6_ADDRSTRLEN + 4];
	int fails = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t b[16];
		size_t len = strlen(v[i].want);

		REQUIRE(inet_pton(AF_INET6, v[i].in, b) == 1);
		SWEEP_CHECK(fails, fmt_inet_ntop(AF_INET6, b, got, sizeof(got)) == got &&
			    !strcmp(got, v[i].want), "%s: %s", v[i].in, got);
		SWEEP_CHECK(fails, fmt_inet_ntop(AF_INET6, b, got, (socklen_t)len + 1) == got,
			    "%s at its exact size", v[i].want);
		errno = 0;
		SWEEP_CHECK(fails, !fmt_inet_ntop(AF_INET6, b, got, (socklen_t)len) &&
			    errno == ENOSPC, "%s one byte short", v[i].want);
	}
	CHECK_EQ(fails, 0);
}
