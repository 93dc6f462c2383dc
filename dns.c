/* SPDX-License-Identifier: MIT */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNS_HDR_LEN 12
#define DNS_WIRE_MAX 255 /* encoded name, RFC 1035 section 3.1 */
#define DNS_LABEL_MAX 63
#define DNS_QUERY_MAX (DNS_HDR_LEN + DNS_WIRE_MAX + 4)
#define DNS_PTR_HOPS 128 /* a 255-byte name has at most 127 labels */
#define DNS_CHAIN_MAX 16 /* names in a CNAME chain, the query included */
#define DNS_UDP_MAX 4096
#define DNS_READ_BURST 32 /* datagrams per dns_query_run, so floods yield */
#define DNS_HOSTS_MAX (16u << 20)
#define DNS_RESOLV_MAX (1u << 20)
/* Hosts and resolv.conf lines longer than this are skipped. */
#define DNS_LINE_MAX 4096

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_RCODE_NXDOMAIN 3
#define DNS_TYPE_CNAME 5
#define DNS_CLASS_IN 1

/* Not in the header: the unit tests point queries at a loopback port. */
extern uint16_t dns_port;
uint16_t dns_port = 53;

struct dns_name {
	size_t len;
	uint8_t b[DNS_WIRE_MAX];
};

struct dns_rr {
	struct dns_name owner;
	uint16_t type;
	uint16_t class;
	size_t rdoff;
	size_t rdlen;
};

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ASCII only: DNS names compare case-insensitively in ASCII, whatever the
 * locale says. */
static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool ascii_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The next blank-separated token of [*pos, end); false when none is left. */
static bool next_token(const char **pos, const char *end, const char **tok,
		       size_t *toklen)
{
	const char *s = *pos;

	while (s < end && is_blank(*s))
		s++;
	if (s == end) {
		*pos = s;
		return false;
	}
	*tok = s;
	while (s < end && !is_blank(*s))
		s++;
	*toklen = (size_t)(s - *tok);
	*pos = s;
	return true;
}

/* End of the line starting at s, and where the following one starts. */
static const char *line_end(const char *s, const char *end, const char **next)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));

	if (!nl) {
		*next = end;
		return end;
	}
	*next = nl + 1;
	return nl;
}

int dns_hosts_lookup(const char *text, size_t len, const char *name,
		     union sockaddr_inet *out, int max, addr_ifindex_fn *ifindex)
{
	const char *end = text + len, *s = text, *next;
	size_t namelen = strlen(name);
	int n = 0;

	if (!namelen)
		return 0;
	for (; s < end && n < max; s = next) {
		const char *e = line_end(s, end, &next), *hash, *tok;
		union sockaddr_inet a;
		size_t toklen;

		hash = memchr(s, '#', (size_t)(e - s));
		if (hash)
			e = hash;
		if (!next_token(&s, e, &tok, &toklen) ||
		    addr_parse_ip(tok, toklen, &a, ifindex))
			continue;
		while (next_token(&s, e, &tok, &toklen)) {
			if (toklen == namelen && ascii_eq(tok, name, namelen)) {
				out[n++] = a;
				break;
			}
		}
	}
	return n;
}

/* PORT/PROTO: the port if proto matches, else 0. */
static int service_port(const char *tok, size_t n, const char *proto)
{
	const char *slash = memchr(tok, '/', n);
	size_t plen = strlen(proto);
	unsigned port = 0;

	if (!slash || slash == tok || (size_t)(tok + n - slash - 1) != plen ||
	    !ascii_eq(slash + 1, proto, plen))
		return 0;
	for (const char *d = tok; d < slash; d++) {
		if (*d < '0' || *d > '9')
			return 0;
		port = port * 10 + (unsigned)(*d - '0');
		if (port > 65535)
			return 0;
	}
	return (int)port;
}

