/* SPDX-License-Identifier: MIT */
/*
 * Name resolution that never blocks the poll loop: numeric IPv4 literals,
 * then the hosts file, then a small stub resolver asking the nameservers of
 * resolv.conf for A records over UDP (2 s per attempt, rotating servers).
 *
 * The parsers are pure and bounded; struct dns_query holds one in-flight
 * query and its socket, driven by the caller's poll loop.
 */
#ifndef L2TPD_DNS_H
#define L2TPD_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DNS_MAX_SERVERS 3
#define DNS_ATTEMPT_MS 2000
#define DNS_ROUNDS 2 /* passes over the server list before giving up */
#define DNS_NAME_MAX 253

/* Default paths; the environment variables L2TPD_HOSTS and
 * L2TPD_RESOLV_CONF override them (used by the tests). */
#define DNS_HOSTS_PATH "/etc/hosts"
#define DNS_RESOLV_PATH "/etc/resolv.conf"

/* All IPv4 addresses of name in hosts-file text (up to max), in file order;
 * returns the count (0 if none).  Lines of any length are handled. */
int dns_hosts_lookup(const char *text, size_t len, const char *name,
		     struct in_addr *out, int max);
/* The IPv4 "nameserver" lines of resolv.conf text (up to max); count. */
int dns_resolv_parse(const char *text, size_t len, struct in_addr *out,
		     int max);
/* A standard query (RD set) for the A record of name; length or -errno. */
ssize_t dns_build_query(uint8_t *buf, size_t cap, uint16_t id,
			const char *name);
/*
 * The A records answering name in reply p/n to query id: count (> 0) with
 * addresses in out; -EAGAIN if the reply is not for this query (wrong id,
 * not a standard-query response, wrong question); -ENOENT for NXDOMAIN or
 * no A record; -EIO for other error RCODEs (SERVFAIL, REFUSED, ...);
 * -EMSGSIZE if truncated (TC); -EBADMSG if malformed (compression loops
 * included); -EINVAL if name is not a valid DNS name or max < 1.
 * CNAME chains inside the answer are followed.
 */
int dns_parse_reply(const uint8_t *p, size_t n, uint16_t id, const char *name,
		    struct in_addr *out, int max)
	__attribute__((warn_unused_result));

/*
 * Reads the file at path through buf and passes it to each() in runs of
 * whole lines, the newlines included (the file's last line may lack its
 * own).  A line longer than cap bytes with its newline (counted for the
 * last line too) is skipped whole.
 * each() returns false to stop reading.  Returns 0, or -errno: -EFBIG once
 * more than max bytes were read, -EINVAL if cap is 0.
 */
typedef bool dns_lines_fn(const char *text, size_t len, void *arg);
int dns_read_lines(const char *path, size_t max, char *buf, size_t cap,
		   dns_lines_fn *each, void *arg);

/*
 * Resolves name synchronously if that needs no network: an IPv4 literal or
 * a hosts-file entry.  Returns the count (> 0), 0 if the network is needed,
 * or -errno (-EINVAL: not in the hosts file and not a valid DNS name).
 */
int dns_resolve_local(const char *name, struct in_addr *out, int max);

struct dns_query {
	int fd; /* -1 when idle */
	uint16_t id;
	unsigned attempt;
	unsigned nservers;
	struct in_addr servers[DNS_MAX_SERVERS];
	int64_t deadline;
	char name[DNS_NAME_MAX + 1];
};

void dns_query_init(struct dns_query *q);
/* Starts asking the nameservers; 0 or -errno (-ENOENT: no nameserver,
 * -EINVAL: not a valid DNS name). */
int dns_query_start(struct dns_query *q, const char *name, int64_t now);
/* q->fd is readable: count (> 0), 0 if still waiting (a failed attempt moves
 * on to the next server), or -errno: -ENOENT for an authoritative no, else
 * the last attempt's error once none is left.  The query is idle after a
 * nonzero return; -EBADF if it already was. */
int dns_query_read(struct dns_query *q, struct in_addr *out, int max,
		   int64_t now);
/* q->deadline passed: 0 if a next attempt was sent, or -ETIMEDOUT (the
 * last send error if the final attempts could not even be sent); -EBADF if
 * idle. */
int dns_query_timeout(struct dns_query *q, int64_t now);
void dns_query_cancel(struct dns_query *q);

#endif
