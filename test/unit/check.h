/* SPDX-License-Identifier: MIT */
/*
 * A minimal test harness: suites register themselves at start-up, checks
 * count passes and failures, and main() prints "N passed, N failed".
 *
 * What counts: "N passed" is a number of assertions about the code under
 * test, each of which could have failed.  So:
 *  - CHECK, CHECK_EQ and CHECK_MEM are for results of that code only.
 *    Facts known at compile time (constants, table sizes) are
 *    _Static_assert; conditions on the test's own data or set-up (a
 *    malloc, a table the test built) are REQUIRE, which stops the run
 *    and counts nothing.
 *  - A loop over many inputs is a sweep: SWEEP_CHECK inside, which records
 *    only a failing iteration (with its context), then one
 *    CHECK_EQ(fails, 0) after the loop.  A sweep counts once however many
 *    inputs it tried; a loop of plain CHECKs counts once per input, so use
 *    it only where each iteration is a distinct case worth naming.
 *  - A suite that records no check at all fails.
 */
#ifndef L2TPD_TEST_CHECK_H
#define L2TPD_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct test_suite {
	const char *name;
	void (*run)(void);
	struct test_suite *next;
};

void test_register(struct test_suite *s);
int test_check(int ok, const char *expr, const char *file, int line);
int test_check_eq(long long a, long long b, const char *ea, const char *eb,
		  const char *file, int line);
int test_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		   const char *ea, const char *file, int line);
/* An exact-size heap copy, so sanitizers catch any read past
 * the end; the caller frees it. */
uint8_t *test_dup(const void *src, size_t n);
/* Whether a is the literal want (port 0) with IPv6 scope id scope
 * (test_addr.c; want must parse, or the run stops). */
union sockaddr_inet;
int test_is_addr(const union sockaddr_inet *a, const char *want,
		 uint32_t scope);
/* Parses hex digits (whitespace ignored) into out; returns the byte count. */
size_t test_hex(const char *hex, uint8_t *out, size_t cap);

#define SUITE(name)                                                        \
	static void suite_##name(void);                                    \
	static struct test_suite suite_rec_##name = { #name, suite_##name, \
						      NULL };              \
	__attribute__((constructor)) static void suite_reg_##name(void)    \
	{                                                                  \
		test_register(&suite_rec_##name);                          \
	}                                                                  \
	static void suite_##name(void)

/* Stops the run (exit 2) when the test's own premise fails. */
__attribute__((noreturn)) void test_require(const char *expr,
					    const char *file, int line);
#define REQUIRE(c) \
	((c) ? (void)0 : test_require(#c, __FILE__, __LINE__))

/* Reports a failed iteration of a sweep with its context; counts nothing
 * when the iteration passes (see the rule above). */
#define SWEEP_CHECK(fails, cond, ...)                                  \
	do {                                                           \
		if (!(cond)) {                                         \
			(fails)++;                                     \
			CHECK(cond);                                   \
			printf("  at: ");                              \
			printf(__VA_ARGS__);                           \
			printf("\n");                                  \
		}                                                      \
	} while (0)

#define CHECK(c) test_check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_EQ(a, b) \
	test_check_eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_MEM(a, alen, b, blen) \
	test_check_mem((a), (alen), (b), (blen), #a, __FILE__, __LINE__)

#endif
