/* SPDX-License-Identifier: MIT */
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Larger fields are taken for a mistake rather than padded for seconds. */
#define FMT_FIELD_MAX 4095

/* The output so far: len counts every byte, stored or not. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

struct spec {
	bool left;  /* '-' */
	bool zero;  /* '0' */
	char sign;  /* '+', ' ' or 0: what a non-negative number starts with */
	size_t width;
	long prec;  /* -1: none */
	enum { SIZE_INT, SIZE_HH, SIZE_H, SIZE_L, SIZE_LL, SIZE_Z } size;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* one byte is always kept for the NUL */
	if (o->len < o->cap) {
		size_t room = o->cap - 1 - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void put_repeat(struct out *o, char c, size_t n)
{
	while (n--)
		put(o, &c, 1);
}

/* Leading decimal digits at *f, at most FMT_FIELD_MAX; -1 if larger. */
static long parse_field(const char **f)
{
	long v = 0;

	for (; **f >= '0' && **f <= '9'; (*f)++) {
		v = v * 10 + (**f - '0');
		if (v > FMT_FIELD_MAX)
			return -1;
	}
	return v;
}

/* sign, then zeros, then body, padded to the width. */
static void put_field(struct out *o, const struct spec *s, char sign,
		      size_t zeros, const char *body, size_t n)
{
	size_t len = (sign ? 1 : 0) + zeros + n;
	size_t pad = s->width > len ? s->width - len : 0;

	if (!s->left)
		put_repeat(o, ' ', pad);
	if (sign)
		put(o, &sign, 1);
	put_repeat(o, '0', zeros);
	put(o, body, n);
	if (s->left)
		put_repeat(o, ' ', pad);
}

static void put_number(struct out *o, struct spec *s, unsigned long long v,
		       bool negative, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[sizeof(v) * CHAR_BIT / 3 + 1];
	size_t n = 0, zeros = 0;
	char sign = negative ? '-' : s->sign;

	do {
		buf[sizeof(buf) - ++n] = digits[v % base];
		v /= base;
	} while (v);
	/* as in C, "%.0d" of 0 prints no digits */
	if (s->prec == 0 && n == 1 && buf[sizeof(buf) - 1] == '0')
		n = 0;
	if (s->prec > 0 && (size_t)s->prec > n)
		zeros = (size_t)s->prec - n;
	else if (s->zero && !s->left && s->prec < 0) {
		size_t len = (sign ? 1 : 0) + n;

		zeros = s->width > len ? s->width - len : 0;
	}
	put_field(o, s, sign, zeros, buf + sizeof(buf) - n, n);
}

static long long arg_signed(const struct spec *s, va_list *ap)
{
	switch (s->size) {
	case SIZE_INT: break;
	case SIZE_HH: return (signed char)va_arg(*ap, int);
	case SIZE_H: return (short)va_arg(*ap, int);
	case SIZE_L: return va_arg(*ap, long);
	case SIZE_LL: return va_arg(*ap, long long);
	case SIZE_Z: return va_arg(*ap, ssize_t);
	}
	return va_arg(*ap, int);
}

static unsigned long long arg_unsigned(const struct spec *s, va_list *ap)
{
	switch (s->size) {
	case SIZE_INT: break;
	case SIZE_HH: return (unsigned char)va_arg(*ap, unsigned);
	case SIZE_H: return (unsigned short)va_arg(*ap, unsigned);
	case SIZE_L: return va_arg(*ap, unsigned long);
	case SIZE_LL: return va_arg(*ap, unsigned long long);
	case SIZE_Z: return va_arg(*ap, size_t);
	}
	return va_arg(*ap, unsigned);
}

/* One conversion; f is just past its '%'.  Returns where the format goes
 * on, or NULL for a conversion not supported (no argument was read). */
static const char *convert(struct out *o, const char *f, va_list *ap)
{
	struct spec s = { .prec = -1 };
	long v;

	for (;; f++) {
		if (*f == '-')
			s.left = true;
		else if (*f == '0')
			s.zero = true;
		else if (*f == '+')
			s.sign = '+';
		else if (*f == ' ' && s.sign != '+')
			s.sign = ' ';
		else if (*f != ' ')
			break;
	}
	if ((v = parse_field(&f)) < 0)
		return NULL;
	s.width = (size_t)v;
	if (*f == '.') {
		f++;
		if ((s.prec = parse_field(&f)) < 0)
			return NULL;
	}
	if (*f == 'h') {
		s.size = *++f == 'h' ? SIZE_HH : SIZE_H;
		f += s.size == SIZE_HH;
	} else if (*f == 'l') {
		s.size = *++f == 'l' ? SIZE_LL : SIZE_L;
		f += s.size == SIZE_LL;
	} else if (*f == 'z') {
		s.size = SIZE_Z;
		f++;
	}

	switch (*f) {
	case '%':
		put(o, "%", 1);
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);

		put_field(o, &s, 0, 0, &c, 1);
		break;
	}
	case 's': {
		const char *str = va_arg(*ap, const char *);

		if (!str)
			str = "(null)";
		put_field(o, &s, 0, 0, str,
			  s.prec < 0 ? strlen(str) : strnlen(str, (size_t)s.prec));
		break;
	}
	case 'd':
	case 'i': {
		long long n = arg_signed(&s, ap);

		/* the magnitude in unsigned arithmetic: LLONG_MIN has no
		 * positive counterpart */
		put_number(o, &s, n < 0 ? 0 - (unsigned long long)n
				       : (unsigned long long)n,
			   n < 0, 10, false);
		break;
	}
	case 'u':
	case 'x':
	case 'X':
		s.sign = 0;
		put_number(o, &s, arg_unsigned(&s, ap), false,
			   *f == 'u' ? 10 : 16, *f == 'X');
		break;
	default:
		return NULL;
	}
	return f + 1;
}

int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	va_list aq;

	/* a copy whose address the helpers can take, whatever va_list is */
	va_copy(aq, ap);
	while (*fmt) {
		const char *pct = strchr(fmt, '%'), *next;

		if (!pct) {
			put(&o, fmt, strlen(fmt));
			break;
		}
		put(&o, fmt, (size_t)(pct - fmt));
		next = convert(&o, pct + 1, &aq);
		if (!next) {
			put(&o, pct, strlen(pct));
			break;
		}
		fmt = next;
	}
	va_end(aq);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len > INT_MAX ? -1 : (int)o.len;
}

int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

int fmt_dprintf(int fd, const char *fmt, ...)
{
	char buf[FMT_DPRINTF_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return (int)write(fd, buf, (size_t)n);
}

const char *fmt_inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
	uint8_t b[4];
	int n;

	if (af != AF_INET) {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	memcpy(b, src, sizeof(b));
	n = fmt_snprintf(dst, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	return dst;
}