int dns_services_lookup(const char *text, size_t len, const char *name,
			const char *proto)
{
	const char *end = text + len, *s = text, *next;
	size_t namelen = strlen(name);

	if (!namelen)
		return 0;
	for (; s < end; s = next) {
		const char *e = line_end(s, end, &next), *hash, *tok, *ptok;
		size_t toklen, plen;
		bool match;
		int port;

		hash = memchr(s, '#', (size_t)(e - s));
		if (hash)
			e = hash;
		if (!next_token(&s, e, &tok, &toklen) ||
		    !next_token(&s, e, &ptok, &plen))
			continue;
		port = service_port(ptok, plen, proto);
		if (!port)
			continue;
		match = toklen == namelen && ascii_eq(tok, name, namelen);
		while (!match && next_token(&s, e, &tok, &toklen))
			match = toklen == namelen && ascii_eq(tok, name, namelen);
		if (match)
			return port;
	}
	return 0;
}

int dns_resolv_parse(const char *text, size_t len, union sockaddr_inet *out,
		     int max, addr_ifindex_fn *ifindex)
{
	const char *end = text + len, *s = text, *next;
	int n = 0;

	for (; s < end && n < max; s = next) {
		const char *e = line_end(s, end, &next), *tok;
		union sockaddr_inet a;
		size_t toklen;

		for (const char *c = s; c < e; c++) {
			if (*c == '#' || *c == ';') {
				e = c;
				break;
			}
		}
		if (!next_token(&s, e, &tok, &toklen) || toklen != 10 ||
		    memcmp(tok, "nameserver", 10) ||
		    !next_token(&s, e, &tok, &toklen) ||
		    addr_parse_ip(tok, toklen, &a, ifindex))
			continue;
		out[n++] = a;
	}
	return n;
}

/* name in wire format into wire (DNS_WIRE_MAX bytes); length or -EINVAL. */
static int encode_name(const char *name, uint8_t *wire)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 2), w = 0, start = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (!len || len > DNS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		size_t l;

		if (i < len && name[i] != '.')
			continue;
		l = i - start;
		if (!l || l > DNS_LABEL_MAX)
			return -EINVAL;
		wire[w++] = (uint8_t)l;
		memcpy(wire + w, name + start, l);
		w += l;
		start = i + 1;
	}
	wire[w++] = 0;
	return (int)w;
}

ssize_t dns_build_query(uint8_t *buf, size_t cap, uint16_t id,
			const char *name, uint16_t qtype)
{
	uint8_t wire[DNS_WIRE_MAX];
	int wlen = encode_name(name, wire);
	size_t len;

	if (wlen < 0)
		return wlen;
	if (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA)
		return -EINVAL;
	len = DNS_HDR_LEN + (size_t)wlen + 4;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, DNS_HDR_LEN);
	put_u16(buf, id);
	put_u16(buf + 2, DNS_FLAG_RD);
	put_u16(buf + 4, 1);
	memcpy(buf + DNS_HDR_LEN, wire, (size_t)wlen);
	put_u16(buf + DNS_HDR_LEN + wlen, qtype);
	put_u16(buf + DNS_HDR_LEN + wlen + 2, DNS_CLASS_IN);
	return (ssize_t)len;
}

/*
 * Reads the possibly compressed name at *off into flat wire format and moves
 * *off past it.  Pointers must point before themselves (RFC 1035 speaks of
 * a prior occurrence); with the hop limit and the 255-byte cap that ends
 * every loop.
 */
static int read_name(const uint8_t *p, size_t n, size_t *off,
		     struct dns_name *name)
{
	size_t pos = *off, w = 0, end = 0;
	unsigned hops = 0;

	for (;;) {
		uint8_t c;

		if (pos >= n)
			return -EBADMSG;
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= n)
				return -EBADMSG;
			ptr = (size_t)(c & 0x3f) << 8 | p[pos + 1];
			if (!hops)
				end = pos + 2;
			if (ptr >= pos || ++hops > DNS_PTR_HOPS)
				return -EBADMSG;
			pos = ptr;
			continue;
		}
		if (c & 0xc0)
			return -EBADMSG; /* extended label types */
		if (!c)
			break;
		if (w + 1 + c + 1 > DNS_WIRE_MAX || c > n - pos - 1)
			return -EBADMSG;
		memcpy(name->b + w, p + pos, 1 + (size_t)c);
		w += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	name->b[w++] = 0;
	name->len = w;
	*off = hops ? end : pos + 1;
	return 0;
}

