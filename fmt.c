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

/* The next integer argument, of the size the 'l's give (0 to 2), as its
 * magnitude; *neg is set for a negative signed one. */
static unsigned long long int_arg(va_list *ap, int size, bool is_signed,
				  bool *neg)
{
	long long v;

	if (!is_signed) {
		switch (size) {
		case 1: return va_arg(*ap, unsigned long);
		case 2: return va_arg(*ap, unsigned long long);
		}
		return va_arg(*ap, unsigned);
	}
	switch (size) {
	case 1: v = va_arg(*ap, long); break;
	case 2: v = va_arg(*ap, long long); break;
	default: v = va_arg(*ap, int); break;
	}
	*neg = v < 0;
	/* in unsigned arithmetic: LLONG_MIN has no positive counterpart */
	return v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
}

/* One conversion; f is just past its '%'.  Returns where the format goes
 * on, or NULL for a conversion not supported (no argument was read). */
static const char *convert(struct out *o, const char *f, va_list *ap)
{
	char num[sizeof(unsigned long long) * CHAR_BIT / 3 + 1], c;
	bool left = false, zero = false, neg = false, is_num = false;
	const char *body;
	long width, prec = -1;
	size_t n, pad;
	int size = 0;

	for (;; f++) {
		if (*f == '-')
			left = true;
		else if (*f == '0')
			zero = true;
		else
			break;
	}
	if ((width = parse_field(&f)) < 0)
		return NULL;
	if (*f == '.') {
		f++;
		if ((prec = parse_field(&f)) < 0)
			return NULL;
	}
	for (; *f == 'l' && size < 2; f++)
		size++;

	switch (*f) {
	case '%':
		put(o, "%", 1);
		return f + 1;
	case 'c':
	case 's':
		if (size) /* wide characters */
			return NULL;
		if (*f == 'c') {
			c = (char)va_arg(*ap, int);
			body = &c;
			n = 1;
			break;
		}
		body = va_arg(*ap, const char *);
		if (!body)
			body = "(null)";
		n = prec < 0 ? strlen(body) : strnlen(body, (size_t)prec);
		break;
	case 'd':
	case 'i':
	case 'u':
	case 'x': {
		unsigned base = *f == 'x' ? 16 : 10;
		unsigned long long v;
		char *p = num + sizeof(num);

		if (prec >= 0)
			return NULL;
		v = int_arg(ap, size, *f == 'd' || *f == 'i', &neg);
		do {
			*--p = "0123456789abcdef"[v % base];
			v /= base;
		} while (v);
		body = p;
		n = (size_t)(num + sizeof(num) - p);
		is_num = true;
		break;
	}
	default:
		return NULL;
	}

	pad = (size_t)width > neg + n ? (size_t)width - neg - n : 0;
	zero = zero && is_num && !left;
	if (!left && !zero)
		put_repeat(o, ' ', pad);
	if (neg)
		put(o, "-", 1);
	if (zero)
		put_repeat(o, '0', pad);
	put(o, body, n);
	if (left)
		put_repeat(o, ' ', pad);
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

/* RFC 5952: lowercase hex without leading zeros, the longest run of two
 * or more zero groups (the first of equal ones) as "::", and the IPv4-
 * mapped prefix ::ffff:0:0/96 with its dotted quad. */
static size_t format_v6(const uint8_t *b, char *p)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	int groups = memcmp(b, mapped, 12) ? 8 : 6, base = -1, len = 0;
	char *start = p;

	for (int i = 0; i < groups;) {
		int j = i;

		while (j < groups && !b[2 * j] && !b[2 * j + 1])
			j++;
		if (j - i > len && j - i > 1) {
			base = i;
			len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < groups; i++) {
		unsigned w = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		int shift = 12;

		if (i == base) {
			*p++ = ':';
			*p++ = ':';
			i += len - 1;
			continue;
		}
		if (i && i != base + len)
			*p++ = ':';
		while (shift && !(w >> shift))
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			*p++ = "0123456789abcdef"[(w >> shift) & 0xf];
	}
	if (groups == 6)
		p += fmt_snprintf(p, INET_ADDRSTRLEN + 1, ":%u.%u.%u.%u", b[12],
				  b[13], b[14], b[15]);
	*p = '\0';
	return (size_t)(p - start);
}

const char *fmt_inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n;

	if (af == AF_INET) {
		const uint8_t *b = src;

		n = (size_t)fmt_snprintf(buf, sizeof(buf), "%u.%u.%u.%u", b[0],
					 b[1], b[2], b[3]);
	} else if (af == AF_INET6) {
		n = format_v6(src, buf);
	} else {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(dst, buf, n + 1);
	return dst;
}
