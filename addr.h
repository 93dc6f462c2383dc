/* SPDX-License-Identifier: MIT */
/*
 * UDP endpoints of either family.  A broker may be reached over IPv4 or
 * IPv6; everything above the socket layer handles its address as one
 * value of this type, so only the few places that depend on the family
 * (header sizes, socket options) look inside.
 *
 * Pure: no system calls.  The one thing text cannot say by itself, the
 * index of an interface named as an IPv6 scope ("fe80::1%eth0"), comes
 * from a callback the caller passes (if_nametoindex, or a stand-in).
 */
#ifndef L2TPD_ADDR_H
#define L2TPD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

union sockaddr_inet {
	struct sockaddr sa;
	struct sockaddr_in in;   /* sa.sa_family == AF_INET */
	struct sockaddr_in6 in6; /* sa.sa_family == AF_INET6 */
};

/* "[" + 45 address bytes + "%" + 15 interface name bytes + "]:65535" + NUL */
#define ADDR_STRLEN 72
/* An interface name, as the kernel takes it (IFNAMSIZ - 1 bytes). */
#define ADDR_IFNAME_MAX 15

/* sizeof the family's sockaddr; 0 for anything else. */
socklen_t addr_len(const union sockaddr_inet *a);
/* Host order; 0 for a family other than AF_INET and AF_INET6. */
uint16_t addr_port(const union sockaddr_inet *a);
/* Host order; does nothing for a family other than AF_INET and AF_INET6. */
void addr_set_port(union sockaddr_inet *a, uint16_t port);
/* Same family, address, port and (IPv6) scope; false for other families. */
bool addr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b);

/*
 * The index of the interface called ifname (NUL-terminated, at most
 * ADDR_IFNAME_MAX bytes), or 0 if there is none: if_nametoindex(3) fits.
 */
typedef unsigned addr_ifindex_fn(const char *ifname);

/*
 * addr_parse_ip: the n bytes at s (no NUL needed) as an address literal:
 * an IPv4 dotted quad (four decimal parts 0..255, no leading zeros, as
 * inet_pton takes it) or IPv6 in any RFC 4291 text form ("::", leading or
 * trailing "::", a dotted IPv4 tail), optionally followed by "%SCOPE".
 * No brackets, no port; the port is set to 0, the rest of *out zeroed.
 * SCOPE is a decimal 1..4294967295 taken as the index itself, or else an
 * interface name (1..15 bytes, no '/', ':', blank or control character)
 * that ifindex turns into one.  An IPv4-mapped literal stays AF_INET6
 * (see addr_unmap).  Returns 0; -EINVAL for anything malformed (a scope on
 * IPv4 included), leaving *out untouched; -ENODEV for a scope name that
 * ifindex does not know, or any name when ifindex is NULL.
 */
int addr_parse_ip(const char *s, size_t n, union sockaddr_inet *out,
		  addr_ifindex_fn *ifindex)
	__attribute__((warn_unused_result));

/*
 * addr_format: "192.0.2.1:8942" or "[2001:db8::1]:8942" (RFC 5952 form,
 * "%SCOPE" as a number when a scope id is set); with_port false leaves
 * the port (and the brackets) off.  Returns the length, or -ENOSPC when
 * cap is too small (buf then holds an empty string, if cap > 0),
 * -EAFNOSUPPORT for another family.  ADDR_STRLEN is always enough.
 */
int addr_format(const union sockaddr_inet *a, bool with_port, char *buf,
		size_t cap);

/* IP + UDP header bytes: 28 over IPv4, 48 over IPv6; 0 for another
 * family.  An IPv4-mapped IPv6 address is sent as IPv4: unmap it first. */
unsigned addr_ip_udp_overhead(const union sockaddr_inet *a);

/* ::ffff:a.b.c.d becomes a.b.c.d (AF_INET, same port): the packets to
 * it are IPv4 on the wire.  Anything else is left as it is. */
void addr_unmap(union sockaddr_inet *a);

#endif