static bool name_eq(const struct dns_name *a, const struct dns_name *b)
{
	if (a->len != b->len)
		return false;
	/* Length bytes are below 64, so lowering them is harmless. */
	for (size_t i = 0; i < a->len; i++)
		if (ascii_lower(a->b[i]) != ascii_lower(b->b[i]))
			return false;
	return true;
}

static int read_rr(const uint8_t *p, size_t n, size_t *off, struct dns_rr *rr)
{
	int r = read_name(p, n, off, &rr->owner);

	if (r)
		return r;
	if (n - *off < 10)
		return -EBADMSG;
	rr->type = get_u16(p + *off);
	rr->class = get_u16(p + *off + 2);
	rr->rdlen = get_u16(p + *off + 8);
	rr->rdoff = *off + 10;
	if (rr->rdlen > n - rr->rdoff)
		return -EBADMSG;
	*off = rr->rdoff + rr->rdlen;
	return 0;
}

static bool in_chain(const struct dns_name *chain, unsigned nchain,
		     const struct dns_name *name)
{
	for (unsigned i = 0; i < nchain; i++)
		if (name_eq(&chain[i], name))
			return true;
	return false;
}

/*
 * Grows chain with the CNAME targets of its members, in whatever order the
 * answer section lists them; every pass also checks each record's bounds.
 */
static int follow_cnames(const uint8_t *p, size_t n, size_t off, unsigned an,
			 struct dns_name *chain, unsigned *nchain)
{
	bool grew;

	do {
		size_t pos = off;

		grew = false;
		for (unsigned i = 0; i < an; i++) {
			struct dns_name target;
			struct dns_rr rr;
			size_t t;
			int r = read_rr(p, n, &pos, &rr);

			if (r)
				return r;
			if (rr.type != DNS_TYPE_CNAME ||
			    rr.class != DNS_CLASS_IN ||
			    !in_chain(chain, *nchain, &rr.owner))
				continue;
			t = rr.rdoff;
			r = read_name(p, n, &t, &target);
			if (r)
				return r;
			if (t > rr.rdoff + rr.rdlen)
				return -EBADMSG;
			if (*nchain == DNS_CHAIN_MAX ||
			    in_chain(chain, *nchain, &target))
				continue;
			chain[(*nchain)++] = target;
			grew = true;
		}
	} while (grew);
	return 0;
}

