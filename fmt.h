/* SPDX-License-Identifier: MIT */
/*
 * Bounded string formatting for the conversions l2tpd uses, in place of the
 * C library's printf family, which is the largest single part of a static
 * binary (stdio, wide characters, floating point).
 *
 * Same contract as snprintf/vsnprintf/dprintf for what it supports:
 *   conversions  %d %i %u %x %X %c %s %%
 *   flags        - 0
 *   width        decimal digits, up to 4095
 *   precision    .digits for %s (at most that many bytes), up to 4095
 *   length       l ll z, for the integers
 * The format attribute makes the compiler check every call as printf; any
 * other conversion (%p, %f, %n, a '*' width, ...) is not interpreted: it and
 * the rest of the format are copied as they stand and no further argument is
 * read.
 */
#ifndef L2TPD_FMT_H
#define L2TPD_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

/* Writes at most cap bytes, the NUL included (nothing if cap is 0).
 * Returns the length the whole result has, so a return >= cap means it
 * was truncated; -1 if that length exceeds INT_MAX. */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* inet_ntop(3) for AF_INET and AF_INET6 (RFC 5952 text; the dotted form
 * only for IPv4-mapped ::ffff:a.b.c.d), whose C library version formats
 * with snprintf: dst or NULL with errno EAFNOSUPPORT or ENOSPC. */
const char *fmt_inet_ntop(int af, const void *src, char *dst, socklen_t size);

/* Formats into a buffer of FMT_DPRINTF_MAX bytes (a longer result is cut
 * to FMT_DPRINTF_MAX - 1) and writes that with one write(2); returns what
 * write returned, or -1. */
#define FMT_DPRINTF_MAX 1024
int fmt_dprintf(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
