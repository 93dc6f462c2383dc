/* SPDX-License-Identifier: MIT */
/*
 * UDP endpoints of either family.  A broker may be reached over IPv4 or
 * IPv6; everything above the socket layer handles its address as one
 * value of this type, so only the few places that depend on the family
 * (header sizes, socket options) look inside.
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

/* sizeof the family's sockaddr; 0 for anything else. */
socklen_t addr_len(const union sockaddr_inet *a);
uint16_t addr_port(const union sockaddr_inet *a);
void addr_set_port(union sockaddr_inet *a, uint16_t port);
/* Same family, address, port and (IPv6) scope. */
bool addr_equal(const union sockaddr_inet *a, const union sockaddr_inet *b);

/*
 * addr_parse_ip: an address literal, IPv4 dotted quad or IPv6 (RFC 4291
 * text form, optionally followed by "%SCOPE", an interface name or a
 * number), without brackets and without a port; the port is set to 0.
 * Returns 0 or -EINVAL.
 */
int addr_parse_ip(const char *s, size_t n, union sockaddr_inet *out);

/*
 * addr_format: "192.0.2.1:8942" or "[2001:db8::1]:8942" (RFC 5952 form,
 * "%SCOPE" as a number when a scope id is set); with_port false leaves
 * the port (and the brackets) off.  Returns the length, or -ENOSPC when
 * cap is too small (buf then holds an empty string).
 */
int addr_format(const union sockaddr_inet *a, bool with_port, char *buf,
		size_t cap);

/* IP + UDP header bytes: 28 over IPv4, 48 over IPv6. */
unsigned addr_ip_udp_overhead(const union sockaddr_inet *a);

#endif