int dns_parse_reply(const uint8_t *p, size_t n, uint16_t id, const char *name,
		    uint16_t qtype, union sockaddr_inet *out, int max)
{
	size_t alen = qtype == DNS_TYPE_A ? 4 : 16;
	struct dns_name chain[DNS_CHAIN_MAX], qname;
	unsigned qd, an, nchain = 1, rcode;
	uint16_t flags;
	size_t off = DNS_HDR_LEN, pos;
	int wlen, r, count = 0;

	if (max < 1 || (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA))
		return -EINVAL;
	wlen = encode_name(name, chain[0].b);
	if (wlen < 0)
		return wlen;
	chain[0].len = (size_t)wlen;

	if (n < 2 || get_u16(p) != id)
		return -EAGAIN;
	if (n < DNS_HDR_LEN)
		return -EBADMSG;
	flags = get_u16(p + 2);
	if (!(flags & DNS_FLAG_QR) || ((flags >> 11) & 0xf))
		return -EAGAIN;
	rcode = flags & 0xf;
	qd = get_u16(p + 4);
	an = get_u16(p + 6);
	/* Some servers leave the question out of errors they cannot act on
	 * (FORMERR, NOTIMP, REFUSED); an answer still needs the question. */
	if (!qd && (flags & DNS_FLAG_TC))
		return -EMSGSIZE;
	if (!qd && rcode && rcode != DNS_RCODE_NXDOMAIN)
		return -EIO;
	if (qd != 1)
		return -EAGAIN;
	r = read_name(p, n, &off, &qname);
	if (r)
		return r;
	if (n - off < 4)
		return -EBADMSG;
	if (!name_eq(&qname, &chain[0]) || get_u16(p + off) != qtype ||
	    get_u16(p + off + 2) != DNS_CLASS_IN)
		return -EAGAIN;
	off += 4;
	if (flags & DNS_FLAG_TC)
		return -EMSGSIZE;
	if (rcode == DNS_RCODE_NXDOMAIN)
		return -ENOENT;
	if (rcode)
		return -EIO;

	r = follow_cnames(p, n, off, an, chain, &nchain);
	if (r)
		return r;
	pos = off;
	for (unsigned i = 0; i < an; i++) {
		struct dns_rr rr;

		r = read_rr(p, n, &pos, &rr);
		if (r)
			return r;
		if (rr.type != qtype || rr.class != DNS_CLASS_IN ||
		    rr.rdlen != alen || !in_chain(chain, nchain, &rr.owner))
			continue;
		memset(&out[count], 0, sizeof(out[count]));
		if (qtype == DNS_TYPE_A) {
			out[count].in.sin_family = AF_INET;
			memcpy(&out[count].in.sin_addr, p + rr.rdoff, 4);
		} else {
			out[count].in6.sin6_family = AF_INET6;
			memcpy(&out[count].in6.sin6_addr, p + rr.rdoff, 16);
		}
		count++;
		if (count == max)
			break;
	}
	return count ? count : -ENOENT;
}

int dns_read_lines(const char *path, size_t max, char *buf, size_t cap,
		   dns_lines_fn *each, void *arg)
{
	size_t have = 0, total = 0;
	bool skipping = false; /* inside a line longer than cap */
	int fd, r = 0;

	if (!cap)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t k = read(fd, buf + have, cap - have);
		size_t start = 0;
		const char *nl;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (!k) {
			/* the last line may lack its newline */
			if (have && !skipping)
				(void)each(buf, have, arg);
			break;
		}
		total += (size_t)k;
		if (total > max) {
			r = -EFBIG;
			break;
		}
		have += (size_t)k;
		if (skipping) {
			nl = memchr(buf, '\n', have);
			start = nl ? (size_t)(nl + 1 - buf) : have;
			skipping = !nl;
		}
		nl = memrchr(buf + start, '\n', have - start);
		if (nl) {
			size_t whole = (size_t)(nl + 1 - buf);

			if (!each(buf + start, whole - start, arg))
				break;
			start = whole;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == cap) {
			skipping = true;
			have = 0;
		}
	}
	close(fd);
	return r;
}

struct addr_list {
	const char *name; /* hosts: the name looked up */
	union sockaddr_inet *out;
	int n, max;
};

static bool hosts_lines(const char *text, size_t len, void *arg)
{
	struct addr_list *l = arg;

	l->n += dns_hosts_lookup(text, len, l->name, l->out + l->n,
				 l->max - l->n, if_nametoindex);
	return l->n < l->max;
}

static bool resolv_lines(const char *text, size_t len, void *arg)
{
	struct addr_list *l = arg;

	l->n += dns_resolv_parse(text, len, l->out + l->n, l->max - l->n,
				 if_nametoindex);
	return l->n < l->max;
}

static const char *env_path(const char *var, const char *def)
{
	const char *p = getenv(var);

	return p && *p ? p : def;
}

struct service_query {
	const char *name, *proto;
	int port;
};

static bool services_lines(const char *text, size_t len, void *arg)
{
	struct service_query *q = arg;

	q->port = dns_services_lookup(text, len, q->name, q->proto);
	return !q->port;
}

int dns_service_port(const char *name, const char *proto)
{
	struct service_query q = { name, proto, 0 };
	char buf[DNS_LINE_MAX];

	if (dns_read_lines(env_path("L2TPD_SERVICES", DNS_SERVICES_PATH),
			   DNS_HOSTS_MAX, buf, sizeof(buf), services_lines, &q))
		return 0;
	return q.port;
}

