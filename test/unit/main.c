/* SPDX-License-Identifier: MIT */
#include "check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct test_suite *suites;
static unsigned passed, failed;
static const char *current;

void test_register(struct test_suite *s)
{
	struct test_suite **p = &suites;

	/* Keep registration order stable: append. */
	while (*p)
		p = &(*p)->next;
	s->next = NULL;
	*p = s;
}

int test_check(int ok, const char *expr, const char *file, int line)
{
	if (ok) {
		passed++;
		return 1;
	}
	failed++;
	printf("FAIL %s: %s:%d: %s\n", current, file, line, expr);
	return 0;
}

int test_check_eq(long long a, long long b, const char *ea, const char *eb,
		  const char *file, int line)
{
	if (a == b) {
		passed++;
		return 1;
	}
	failed++;
	printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", current, file, line,
	       ea, eb, a, b);
	return 0;
}

int test_check_mem(const void *a, size_t alen, const void *b, size_t blen,
		   const char *ea, const char *file, int line)
{
	const unsigned char *x = a, *y = b;

	if (alen == blen && (alen == 0 || !memcmp(a, b, alen))) {
		passed++;
		return 1;
	}
	failed++;
	printf("FAIL %s: %s:%d: %s: %zu bytes, expected %zu\n  got:  ", current,
	       file, line, ea, alen, blen);
	for (size_t i = 0; i < alen && i < 96; i++)
		printf("%02x", x[i]);
	printf("\n  want: ");
	for (size_t i = 0; i < blen && i < 96; i++)
		printf("%02x", y[i]);
	printf("\n");
	return 0;
}

void test_require(const char *expr, const char *file, int line)
{
	printf("ABORT %s: %s:%d: test premise failed: %s\n", current, file,
	       line, expr);
	exit(2);
}

uint8_t *test_dup(const void *src, size_t n)
{
	uint8_t *p = malloc(n); /* even 0: any read is then past the end */

	if (!p && n) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(p, src, n);
	return p;
}

size_t test_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		if (!isxdigit((unsigned char)*hex))
			break;
		v = isdigit((unsigned char)*hex) ? *hex - '0'
						 : (tolower((unsigned char)*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n < cap)
			out[n] = (uint8_t)(hi << 4 | v);
		n++;
		hi = -1;
	}
	return n;
}

int main(int argc, char **argv)
{
	for (struct test_suite *s = suites; s; s = s->next) {
		if (argc > 1 && strcmp(argv[1], s->name))
			continue;
		unsigned f0 = failed, n0 = passed + failed, n;

		current = s->name;
		s->run();
		n = passed + failed - n0;
		if (n == 0) {
			/* a test that asserts nothing is a defect */
			failed++;
			printf("FAIL %s: no check recorded\n", s->name);
		}
		printf("%-12s %s (%u checks)\n", s->name,
		       failed == f0 ? "ok" : "FAILED", n);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
