/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "dns.h"
#include "fmt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_usage(int fd)
{
	static const char usage[] =
	      "usage: l2tpd -u UUID -i IFNAME -b HOST:PORT [-b HOST:PORT ...] [options]\n"
	      "  -u UUID       identifier sent to the broker (1..238 bytes, UTF-8)\n"
	      "  -i IFNAME     name of the tunnel interface (1..15 bytes)\n"
	      "  -b HOST:PORT  broker: NAME:PORT, IPV4:PORT or [IPV6]:PORT, where\n"
	      "                IPV6 may end in %IFACE; repeat for more (up to 64)\n"
	      "  -l ADDRESS    local IPv4 or IPv6 address to send from\n"
	      "  -I IFACE      send through this interface only, follow its link state\n"
	      "  -s HOOK       run HOOK session.up|session.down IFNAME and\n"
	      "                HOOK session.mtu-changed IFNAME MTU\n"
	      "  -t ID         local tunnel id (default 1)\n"
	      "  -L KBITS      ask the broker to limit our download to KBITS kbit/s\n"
	      "  -g            use the first broker that answers (default)\n"
	      "  -a            use the broker with the least usage\n"
	      "  -r            use a random broker among those that answer\n"
	      "  -f            foreground: log to stderr too\n"
	      "  -v            debug logging\n"
	      "  -V            print the version and exit\n"
	      "  -h            print this help and exit\n";

	(void)!write(fd, usage, sizeof(usage) - 1);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decimal only: a leading sign, blanks or trailing junk are errors. */
static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static bool valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned n, cp;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xE0) == 0xC0) {
			n = 1;
			cp = *s & 0x1F;
		} else if ((*s & 0xF0) == 0xE0) {
			n = 2;
			cp = *s & 0x0F;
		} else if ((*s & 0xF8) == 0xF0) {
			n = 3;
			cp = *s & 0x07;
		} else {
			return false;
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		s += n + 1;
	}
	return true;
}

/* v for a message: at most about 40 bytes, anything but printable ASCII
 * as \xNN, so a broken value can be named without passing it on. */
static const char *printable(const char *v, char *buf, size_t cap)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)v;
	     *p && n + 5 < cap; p++) {
		if (*p >= 0x20 && *p < 0x7F)
			buf[n++] = (char)*p;
		else
			n += (size_t)fmt_snprintf(buf + n, cap - n, "\\x%02x", *p);
	}
	buf[n] = '\0';
	return buf;
}

/* RFC 1123: labels of 1..63 letters, digits and '-', not starting or
 * ending with '-'; one trailing dot allowed.  IPv4 literals pass too. */
