/* SPDX-License-Identifier: MIT */
#include "addr.h"
#include "fmt.h"

#include <errno.h>
#include <string.h>

socklen_t addr_len(const union sockaddr_inet *a)
{
	switch (a->sa.sa_family) {
	case AF_INET: return sizeof(a->in);
	case AF_INET6: return sizeof(a->in6);
	}
	return 0;
}

uint16_t addr_port(const union sockaddr_inet *a)
{
	switch (a->sa.sa_family) {
	case AF_INET: return ntohs(a->in.sin_port);
	case AF_INET6: return ntohs(a->in6.sin6_port);
	}
	return 0;
}

void addr_set_port(union sockaddr_inet *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET)
		a->in.sin_port = htons(port);
	else if (a->sa.sa_family == AF_INET6)
		a->in6.sin6_port = htons(port);
}

bool addr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in.sin_port == b->in.sin_port &&
		       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	case AF_INET6:
		return a->in6.sin6_port == b->in6.sin6_port &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly four decimal parts of 1..3 digits, no leading zero, <= 255. */
static bool parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start;

		if (part && (i == n || s[i++] != '.'))
			return false;
		start = i;
		while (i < n && i - start < 3 && s[i] >= '0' && s[i] <= '9')
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

/*
 * RFC 4291 section 2.2: eight groups of 1..4 hex digits, one "::" standing
 * for one or more zero groups, and the last two groups possibly written
 * as a dotted quad.
 */
static bool parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t w[8];
	size_t i = 0;
	int nw = 0, gap = -1;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n && s[0] == ':') {
		return false;
	}
	while (i < n) {
		size_t j = i;
		unsigned v = 0;

		/* one digit more than a group may have, to see it is too long */
		while (j < n && j - i < 5 && hexval(s[j]) >= 0)
			v = v << 4 | (unsigned)hexval(s[j++]);
		if (j < n && s[j] == '.') {
			uint8_t b[4];

			if (nw > 6 || !parse_v4(s + i, n - i, b))
				return false;
			w[nw++] = (uint16_t)(b[0] << 8 | b[1]);
			w[nw++] = (uint16_t)(b[2] << 8 | b[3]);
			break;
		}
		if (j == i || j - i > 4 || nw == 8)
			return false;
		w[nw++] = (uint16_t)v;
		if (j == n)
			break;
		if (s[j++] != ':' || j == n)
			return false;
		if (s[j] == ':') {
			if (gap >= 0)
				return false;
			gap = nw;
			j++;
		}
		i = j;
	}
	if (gap < 0 ? nw != 8 : nw > 7)
		return false;
	memset(out, 0, 16);
	for (int k = 0; k < nw; k++) {
		/* groups after the gap move to the end */
		int at = gap >= 0 && k >= gap ? 8 - nw + k : k;

		out[2 * at] = (uint8_t)(w[k] >> 8);
		out[2 * at + 1] = (uint8_t)w[k];
	}
	return true;
}

/* The kernel's rule for interface names (dev_valid_name); no '%' either,
 * which the kernel takes for a template (eth%d) and never leaves in one. */
static bool valid_ifname(const char *s, size_t n)
{
	if (!n || n > ADDR_IFNAME_MAX || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '/' || c == ':' ||
		    c == '%')
			return false;
	}
	return true;
}

/* SCOPE of "%SCOPE": a number, or an interface name for ifindex. */
static int parse_scope(const char *s, size_t n, addr_ifindex_fn *ifindex,
		       uint32_t *out)
{
	char name[ADDR_IFNAME_MAX + 1];
	unsigned long long v = 0;
	size_t i = 0;

	/* capped, so any run of digits is a number, too large or not */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (v <= UINT32_MAX)
			v = v * 10 + (unsigned)(s[i] - '0');
	if (i == n) {
		if (!n || v == 0 || v > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	if (!valid_ifname(s, n))
		return -EINVAL;
	memcpy(name, s, n);
	name[n] = '\0';
	*out = ifindex ? ifindex(name) : 0;
	return *out ? 0 : -ENODEV;
}

int addr_parse_ip(const char *s, size_t n, union sockaddr_inet *out,
		  addr_ifindex_fn *ifindex)
{
	const char *pct = memchr(s, '%', n);
	size_t alen = pct ? (size_t)(pct - s) : n;
	union sockaddr_inet a;
	uint32_t scope = 0;
	int r;

	memset(&a, 0, sizeof(a));
	if (!pct && parse_v4(s, n, (uint8_t *)&a.in.sin_addr)) {
		a.in.sin_family = AF_INET;
		*out = a;
		return 0;
	}
	if (!parse_v6(s, alen, a.in6.sin6_addr.s6_addr))
		return -EINVAL;
	if (pct) {
		r = parse_scope(pct + 1, n - alen - 1, ifindex, &scope);
		if (r)
			return r;
	}
	a.in6.sin6_family = AF_INET6;
	a.in6.sin6_scope_id = scope;
	*out = a;
	return 0;
}

int addr_format(const union sockaddr_inet *a, bool with_port, char *buf,
		size_t cap)
{
	char ip[INET6_ADDRSTRLEN], scope[12] = "";
	int n;

	switch (a->sa.sa_family) {
	case AF_INET:
		fmt_inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
		n = with_port ? fmt_snprintf(buf, cap, "%s:%u", ip, addr_port(a))
			      : fmt_snprintf(buf, cap, "%s", ip);
		break;
	case AF_INET6:
		fmt_inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		if (a->in6.sin6_scope_id)
			fmt_snprintf(scope, sizeof(scope), "%%%u",
				     (unsigned)a->in6.sin6_scope_id);
		n = with_port ? fmt_snprintf(buf, cap, "[%s%s]:%u", ip, scope,
					     addr_port(a))
			      : fmt_snprintf(buf, cap, "%s%s", ip, scope);
		break;
	default:
		if (cap)
			buf[0] = '\0';
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

unsigned addr_ip_udp_overhead(const union sockaddr_inet *a)
{
	switch (a->sa.sa_family) {
	case AF_INET: return 20 + 8;
	case AF_INET6: return 40 + 8;
	}
	return 0;
}

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0xff, 0xff };

void addr_unmap(union sockaddr_inet *a)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (a->sa.sa_family != AF_INET6 ||
	    memcmp(a->in6.sin6_addr.s6_addr, v4mapped_prefix, 12))
		return;
	in.sin_port = a->in6.sin6_port;
	memcpy(&in.sin_addr, a->in6.sin6_addr.s6_addr + 12, 4);
	memset(a, 0, sizeof(*a));
	a->in = in;
}
