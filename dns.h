/* SPDX-License-Identifier: MIT */
/*
 * Name resolution that never blocks the poll loop: address literals of
 * either family, then the hosts file, then a small stub resolver asking the
 * nameservers of resolv.conf (IPv4 or IPv6) for A and AAAA records over
 * UDP.
 *
 * The stub sends both questions together on one socket per attempt and
 * waits for both answers up to DNS_ATTEMPT_MS, or DNS_SECOND_ANSWER_MS
 * past the first one that has addresses; it rotates through the
 * servers, DNS_ROUNDS times over the list, so a query ends by itself
 * within DNS_QUERY_MAX_MS of its start: dns.c owns the whole schedule.
 *
 * The parsers are pure and bounded; struct dns_query holds one in-flight
 * query and its socket, driven by the caller's poll loop.  Addresses come
 * back as union sockaddr_inet with port 0.
 */
#ifndef L2TPD_DNS_H
#define L2TPD_DNS_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define DNS_MAX_SERVERS 3
#define DNS_ATTEMPT_MS 2000
/* Once one question's addresses are in, how much longer the other one is
 * waited for: both were sent together, so a later answer is one that a
 * server (or a middlebox) dropped, not a slow one. */
#define DNS_SECOND_ANSWER_MS 300
#define DNS_ROUNDS 2 /* passes over the server list before giving up */
#define DNS_QUERY_MAX_MS (DNS_ROUNDS * DNS_MAX_SERVERS * DNS_ATTEMPT_MS)
#define DNS_NAME_MAX 253
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_QTYPES 2 /* A, AAAA */
/* Addresses a query keeps per record type, and in all. */
#define DNS_ADDRS_PER_TYPE 8
#define DNS_ADDRS_MAX (DNS_QTYPES * DNS_ADDRS_PER_TYPE)

/* Default paths; the environment variables L2TPD_HOSTS and
 * L2TPD_RESOLV_CONF override them (used by the tests). */
#define DNS_HOSTS_PATH "/etc/hosts"
#define DNS_RESOLV_PATH "/etc/resolv.conf"
#define DNS_SERVICES_PATH "/etc/services" /* L2TPD_SERVICES overrides */

/*
 * All addresses of either family that hosts-file text gives name (up to
 * max), in file order; returns the count (0 if none).  Lines of any length
 * are handled.  An IPv6 "%SCOPE" is read as addr_parse_ip does with
 * ifindex; a line whose address does not parse (an unknown interface
 * included) is skipped.
 */
int dns_hosts_lookup(const char *text, size_t len, const char *name,
		     union sockaddr_inet *out, int max, addr_ifindex_fn *ifindex);
/*
 * The port services-file text gives name (or one of its aliases) for
 * proto ("udp"): 1..65535, or 0 if none.  Lines are "NAME PORT/PROTO
 * [ALIAS...] [# comment]"; malformed lines are skipped.
 */
int dns_services_lookup(const char *text, size_t len, const char *name,
			const char *proto);
/* The same for the services file; 0 if it is unreadable or lacks name. */
int dns_service_port(const char *name, const char *proto);
/* The "nameserver" lines of resolv.conf text, IPv4 or IPv6 (scopes as in
 * dns_hosts_lookup), up to max; count. */
int dns_resolv_parse(const char *text, size_t len, union sockaddr_inet *out,
		     int max, addr_ifindex_fn *ifindex);
/* A standard query (RD set) for the DNS_TYPE_A or DNS_TYPE_AAAA records
 * of name; length or -errno (-EINVAL for another qtype). */
ssize_t dns_build_query(uint8_t *buf, size_t cap, uint16_t id,
			const char *name, uint16_t qtype);
/*
 * The qtype records (A: 4 bytes, AAAA: 16 bytes exactly; others skipped)
 * answering name in reply p/n to query id: count (> 0) with addresses in
 * out; -EAGAIN if the reply is not for this query (wrong id, not a
 * standard-query response, wrong question or question type); -ENOENT for
 * NXDOMAIN or no such record; -EIO for other error RCODEs (SERVFAIL,
 * REFUSED, ...); -EMSGSIZE if truncated (TC); -EBADMSG if malformed
 * (compression loops included); -EINVAL if name is not a valid DNS name,
 * qtype is neither A nor AAAA, or max < 1.
 * CNAME chains inside the answer are followed.
 */
int dns_parse_reply(const uint8_t *p, size_t n, uint16_t id, const char *name,
		    uint16_t qtype, union sockaddr_inet *out, int max)
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
 * Resolves name synchronously if that needs no network: an address literal
 * of either family ("%SCOPE" names through if_nametoindex), or hosts-file
 * entries.  IPv4-mapped addresses come back as IPv4 (addr_unmap).  Returns
 * the count (> 0), 0 if the network is needed, or -errno (-ENODEV: a
 * literal's scope names no interface; -EINVAL: not in the hosts file and
 * not a valid DNS name).
 */
int dns_lookup_local(const char *name, union sockaddr_inet *out, int max);

#define DNS_WAITING (-EINPROGRESS) /* dns_query.result[]: no answer yet */

struct dns_query {
	int fd; /* -1 when idle */
	unsigned attempt;
	unsigned nservers;
	union sockaddr_inet servers[DNS_MAX_SERVERS];
	int64_t deadline; /* of the current attempt */
	char name[DNS_NAME_MAX + 1];
	/* the current attempt, per question (A, AAAA) */
	uint16_t id[DNS_QTYPES];
	int result[DNS_QTYPES]; /* DNS_WAITING, a count or -errno */
	int naddrs[DNS_QTYPES];
	union sockaddr_inet addrs[DNS_QTYPES][DNS_ADDRS_PER_TYPE];
};

void dns_query_init(struct dns_query *q);
/* Starts asking the nameservers; 0 or -errno (-ENOENT: no nameserver,
 * -EINVAL: not a valid DNS name; else no attempt could be sent, e.g.
 * -ECONNREFUSED reported already on the second question's send). */
int dns_query_start(struct dns_query *q, const char *name, int64_t now);
/*
 * Call when q->fd is readable or q->deadline has come (either; it checks
 * both).  Returns the count (> 0, at most max) with the addresses in out,
 * A records first, then AAAA; 0 while the query goes on (a failed attempt
 * moves on to the next server: wait for the new q->fd and q->deadline); or
 * -errno once it is over: -ENOENT for an authoritative no for both types,
 * else the last attempt's error (-ETIMEDOUT when nothing came).  An attempt
 * whose deadline passes with only one type answered ends the query with
 * that type's addresses.  The query is idle after a nonzero return;
 * -EBADF if it already was, -EINVAL if max < 1.
 */
int dns_query_run(struct dns_query *q, union sockaddr_inet *out, int max,
		  int64_t now);
/* Whether a query is in flight (then q->fd and q->deadline are valid and
 * dns_query_run will end it by DNS_QUERY_MAX_MS after its start). */
bool dns_query_pending(const struct dns_query *q);
void dns_query_cancel(struct dns_query *q);

#endif