static bool valid_hostname(const char *h)
{
	size_t label = 0;

	for (const char *p = h;; p++) {
		if (*p == '.' || !*p) {
			if (label == 0)
				return !*p && p > h && p[-1] == '.' && p - 1 > h;
			if (p[-1] == '-')
				return false;
			if (!*p)
				return true;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
		if ((label == 0 && *p == '-') || ++label > 63)
			return false;
	}
}

/* Any scope name passes: -b keeps the text, and the interface is looked
 * up when the name is resolved, so it need not exist yet. */
static unsigned any_ifindex(const char *ifname)
{
	(void)ifname;
	return 1;
}

/* "[IPV6]:PORT": the address without brackets into b->host; returns the
 * ":PORT" part, or NULL with err set. */
static const char *parse_bracketed(const char *arg, struct broker_spec *b,
				   char *err, size_t errlen)
{
	const char *end = strchr(arg, ']');
	union sockaddr_inet a;
	size_t len;

	if (!end) {
		fail(err, errlen, "-b %s: missing ']'", arg);
		return NULL;
	}
	/* what parses is at most 61 bytes: 45 for the address, "%" and 15
	 * for the scope, well inside b->host */
	len = (size_t)(end - arg - 1);
	if (addr_parse_ip(arg + 1, len, &a, any_ifindex) ||
	    a.sa.sa_family != AF_INET6) {
		fail(err, errlen, "-b %s: not an IPv6 address inside the brackets",
		     arg);
		return NULL;
	}
	if (end[1] != ':') {
		fail(err, errlen, "-b %s: missing :PORT after ']'", arg);
		return NULL;
	}
	memcpy(b->host, arg + 1, len);
	b->host[len] = '\0';
	return end + 1;
}

static int parse_broker(const char *arg, struct broker_spec *b, char *err,
			size_t errlen)
{
	const char *colon = strrchr(arg, ':');
	size_t hlen;
	uint32_t port;
	char q[48];

	for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
		if (*p < 0x20 || *p >= 0x7F)
			return fail(err, errlen,
				    "-b %s: host must be a hostname or an IP address",
				    printable(arg, q, sizeof(q)));
	if (arg[0] == '[') {
		colon = parse_bracketed(arg, b, err, errlen);
		if (!colon)
			return -1;
		goto port;
	}
	if (!colon)
		return fail(err, errlen, "-b %s: missing :PORT", arg);
	hlen = (size_t)(colon - arg);
	if (hlen == 0)
		return fail(err, errlen, "-b %s: empty host", arg);
	if (hlen > CLI_HOST_MAX)
		return fail(err, errlen, "-b %.40s...: host longer than %d bytes",
			    arg, CLI_HOST_MAX);
	if (memchr(arg, ':', hlen))
		return fail(err, errlen,
			    "-b %s: an IPv6 address needs brackets: [ADDRESS]:PORT",
			    arg);
	memcpy(b->host, arg, hlen);
	b->host[hlen] = '\0';
	if (!valid_hostname(b->host))
		return fail(err, errlen,
			    "-b %s: host must be a hostname (letters, digits, '-', '.') or an IP address",
			    arg);
port:
	if (!colon[1])
		return fail(err, errlen, "-b %s: empty port", arg);
	if (colon[1] >= '0' && colon[1] <= '9') {
		if (parse_u32(colon + 1, &port) || port < 1 || port > 65535)
			return fail(err, errlen, "-b %s: port must be 1..65535", arg);
	} else {
		int p = dns_service_port(colon + 1, "udp");

		if (!p)
			return fail(err, errlen, "-b %s: unknown service '%s'", arg,
				    colon + 1);
		port = (uint32_t)p;
	}
	b->port = (uint16_t)port;
	return 0;
}

int cli_format_broker(const struct broker_spec *b, char *buf, size_t cap)
{
	int n = fmt_snprintf(buf, cap, strchr(b->host, ':') ? "[%s]:%u" : "%s:%u",
			     b->host, b->port);

	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

/* The kernel's own rule (dev_valid_name): a name it would refuse at
 * SESSION_CREATE is an error here, not a tunnel torn down every round. */
static int parse_ifname(char flag, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	char q[48];

	if (n == 0)
		return fail(err, errlen, "-%c: empty interface name", flag);
	if (n > CLI_IFNAME_MAX)
		return fail(err, errlen, "-%c %s: interface name longer than %d bytes",
			    flag, printable(v, q, sizeof(q)), CLI_IFNAME_MAX);
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return fail(err, errlen, "-%c %s: invalid interface name", flag, v);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p == 0x7F || *p == '/' || *p == ':')
			return fail(err, errlen,
				    "-%c %s: interface name with '/', ':', a blank or a control character",
				    flag, printable(v, q, sizeof(q)));
	return 0;
}

static int apply(struct options *o, char flag, const char *v, char *err,
		 size_t errlen)
{
	switch (flag) {
	case 'u':
		if (!*v)
			return fail(err, errlen, "-u: empty UUID");
		if (strlen(v) > PROTO_UUID_MAX)
			return fail(err, errlen, "-u %.40s...: UUID longer than %d bytes",
				    v, PROTO_UUID_MAX);
		if (!valid_utf8((const unsigned char *)v)) {
			char q[48];

			return fail(err, errlen, "-u %s: UUID is not valid UTF-8",
				    printable(v, q, sizeof(q)));
		}
		/* it becomes a line of the status file and a hook variable */
		for (const unsigned char *p = (const unsigned char *)v; *p; p++)
			if (*p < 0x20 || *p == 0x7F) {
				char q[48];

				return fail(err, errlen,
					    "-u %s: UUID with a control character",
					    printable(v, q, sizeof(q)));
			}
		o->uuid = v;
		return 0;
	case 'i':
		o->ifname = v;
		return parse_ifname('i', v, err, errlen);
	case 'I':
		o->bind_iface = v;
		return parse_ifname('I', v, err, errlen);
	case 'b':
		if (o->nbrokers == CLIENT_MAX_BROKERS)
			return fail(err, errlen, "-b %s: more than %d brokers", v,
				    CLIENT_MAX_BROKERS);
		return parse_broker(v, &o->brokers[o->nbrokers++], err, errlen);
	case 'l': {
		char q[48];

		switch (addr_parse_ip(v, strlen(v), &o->local, if_nametoindex)) {
		case 0:
			/* ::ffff:a.b.c.d is IPv4 on the wire: binds an IPv4
			 * socket, for brokers of that family */
			addr_unmap(&o->local);
			break;
		case -ENODEV:
			return fail(err, errlen, "-l %s: no such interface",
				    printable(v, q, sizeof(q)));
		default:
			return fail(err, errlen, "-l %s: not an IPv4 or IPv6 address",
				    printable(v, q, sizeof(q)));
		}
		return 0;
	}
	case 's':
		if (!*v)
			return fail(err, errlen, "-s: empty hook path");
		o->hook = v;
		return 0;
	case 't':
		if (parse_u32(v, &o->tunnel_id) || o->tunnel_id == 0)
			return fail(err, errlen, "-t %s: tunnel id must be 1..%u", v,
				    UINT32_MAX);
		return 0;
	case 'L':
		if (parse_u32(v, &o->limit_kbps))
			return fail(err, errlen, "-L %s: bandwidth must be 0..%u kbit/s",
				    v, UINT32_MAX);
		return 0;
	case 'p':
		o->ignored_p = true;
		return 0;
	}
	return fail(err, errlen, "-%c: unknown option", flag);
}

int cli_parse(int argc, char *const argv[], struct options *o, char *err,
	      size_t errlen)
{
	static const char with_arg[] = "uibIlstLp";

	memset(o, 0, sizeof(*o));
	o->tunnel_id = 1;
	o->strategy = SELECT_FIRST;
	err[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1])
			return fail(err, errlen, "unexpected argument '%s'", a);
		if (!strcmp(a, "--"))
			return i + 1 < argc ? fail(err, errlen, "unexpected argument '%s'",
						   argv[i + 1]) : 0;
		for (const char *p = a + 1; *p; p++) {
			if (strchr(with_arg, *p)) {
				const char *v = p[1] ? p + 1 : i + 1 < argc ? argv[++i] : NULL;

				if (!v)
					return fail(err, errlen, "-%c: missing value", *p);
				if (apply(o, *p, v, err, errlen))
					return -1;
				break;
			}
			switch (*p) {
			case 'a': o->strategy = SELECT_USAGE; break;
			case 'g': o->strategy = SELECT_FIRST; break;
			case 'r': o->strategy = SELECT_RANDOM; break;
			case 'f': o->foreground = true; break;
			case 'v': o->debug = true; break;
			case 'V': o->version = true; break;
			case 'h': o->help = true; break;
			default:
				return fail(err, errlen, "-%c: unknown option", *p);
			}
		}
	}
	if (o->help || o->version)
		return 0;
	if (!o->uuid)
		return fail(err, errlen, "-u UUID is required");
	if (!o->ifname)
		return fail(err, errlen, "-i IFNAME is required");
	if (!o->nbrokers)
		return fail(err, errlen, "-b HOST:PORT is required");
	return 0;
}