int dns_lookup_local(const char *name, union sockaddr_inet *out, int max)
{
	struct addr_list l = { name, out, 0, max };
	uint8_t wire[DNS_WIRE_MAX];
	char buf[DNS_LINE_MAX];
	int r;

	if (max < 1)
		return -EINVAL;
	r = addr_parse_ip(name, strlen(name), &out[0], if_nametoindex);
	if (r != -EINVAL) {
		if (r)
			return r;
		addr_unmap(&out[0]);
		return 1;
	}
	/* no name has a colon: a broken IPv6 literal, not a question */
	if (strchr(name, ':'))
		return -EINVAL;
	/* Like the C library, an unreadable hosts file just has no entries. */
	if (dns_read_lines(env_path("L2TPD_HOSTS", DNS_HOSTS_PATH),
			   DNS_HOSTS_MAX, buf, sizeof(buf), hosts_lines, &l))
		l.n = 0;
	for (int i = 0; i < l.n; i++)
		addr_unmap(&out[i]);
	if (l.n)
		return l.n;
	/* Hosts files may list names DNS cannot carry; beyond them, no. */
	return encode_name(name, wire) < 0 ? -EINVAL : 0;
}

void dns_query_init(struct dns_query *q)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
}

void dns_query_cancel(struct dns_query *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

bool dns_query_pending(const struct dns_query *q)
{
	return q->fd >= 0;
}

/* The id is all that stands between an off-path forger and the answer
 * (besides the source port), so it must not be guessable. */
static uint16_t random_id(void)
{
	static uint16_t counter;
	struct timespec ts;
	uint16_t id;
	int fd;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
		return id;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k = read(fd, &id, sizeof(id));

		close(fd);
		if (k == (ssize_t)sizeof(id))
			return id;
	}
	/* Last resort: weak, but better than not resolving at all. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	counter += 0x9e37;
	return (uint16_t)(ts.tv_nsec ^ ts.tv_nsec >> 16 ^ getpid() ^ counter);
}

static const uint16_t qtypes[DNS_QTYPES] = { DNS_TYPE_A, DNS_TYPE_AAAA };

/* Sends attempt q->attempt, the A and then the AAAA question, on a fresh
 * socket of the server's family; 0 or -errno (fd closed). */
static int send_attempt(struct dns_query *q, int64_t now)
{
	union sockaddr_inet sa = q->servers[q->attempt % q->nservers];
	uint8_t buf[DNS_QUERY_MAX];
	int fd, r;

	dns_query_cancel(q);
	addr_set_port(&sa, dns_port);
	fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	/* Connected, so the kernel drops datagrams from anyone else. */
	if (connect(fd, &sa.sa, addr_len(&sa)) < 0)
		goto fail;
	for (int t = 0; t < DNS_QTYPES; t++) {
		ssize_t len, k;

		do
			q->id[t] = random_id();
		while (t && q->id[t] == q->id[0]);
		len = dns_build_query(buf, sizeof(buf), q->id[t], q->name,
				      qtypes[t]);
		if (len < 0) {
			close(fd);
			return (int)len;
		}
		k = send(fd, buf, (size_t)len, 0);
		if (k != len) {
			if (k >= 0)
				errno = EIO;
			goto fail;
		}
		q->result[t] = DNS_WAITING;
		q->naddrs[t] = 0;
	}
	q->fd = fd;
	q->deadline = now + DNS_ATTEMPT_MS;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* The current attempt failed with err: on to the next server, if any. */
static int next_attempt(struct dns_query *q, int64_t now, int err)
{
	while (++q->attempt < DNS_ROUNDS * q->nservers) {
		int r = send_attempt(q, now);

		if (!r)
			return 0;
		err = r;
	}
	dns_query_cancel(q);
	return err;
}

int dns_query_start(struct dns_query *q, const char *name, int64_t now)
{
	struct addr_list l = { NULL, q->servers, 0, DNS_MAX_SERVERS };
	uint8_t buf[DNS_QUERY_MAX];
	char text[DNS_LINE_MAX];
	ssize_t qlen;
	size_t nlen;
	int r;

	dns_query_cancel(q);
	qlen = dns_build_query(buf, sizeof(buf), 0, name, DNS_TYPE_A);
	if (qlen < 0)
		return (int)qlen;
	r = dns_read_lines(env_path("L2TPD_RESOLV_CONF", DNS_RESOLV_PATH),
			   DNS_RESOLV_MAX, text, sizeof(text), resolv_lines, &l);
	if (r)
		return r;
	if (!l.n)
		return -ENOENT;
	q->nservers = (unsigned)l.n;
	q->attempt = 0;
	/* Without its trailing dot the name always fits q->name. */
	nlen = strlen(name);
	if (name[nlen - 1] == '.')
		nlen--;
	memcpy(q->name, name, nlen);
	q->name[nlen] = '\0';
	r = send_attempt(q, now);
	return r ? next_attempt(q, now, r) : 0;
}

/*
 * Where the attempt stands once both answers are in, or its deadline
 * passed: addresses of either type end the query (A first, then AAAA);
 * "no such name or record" for both ends it with -ENOENT; else the next
 * attempt, after an error of one of them or -ETIMEDOUT.
 */
static int settle(struct dns_query *q, union sockaddr_inet *out, int max,
		  int64_t now, bool late)
{
	int err = -ETIMEDOUT, count = 0;
	bool waiting = false;

	for (int t = 0; t < DNS_QTYPES; t++) {
		waiting |= q->result[t] == DNS_WAITING;
		if (q->result[t] < 0 && q->result[t] != -ENOENT &&
		    q->result[t] != DNS_WAITING && err == -ETIMEDOUT)
			err = q->result[t];
	}
	if (waiting && !late) {
		for (int t = 0; t < DNS_QTYPES; t++)
			if (q->result[t] > 0 && q->deadline > now + DNS_SECOND_ANSWER_MS)
				q->deadline = now + DNS_SECOND_ANSWER_MS;
		return 0;
	}
	for (int t = 0; t < DNS_QTYPES; t++)
		for (int i = 0; i < q->naddrs[t] && count < max; i++)
			out[count++] = q->addrs[t][i];
	if (count || (!waiting && q->result[0] == -ENOENT &&
		      q->result[1] == -ENOENT)) {
		dns_query_cancel(q);
		return count ? count : -ENOENT;
	}
	return next_attempt(q, now, err);
}

/* One datagram of the current attempt: its answer, if it is one. */
static void take_reply(struct dns_query *q, const uint8_t *buf, size_t len,
		       bool clipped)
{
	for (int t = 0; t < DNS_QTYPES; t++) {
		int r;

		if (q->result[t] != DNS_WAITING)
			continue;
		r = dns_parse_reply(buf, len, q->id[t], q->name, qtypes[t],
				    q->addrs[t], DNS_ADDRS_PER_TYPE);
		if (r == -EAGAIN)
			continue;
		if (clipped)
			r = -EMSGSIZE;
		q->result[t] = r;
		q->naddrs[t] = r > 0 ? r : 0;
		return;
	}
}

int dns_query_run(struct dns_query *q, union sockaddr_inet *out, int max,
		  int64_t now)
{
	uint8_t buf[DNS_UDP_MAX];

	if (q->fd < 0)
		return -EBADF;
	if (max < 1)
		return -EINVAL;
	for (int i = 0; i < DNS_READ_BURST; i++) {
		/* MSG_TRUNC: the real datagram length, to spot clipped ones. */
		ssize_t k = recv(q->fd, buf, sizeof(buf), MSG_TRUNC);
		size_t len;
		int r;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ECONNREFUSED and friends: ICMP from the server. */
			return next_attempt(q, now, -errno);
		}
		len = (size_t)k < sizeof(buf) ? (size_t)k : sizeof(buf);
		take_reply(q, buf, len, (size_t)k > len);
		r = settle(q, out, max, now, false);
		if (r)
			return r;
	}
	return now >= q->deadline ? settle(q, out, max, now, true) : 0;
}
