/* SPDX-License-Identifier: MIT */
/*
 * broker: the broker side of the tunneldigger protocol for the scenario
 * scripts, built from the same proto.c, nlmsg.c and genl.c as l2tpd.  It
 * answers USAGE, COOKIE and PREPARE, builds the kernel tunnel, keeps it alive,
 * discovers the path MTU, acknowledges reliable messages and tears down on
 * ERROR, silence, socket errors or a signal.  Switches make it misbehave the
 * ways real brokers and networks do: loss, refusal, sudden death, a lost
 * TUNNEL reply, no feature support, hostile datagrams, a rate limit on new
 * tunnels, tunnels closed as soon as they are made.
 *
 * SIGUSR1 and SIGUSR2 restart the broker in place, as a service manager
 * would restart a real one: SIGUSR1 gracefully (ERROR shutdown on every
 * tunnel), SIGUSR2 like a crash (tunnels gone without a word).  Either way
 * the ports are closed for the -A time, then opened again with a new
 * cookie key, and the process (and its log) carries on.  Events that mark
 * a moment a script measures from carry at=<wall clock ms>.
 *
 * Every event is one line on stdout, "broker: EVENT key=value ...", so that
 * the scripts can wait for it with grep.  Errors go to stderr.
 *
 * Signals are blocked except inside ppoll(), so the handler only sets a flag
 * and teardown runs in the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "genl.h"
#include "netdev.h"
#include "proto.h"

#define MAX_LISTEN 8
#define MAX_TUNNELS 65536
#define ID_LIMIT 99999u		/* "l2tp<id>-<id>" must fit IFNAMSIZ */
#define RX_BUF 2048
#define RX_BUDGET 64		/* datagrams per socket per wakeup */

#define TICK_MS 64000		/* cookie timestamp unit */
#define COOKIE_SLACK 2		/* ticks either side a cookie is good for */
#define COOKIE_MAC_LEN 6

#define KEEPALIVE_FIRST_MS 3000	/* -D, and the earliest random one */
#define KEEPALIVE_FIRST_SPREAD 12	/* random first one: 3..14 s */
#define KEEPALIVE_MS 5000
#define LIVENESS_MS 120000
#define MAX_SOCK_ERRORS 10

#define PROBE_FIRST_MS 1000
#define PROBE_STEP_MS 1000
#define PROBE_RERUN_MS 600000
#define PROBE_REPEAT 4
#define PMTU_LINK 1500		/* the underlay assumed before discovery */
/* The tunnel overhead beyond the IP and UDP headers: L2TPv3 session id,
 * cookie and sublayer, Ethernet. */
#define L2TP_ETH_OVERHEAD (PROTO_TUNNEL_OVERHEAD - PROTO_PROBE_OVERHEAD)

#define MALFORMED_SPAN_MS 1000
#define MALFORMED_MAX_LEN 300
#define MALFORMED_TRIES 16

#define NEVER INT64_MAX

struct options {
	union sockaddr_inet listen[MAX_LISTEN];
	int nlisten;
	uint32_t base;
	uint32_t max;
	uint16_t pmtu;		/* 0: discover */
	unsigned drop_pct;
	bool has_seed;
	uint64_t seed;
	bool refuse;
	long mute_after_s;	/* -1: never */
	long usage;		/* -1: computed */
	bool no_features;
	bool drop_first_tunnel;
	unsigned malformed;
	bool no_kernel;
	bool verbose;
	bool fixed_first_keepalive;
	long rate_limit_ms;	/* 0: none */
	long close_after_ms;	/* -1: never */
	long away_ms;		/* ports closed this long on a restart */
};

struct listener {
	int fd;
	union sockaddr_inet addr;
};

struct tunnel {
	bool used;
	uint32_t id;
	uint32_t peer_id;
	uint32_t session_id;
	uint32_t peer_session_id;
	uint32_t client_features;	/* as offered, to recognise repeats */
	uint32_t features;		/* as agreed */
	uint8_t uuid_len;
	char uuid[PROTO_UUID_MAX + 1];
	char ifname[IFNAMSIZ];
	int fd;
	const struct listener *lsn;
	union sockaddr_inet peer;
	bool kernel_tunnel;
	bool kernel_session;
	int64_t created;
	int64_t close_at;	/* -C */
	int64_t last_alive;
	int64_t next_keepalive;
	uint16_t keepalive_seq;
	int errors;
	/* PMTU discovery: one descending run, then a long pause. */
	int64_t next_probe;
	unsigned probe_idx;
	unsigned last_probe;	/* packet size sent at the previous tick */
	unsigned acked;		/* largest packet size acked in this run */
	int measured;
	int peer_mtu;		/* from the client's PMTU_NTFY, 0: none */
	int mtu;		/* on the interface */
	unsigned malformed_sent;
};

struct broker {
	struct options opt;
	struct listener lsn[MAX_LISTEN];
	struct tunnel *tun;	/* opt.max slots, id = base + slot */
	struct pollfd *pfd;
	struct tunnel **pfd_tun;
	uint32_t active;
	uint32_t next_slot;
	struct l2tp_nl *nl;
	int ioctl_fd;
	uint8_t key[16];
	uint64_t rng;
	int64_t start;
	int64_t mute_at;
	bool mute;
	bool dropped_tunnel_reply;
	int64_t last_created;	/* NEVER: none since the (re)start */
	int64_t relisten_at;	/* NEVER unless restarting */
};

/* Where a message goes: a main socket answers by address, a tunnel socket
 * is connected to its endpoint. */
struct peer {
	int fd;
	const union sockaddr_inet *addr;
	bool connected;
	uint32_t id;		/* 0 on a main socket */
};

struct addr_text {
	char s[ADDR_STRLEN];
};

static volatile sig_atomic_t quit;
static volatile sig_atomic_t restart_req;	/* the signal, or 0 */

static void on_signal(int sig)
{
	if (sig == SIGUSR1 || sig == SIGUSR2)
		restart_req = sig;
	else
		quit = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* For at=: scripts compare it with their own wall clock. */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __attribute__((format(printf, 1, 2))) void event(const char *fmt, ...)
{
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("broker: %s\n", line);
}

/* err is a positive errno value. */
static __attribute__((format(printf, 2, 3))) void warn_err(int err,
							   const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "broker: %s: %s\n", line, strerror(err));
}

static struct addr_text addr_fmt(const union sockaddr_inet *a)
{
	struct addr_text t;

	if (addr_format(a, true, t.s, sizeof(t.s)) < 0)
		strcpy(t.s, "?");
	return t;
}

/* Over IPv6 the headers are 20 bytes longer, on the probes and on every
 * data frame alike (PROTOCOL.md 8a). */
static unsigned tunnel_ip_udp(const struct tunnel *t)
{
	return addr_ip_udp_overhead(&t->peer);
}

static unsigned tunnel_overhead(const struct tunnel *t)
{
	return tunnel_ip_udp(t) + L2TP_ETH_OVERHEAD;
}

/* 1446 over IPv4, 1426 over IPv6 */
static int default_mtu(const struct tunnel *t)
{
	return PMTU_LINK - (int)tunnel_overhead(t);
}

/* The UUID goes into a space-separated log line: keep it one token. */
static void uuid_fmt(char *out, const char *uuid, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = uuid[i] > ' ' && uuid[i] < 0x7f ? uuid[i] : '?';
	out[n] = '\0';
}

/* The real broker decodes the UUID and drops a PREPARE it cannot decode. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, len, k;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2, cp = s[i] & 0x1f, min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3, cp = s[i] & 0x0f, min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4, cp = s[i] & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- randomness ---- */

static int fill_random(void *buf, size_t n)
{
	uint8_t *p = buf;
	ssize_t r;
	int fd;

	while (n) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		p += r;
		n -= (size_t)r;
	}
	if (!n)
		return 0;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return r < 0 ? -errno : -EIO;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
}

/* A seed of 0 would stick xorshift at 0: spread it first. */
static uint64_t seed_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x ? x : 1;
}

static uint32_t rnd(struct broker *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return (uint32_t)((b->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t rnd_below(struct broker *b, uint32_t n)
{
	return n ? rnd(b) % n : 0;
}

/* ---- cookies: SipHash-2-4 over (address, port, tick) ---- */

static uint64_t rotl64(uint64_t x, int n)
{
	return x << n | x >> (64 - n);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13) ^ v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17) ^ v[2];
	v[2] = rotl64(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t w)
{
	v[3] ^= w;
	sip_round(v);
	sip_round(v);
	v[0] ^= w;
}

static uint64_t siphash24(const uint8_t key[16], const uint8_t *m, size_t n)
{
	uint64_t k0 = get_le64(key), k1 = get_le64(key + 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
		k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull,
	};
	uint64_t last = (uint64_t)n << 56;
	size_t i, k;
	int r;

	for (i = 0; n - i >= 8; i += 8)
		sip_absorb(v, get_le64(m + i));
	for (k = 0; i + k < n; k++)
		last |= (uint64_t)m[i + k] << (8 * k);
	sip_absorb(v, last);
	v[2] ^= 0xff;
	for (r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint16_t cookie_tick(const struct broker *b, int64_t now)
{
	return (uint16_t)((now - b->start) / TICK_MS);
}

static void cookie_mac(const struct broker *b, const union sockaddr_inet *from,
		       uint16_t tick, uint8_t *mac)
{
	uint8_t m[sizeof(from->in6.sin6_addr) + 4];
	size_t n;
	uint64_t h;
	int i;

	if (from->sa.sa_family == AF_INET6) {
		n = sizeof(from->in6.sin6_addr);
		memcpy(m, &from->in6.sin6_addr, n);
		memcpy(m + n, &from->in6.sin6_port, 2);
	} else {
		n = sizeof(from->in.sin_addr);
		memcpy(m, &from->in.sin_addr.s_addr, n);
		memcpy(m + n, &from->in.sin_port, 2);
	}
	m[n + 2] = (uint8_t)(tick >> 8);
	m[n + 3] = (uint8_t)tick;
	h = siphash24(b->key, m, n + 4);
	for (i = 0; i < COOKIE_MAC_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

static void cookie_make(const struct broker *b, const union sockaddr_inet *from,
			int64_t now, uint8_t *cookie)
{
	uint16_t tick = cookie_tick(b, now);

	cookie[0] = (uint8_t)(tick >> 8);
	cookie[1] = (uint8_t)tick;
	cookie_mac(b, from, tick, cookie + 2);
}

/* Like the real broker, no wrap-around: a broker lives far less than the
 * 48 days it takes the tick to wrap. */
static bool cookie_ok(const struct broker *b, const union sockaddr_inet *from,
		      const uint8_t *cookie, int64_t now)
{
	uint16_t tick = (uint16_t)(cookie[0] << 8 | cookie[1]);
	int age = (int)cookie_tick(b, now) - (int)tick;
	uint8_t mac[COOKIE_MAC_LEN];

	if (age < -COOKIE_SLACK || age > COOKIE_SLACK)
		return false;
	cookie_mac(b, from, tick, mac);
	return !memcmp(mac, cookie + 2, sizeof(mac));
}

/* ---- sending ---- */

static struct peer main_peer(const struct listener *l,
			     const union sockaddr_inet *to)
{
	return (struct peer){ .fd = l->fd, .addr = to };
}

static struct peer tunnel_peer(const struct tunnel *t)
{
	return (struct peer){ .fd = t->fd, .addr = &t->peer,
			      .connected = true, .id = t->id };
}

/*
 * 0 or -errno.  A muted broker sends nothing but reports success: it plays
 * a broker that died without a word.  EMSGSIZE on a probe only means the
 * local MTU is smaller and is not an error.
 */
static int send_raw(struct broker *b, const struct peer *to, const uint8_t *p,
		    size_t n)
{
	ssize_t r;

	if (b->mute)
		return 0;
	if (b->opt.verbose)
		event("tx to=%s id=%u type=%s len=%zu", addr_fmt(to->addr).s,
		      to->id, n >= PROTO_HDR_LEN ? proto_type_name(p[4]) : "-",
		      n);
	if (to->connected)
		r = send(to->fd, p, n, 0);
	else
		r = sendto(to->fd, p, n, 0, &to->addr->sa,
			   addr_len(to->addr));
	if (r >= 0)
		return 0;
	if (errno == EMSGSIZE || errno == EAGAIN)
		return 0;
	return -errno;
}

static int send_msg(struct broker *b, const struct peer *to,
		    const struct proto_msg *m)
{
	uint8_t buf[RX_BUF];
	ssize_t n;

	n = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, m);
	if (n < 0)
		return (int)n;
	return send_raw(b, to, buf, (size_t)n);
}

/* A pending ICMP error surfaces on whichever of send and recv comes first,
 * so both count towards the socket error limit. */
static void tunnel_send(struct broker *b, struct tunnel *t,
			const struct proto_msg *m)
{
	struct peer to = tunnel_peer(t);
	int r = send_msg(b, &to, m);

	if (r == -ECONNREFUSED)
		t->errors++;
	else if (r < 0)
		warn_err(-r, "send %s id=%u", proto_type_name(m->type), t->id);
}

static void send_error(struct broker *b, const struct peer *to, bool has_reason,
		       uint8_t reason)
{
	struct proto_msg m = { .type = PROTO_ERROR, .has_reason = has_reason,
			       .reason = reason };
	int r = send_msg(b, to, &m);

	if (r < 0 && r != -ECONNREFUSED)
		warn_err(-r, "send ERROR to %s", addr_fmt(to->addr).s);
}

static void send_tunnel_reply(struct broker *b, struct tunnel *t,
			      uint32_t features)
{
	struct proto_msg m = { .type = PROTO_TUNNEL, .tunnel_id = t->id,
			       .features = features };

	tunnel_send(b, t, &m);
}

static void send_u16(struct broker *b, struct tunnel *t, uint8_t type,
		     uint16_t value)
{
	struct proto_msg m = { .type = type, .value = value };

	tunnel_send(b, t, &m);
}

/* ---- kernel ---- */

static void kernel_cleanup_range(struct broker *b)
{
	uint32_t id, removed = 0;
	int r;

	for (id = b->opt.base; id < b->opt.base + b->opt.max; id++) {
		r = l2tp_tunnel_delete(b->nl, id);
		if (r == 0)
			removed++;
		else if (r != -ENODEV)
			warn_err(-r, "delete stale tunnel %u", id);
	}
	if (removed)
		event("cleanup removed=%u", removed);
}

static int tunnel_target_mtu(const struct broker *b, const struct tunnel *t)
{
	int mtu, limit;

	if (b->opt.pmtu) {
		mtu = b->opt.pmtu < default_mtu(t) ? b->opt.pmtu : default_mtu(t);
	} else {
		limit = t->peer_mtu ? t->peer_mtu : default_mtu(t);
		mtu = t->measured < limit ? t->measured : limit;
	}
	return mtu > PROTO_MTU_FLOOR ? mtu : PROTO_MTU_FLOOR;
}

/* The kernels we run on ignore the session MTU attribute; the interface
 * MTU is what counts, so only that failure is reported. */
static int tunnel_set_mtu(struct broker *b, struct tunnel *t, int mtu)
{
	int r;

	if (!b->opt.no_kernel) {
		r = netdev_set_mtu(b->ioctl_fd, t->ifname, mtu);
		if (r < 0)
			return r;
		(void)l2tp_session_set_mtu(b->nl, &(struct l2tp_parm){
			.tunnel_id = t->id, .session_id = t->session_id,
			.mtu = (uint16_t)mtu });
	}
	t->mtu = mtu;
	return 0;
}

/* Logged on every new measurement, changed or not, so a script can wait
 * for the outcome of a discovery run. */
static void tunnel_update_mtu(struct broker *b, struct tunnel *t)
{
	int mtu = tunnel_target_mtu(b, t);
	int old = t->mtu;
	int r;

	if (mtu != old) {
		r = tunnel_set_mtu(b, t, mtu);
		if (r < 0) {
			warn_err(-r, "set MTU %d on %s", mtu, t->ifname);
			return;
		}
	}
	event("pmtu id=%u mtu=%d old=%d measured=%d peer_mtu=%d", t->id, mtu,
	      old, t->measured, t->peer_mtu);
}

static void kernel_down(struct broker *b, struct tunnel *t)
{
	int r;

	if (t->kernel_session) {
		r = l2tp_session_delete(b->nl, &(struct l2tp_parm){
			.tunnel_id = t->id, .session_id = t->session_id });
		if (r < 0 && r != -ENODEV)
			warn_err(-r, "delete session %u/%u", t->id,
				 t->session_id);
		t->kernel_session = false;
	}
	if (t->kernel_tunnel) {
		r = l2tp_tunnel_delete(b->nl, t->id);
		if (r < 0 && r != -ENODEV)
			warn_err(-r, "delete tunnel %u", t->id);
		t->kernel_tunnel = false;
	}
}

/* Leaves whatever it created for kernel_down() to remove on failure. */
static int kernel_up(struct broker *b, struct tunnel *t)
{
	int r;

	if (b->opt.no_kernel) {
		t->mtu = tunnel_target_mtu(b, t);
		return 0;
	}
	r = l2tp_tunnel_create(b->nl, &(struct l2tp_parm){
		.tunnel_id = t->id, .peer_tunnel_id = t->peer_id, .fd = t->fd });
	if (r < 0) {
		warn_err(-r, "create tunnel %u (peer %u)", t->id, t->peer_id);
		return r;
	}
	t->kernel_tunnel = true;
	r = l2tp_session_create(b->nl, &(struct l2tp_parm){
		.tunnel_id = t->id, .session_id = t->session_id,
		.peer_session_id = t->peer_session_id, .ifname = t->ifname });
	if (r < 0) {
		warn_err(-r, "create session %u/%u %s", t->id, t->session_id,
			 t->ifname);
		return r;
	}
	t->kernel_session = true;
	r = tunnel_set_mtu(b, t, tunnel_target_mtu(b, t));
	if (r < 0) {
		warn_err(-r, "set MTU on %s", t->ifname);
		return r;
	}
	r = netdev_set_up(b->ioctl_fd, t->ifname, true);
	if (r < 0)
		warn_err(-r, "bring up %s", t->ifname);
	return r;
}

/* ---- sockets ---- */

static int udp_socket(const union sockaddr_inet *local,
		      const union sockaddr_inet *remote)
{
	int one = 1, probe = IP_PMTUDISC_PROBE, probe6 = IPV6_PMTUDISC_PROBE;
	bool v6 = local->sa.sa_family == AF_INET6;
	int fd, err;

	fd = socket(local->sa.sa_family,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* An IPv6 listener on :: takes no IPv4 clients: those come to an
	 * IPv4 listener, so each tunnel's family is its listener's. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			     sizeof(one)) < 0 ||
		  setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe6,
			     sizeof(probe6)) < 0
		: setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe,
			     sizeof(probe)) < 0) ||
	    bind(fd, &local->sa, addr_len(local)) < 0 ||
	    (remote && connect(fd, &remote->sa, addr_len(remote)) < 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* ---- tunnels ---- */

static const char *reason_name(uint8_t reason)
{
	switch (reason) {
	case PROTO_ERR_BROKER_OTHER_REQUEST: return "other-request";
	case PROTO_ERR_BROKER_SHUTDOWN: return "shutdown";
	case PROTO_ERR_BROKER_TIMEOUT: return "timeout";
	case PROTO_ERR_BROKER_FAILURE: return "failure";
	}
	return "undefined";
}

static void tunnel_free(struct broker *b, struct tunnel *t)
{
	close(t->fd);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	b->active--;
}

static void tunnel_close(struct broker *b, struct tunnel *t, uint8_t reason)
{
	struct peer to = tunnel_peer(t);

	kernel_down(b, t);
	send_error(b, &to, true, reason);
	event("tunnel down id=%u reason=%s code=0x%02x from=%s at=%lld", t->id,
	      reason_name(reason), reason, addr_fmt(&t->peer).s, wall_ms());
	tunnel_free(b, t);
}

/* What a crash leaves: the kernel drops a tunnel with its socket, and
 * nobody tells the client. */
static void tunnel_vanish(struct broker *b, struct tunnel *t)
{
	kernel_down(b, t);
	event("tunnel gone id=%u from=%s at=%lld", t->id, addr_fmt(&t->peer).s,
	      wall_ms());
	tunnel_free(b, t);
}

/* Round robin, so a just-deleted id is not reused while the kernel may
 * still be tearing it down. */
static struct tunnel *tunnel_alloc(struct broker *b)
{
	uint32_t i, slot;

	for (i = 0; i < b->opt.max; i++) {
		slot = (b->next_slot + i) % b->opt.max;
		if (!b->tun[slot].used) {
			b->next_slot = (slot + 1) % b->opt.max;
			return &b->tun[slot];
		}
	}
	return NULL;
}

static struct tunnel *tunnel_by_endpoint(struct broker *b,
					 const struct listener *l,
					 const union sockaddr_inet *from)
{
	uint32_t i;

	for (i = 0; i < b->opt.max; i++) {
		struct tunnel *t = &b->tun[i];

		if (t->used && t->lsn == l && addr_equal(&t->peer, from))
			return t;
	}
	return NULL;
}

static void tunnel_init(struct broker *b, struct tunnel *t,
			const struct listener *l,
			const union sockaddr_inet *from,
			const struct proto_msg *m, int64_t now)
{
	uint32_t id = b->opt.base + (uint32_t)(t - b->tun);
	uint32_t offered = m->has_features ? m->features : 0;

	memset(t, 0, sizeof(*t));
	t->id = id;
	t->peer_id = m->has_tunnel_id ? m->tunnel_id : 1;
	t->client_features = offered;
	t->features = b->opt.no_features ? 0 : offered & PROTO_FEATURES_KNOWN;
	if (t->features & PROTO_FEATURE_UNIQUE_SESSION_ID) {
		t->session_id = id;
		t->peer_session_id = t->peer_id;
	} else {
		t->session_id = 1;
		t->peer_session_id = 1;
	}
	t->uuid_len = m->uuid_len;
	memcpy(t->uuid, m->uuid, m->uuid_len);
	snprintf(t->ifname, sizeof(t->ifname), "l2tp%u-%u", id, t->session_id);
	t->fd = -1;
	t->lsn = l;
	t->peer = *from;
	t->created = now;
	t->close_at = b->opt.close_after_ms < 0 ? NEVER :
						   now + b->opt.close_after_ms;
	t->last_alive = now;
	/* The real broker's first keepalive comes a random 3..14 s after the
	 * tunnel is made. */
	t->next_keepalive = now + KEEPALIVE_FIRST_MS;
	if (!b->opt.fixed_first_keepalive)
		t->next_keepalive += (int64_t)rnd_below(b, KEEPALIVE_FIRST_SPREAD) * 1000;
	t->next_probe = b->opt.pmtu ? NEVER : now + PROBE_FIRST_MS;
	t->measured = default_mtu(t);
}

/* The TUNNEL reply and what goes with it once the kernel side exists. */
static void tunnel_announce(struct broker *b, struct tunnel *t)
{
	event("tunnel up id=%u peer=%u session=%u peer_session=%u ifname=%s"
	      " from=%s features=%u mtu=%d first_keepalive_ms=%lld at=%lld",
	      t->id, t->peer_id, t->session_id, t->peer_session_id, t->ifname,
	      addr_fmt(&t->peer).s, t->features, t->mtu,
	      (long long)(t->next_keepalive - t->created), wall_ms());
	/* Once per run: a client that starts over on a new port (as l2tpd
	 * does after an ambiguous reply) must then get through. */
	if (b->opt.drop_first_tunnel && !b->dropped_tunnel_reply) {
		b->dropped_tunnel_reply = true;
		event("tunnel-reply-dropped id=%u", t->id);
	} else {
		send_tunnel_reply(b, t, t->features);
	}
	if (b->opt.pmtu)
		send_u16(b, t, PROTO_PMTU_NTFY, b->opt.pmtu);
}

/* 0, or -errno after undoing everything; the caller sends the refusal. */
static int tunnel_open(struct broker *b, const struct listener *l,
		       const union sockaddr_inet *from,
		       const struct proto_msg *m, int64_t now)
{
	struct tunnel *t = tunnel_alloc(b);
	int r;

	if (!t)
		return -ENOSPC;	/* the caller checked; kept for safety */
	tunnel_init(b, t, l, from, m, now);
	r = udp_socket(&l->addr, from);
	if (r < 0) {
		warn_err(-r, "tunnel socket %s -> %s", addr_fmt(&l->addr).s,
			 addr_fmt(from).s);
		return r;
	}
	t->fd = r;
	r = kernel_up(b, t);
	if (r < 0) {
		kernel_down(b, t);
		close(t->fd);
		t->fd = -1;
		return r;
	}
	t->used = true;
	b->active++;
	b->last_created = now;
	tunnel_announce(b, t);
	return 0;
}

static void refuse(struct broker *b, const struct peer *to, const char *uuid,
		   const char *why)
{
	event("refused from=%s uuid=%s reason=%s", addr_fmt(to->addr).s, uuid,
	      why);
	send_error(b, to, false, 0);
}

/* A PREPARE from the endpoint of a tunnel we have: the client missed our
 * TUNNEL reply, or it is confused. */
static void prepare_repeat(struct broker *b, struct tunnel *t,
			   const struct proto_msg *m, const char *uuid)
{
	uint32_t tid = m->has_tunnel_id ? m->tunnel_id : 1;
	uint32_t features = m->has_features ? m->features : 0;
	struct peer to = tunnel_peer(t);

	if (m->uuid_len == t->uuid_len &&
	    !memcmp(m->uuid, t->uuid, m->uuid_len) && tid == t->peer_id &&
	    features == t->client_features) {
		event("tunnel resend id=%u from=%s", t->id,
		      addr_fmt(&t->peer).s);
		/* The real broker never repeats the features. */
		send_tunnel_reply(b, t, 0);
		return;
	}
	refuse(b, &to, uuid, "mismatch");
}

static void on_prepare(struct broker *b, const struct listener *l,
		       struct tunnel *t, const union sockaddr_inet *from,
		       const struct proto_msg *m, int64_t now)
{
	struct peer to = t ? tunnel_peer(t) : main_peer(l, from);
	char uuid[PROTO_UUID_MAX + 1];

	if (!cookie_ok(b, from, m->cookie, now)) {
		event("bad-cookie from=%s", addr_fmt(from).s);
		return;
	}
	if (!utf8_valid((const uint8_t *)m->uuid, m->uuid_len)) {
		event("bad-uuid from=%s", addr_fmt(from).s);
		return;
	}
	uuid_fmt(uuid, m->uuid, m->uuid_len);
	event("prepare from=%s uuid=%s tid=%u features=%u", addr_fmt(from).s,
	      uuid, m->has_tunnel_id ? m->tunnel_id : 1,
	      m->has_features ? m->features : 0);
	/* Old kernels may hand a tunnel's datagrams to the main socket. */
	if (!t)
		t = tunnel_by_endpoint(b, l, from);
	if (t) {
		prepare_repeat(b, t, m, uuid);
		return;
	}
	/* The real broker's connection_rate_limit: one new tunnel per N s,
	 * for all clients together. */
	if (b->opt.rate_limit_ms && b->last_created != NEVER &&
	    now - b->last_created < b->opt.rate_limit_ms)
		refuse(b, &to, uuid, "rate-limit");
	else if (b->opt.refuse)
		refuse(b, &to, uuid, "refusing");
	else if (b->active == b->opt.max)
		refuse(b, &to, uuid, "full");
	else if (tunnel_open(b, l, from, m, now) < 0)
		refuse(b, &to, uuid, "kernel");
}

static void on_usage(struct broker *b, const struct peer *to,
		     const struct proto_msg *m)
{
	struct proto_msg r = { .type = PROTO_USAGE };

	if (b->opt.usage >= 0)
		r.usage = (uint16_t)b->opt.usage;
	else
		r.usage = (uint16_t)((uint64_t)b->active * 65535 / b->opt.max);
	event("usage from=%s usage=%u features=%u", addr_fmt(to->addr).s,
	      r.usage, m->has_features ? m->features : 0);
	(void)send_msg(b, to, &r);
}

static void on_cookie(struct broker *b, const struct peer *to, int64_t now)
{
	struct proto_msg r = { .type = PROTO_COOKIE };

	cookie_make(b, to->addr, now, r.cookie);
	event("cookie from=%s", addr_fmt(to->addr).s);
	(void)send_msg(b, to, &r);
}

/* ---- PMTU ---- */

static void on_probe_ack(struct broker *b, struct tunnel *t, uint16_t value)
{
	unsigned size = (unsigned)value + tunnel_ip_udp(t);

	if (b->opt.pmtu || size <= t->acked || size <= tunnel_overhead(t))
		return;
	t->acked = size;
	t->measured = (int)(size - tunnel_overhead(t));
	event("probe-ack id=%u size=%u", t->id, size);
	tunnel_update_mtu(b, t);
	send_u16(b, t, PROTO_PMTU_NTFY, (uint16_t)t->measured);
}

static void on_peer_mtu(struct broker *b, struct tunnel *t, uint16_t value)
{
	event("peer-pmtu id=%u mtu=%u", t->id, value);
	if (b->opt.pmtu || value == t->peer_mtu)
		return;
	t->peer_mtu = value;
	tunnel_update_mtu(b, t);
}

/*
 * One probe per tick, largest first, each size PROBE_REPEAT times so that
 * one lost probe (or one that reaches a client still waiting for its
 * TUNNEL reply) does not cost a size for the next ten minutes.  A run ends
 * at the first tick after a probe no larger than one already acknowledged;
 * an unanswered run wraps around and goes on, as the real broker's does.
 */
static void probe_tick(struct broker *b, struct tunnel *t, int64_t now)
{
	struct proto_msg m = { .type = PROTO_PMTUD };
	unsigned size;

	if (t->last_probe && t->last_probe <= t->acked) {
		t->probe_idx = 0;
		t->last_probe = 0;
		t->acked = 0;
		t->next_probe = now + PROBE_RERUN_MS;
		return;
	}
	size = proto_probe_sizes[PROTO_PROBE_COUNT - 1 -
				 t->probe_idx / PROBE_REPEAT];
	t->probe_idx = (t->probe_idx + 1) % (PROTO_PROBE_COUNT * PROBE_REPEAT);
	t->last_probe = size;
	m.probe_len = (uint16_t)(size - tunnel_ip_udp(t));
	tunnel_send(b, t, &m);
	t->next_probe = now + PROBE_STEP_MS;
}

/* ---- hostile datagrams (-M) ---- */

static const uint8_t magic[4] = { 0x80, 0x73, 0xa7, 0x01 };

static void fill_rnd(struct broker *b, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)rnd(b);
}

static size_t malformed_bad_magic(struct broker *b, uint8_t *p)
{
	size_t n = rnd_below(b, MALFORMED_MAX_LEN + 1);

	fill_rnd(b, p, n);
	if (n >= sizeof(magic)) {
		memcpy(p, magic, sizeof(magic));
		p[rnd_below(b, sizeof(magic))] ^= (uint8_t)(1 + rnd_below(b, 255));
	}
	return n;
}

/* A length byte that promises more than the datagram holds. */
static size_t malformed_long_length(struct broker *b, uint8_t *p)
{
	size_t payload = rnd_below(b, 255);

	fill_rnd(b, p, PROTO_HDR_LEN + payload);
	memcpy(p, magic, sizeof(magic));
	p[4] = (uint8_t)(1 + rnd_below(b, PROTO_USAGE));
	p[5] = (uint8_t)(payload + 1 + rnd_below(b, 255 - (uint32_t)payload));
	return PROTO_HDR_LEN + payload;
}

/* Types a broker never sends or nobody defines, or a known type with a
 * payload size the type does not allow: the header itself is sound. */
static size_t malformed_wrong_body(struct broker *b, uint8_t *p)
{
	static const uint8_t types[] = {
		0x00, PROTO_COOKIE, PROTO_PREPARE, PROTO_ERROR, PROTO_TUNNEL,
		PROTO_PMTUD, PROTO_PMTUD_ACK, PROTO_REL_ACK, PROTO_PMTU_NTFY,
		PROTO_USAGE, PROTO_LIMIT, 0x0b, 0x7f, 0x81, 0xff,
	};
	uint8_t type = rnd_below(b, 2) ? types[rnd_below(b, sizeof(types))]
				       : (uint8_t)rnd(b);
	size_t len = rnd_below(b, 256);
	size_t n = PROTO_HDR_LEN + len +
		   rnd_below(b, (uint32_t)(MALFORMED_MAX_LEN - PROTO_HDR_LEN -
					   len + 1));

	fill_rnd(b, p, n);
	memcpy(p, magic, sizeof(magic));
	p[4] = type;
	p[5] = (uint8_t)len;
	return n;
}

/* The client's own decoder is the judge of "malformed": anything it would
 * accept is drawn again, so a stray valid ERROR or PMTU_NTFY cannot end or
 * retune the tunnel under test. */
static size_t malformed_make(struct broker *b, uint8_t *p)
{
	struct proto_msg m;
	size_t n = 0;
	int i;

	for (i = 0; i < MALFORMED_TRIES; i++) {
		switch (rnd_below(b, 3)) {
		case 0:
			n = malformed_bad_magic(b, p);
			break;
		case 1:
			n = malformed_long_length(b, p);
			break;
		default:
			n = malformed_wrong_body(b, p);
			break;
		}
		if (proto_decode(p, n, PROTO_FROM_BROKER, &m) != 0)
			return n;
	}
	memset(p, 0, PROTO_HDR_LEN);
	return PROTO_HDR_LEN;
}

static int64_t malformed_due(const struct broker *b, const struct tunnel *t)
{
	if (t->malformed_sent >= b->opt.malformed)
		return NEVER;
	return t->created + (int64_t)t->malformed_sent * MALFORMED_SPAN_MS /
				    b->opt.malformed;
}

static void malformed_tick(struct broker *b, struct tunnel *t, int64_t now)
{
	uint8_t buf[MALFORMED_MAX_LEN];
	struct peer to = tunnel_peer(t);
	int r;

	while (malformed_due(b, t) <= now) {
		r = send_raw(b, &to, buf, malformed_make(b, buf));
		if (r == -ECONNREFUSED)
			t->errors++;
		t->malformed_sent++;
	}
	if (t->malformed_sent == b->opt.malformed)
		event("malformed id=%u sent=%u", t->id, t->malformed_sent);
}

/* ---- per-tunnel timers ---- */

static void keepalive_tick(struct broker *b, struct tunnel *t, int64_t now)
{
	struct proto_msg m = { .type = PROTO_KEEPALIVE };

	if (now - t->last_alive > LIVENESS_MS) {
		tunnel_close(b, t, PROTO_ERR_BROKER_TIMEOUT);
		return;
	}
	m.seq = t->keepalive_seq++;
	tunnel_send(b, t, &m);
	t->next_keepalive = now + KEEPALIVE_MS;
}

static void tunnel_tick(struct broker *b, struct tunnel *t, int64_t now)
{
	if (t->errors >= MAX_SOCK_ERRORS) {
		tunnel_close(b, t, PROTO_ERR_BROKER_FAILURE);
		return;
	}
	if (t->close_at <= now) {
		tunnel_close(b, t, PROTO_ERR_BROKER_FAILURE);
		return;
	}
	if (malformed_due(b, t) <= now)
		malformed_tick(b, t, now);
	if (t->next_probe <= now)
		probe_tick(b, t, now);
	if (t->next_keepalive <= now)
		keepalive_tick(b, t, now);
}

static int64_t tunnel_deadline(const struct broker *b, const struct tunnel *t)
{
	int64_t d = t->next_keepalive;

	if (t->next_probe < d)
		d = t->next_probe;
	if (malformed_due(b, t) < d)
		d = malformed_due(b, t);
	if (t->close_at < d)
		d = t->close_at;
	return d;
}

/* ---- receiving ---- */

/* What the real broker takes as a message at all: magic, version and a
 * length byte that fits. */
static bool header_ok(const uint8_t *p, size_t n)
{
	return n >= PROTO_HDR_LEN && !memcmp(p, magic, sizeof(magic)) &&
	       p[5] <= n - PROTO_HDR_LEN;
}

static bool is_handshake(uint8_t type)
{
	return type == PROTO_COOKIE || type == PROTO_USAGE ||
	       type == PROTO_PREPARE;
}

static void main_rx(struct broker *b, const struct listener *l,
		    const uint8_t *p, size_t n,
		    const union sockaddr_inet *from, int64_t now)
{
	struct peer to = main_peer(l, from);
	struct proto_msg m;

	if (proto_decode(p, n, PROTO_FROM_CLIENT, &m))
		return;
	switch (m.type) {
	case PROTO_USAGE:
		on_usage(b, &to, &m);
		break;
	case PROTO_COOKIE:
		on_cookie(b, &to, now);
		break;
	case PROTO_PREPARE:
		on_prepare(b, l, NULL, from, &m, now);
		break;
	}
}

static void on_limit(const struct tunnel *t, const struct proto_msg *m)
{
	if (m->has_bandwidth)
		event("limit id=%u seq=%u type=%u bandwidth=%u", t->id, m->seq,
		      m->limit_type, m->bandwidth);
	else
		event("limit id=%u seq=%u type=%u bandwidth=none", t->id,
		      m->seq, m->limit_type);
}

/* Every reliable message is acknowledged before it is even parsed, known
 * type or not, exactly as the real broker does. */
static void rel_ack(struct broker *b, struct tunnel *t, const uint8_t *p)
{
	struct proto_msg m = { .type = PROTO_REL_ACK };

	m.seq = (uint32_t)(p[PROTO_HDR_LEN] << 8 | p[PROTO_HDR_LEN + 1]);
	event("rel_ack id=%u seq=%u", t->id, m.seq);
	tunnel_send(b, t, &m);
}

/* Returns false if the tunnel was closed. */
static bool tunnel_rx(struct broker *b, struct tunnel *t, const uint8_t *p,
		      size_t n, int64_t now)
{
	struct peer to = tunnel_peer(t);
	struct proto_msg m;

	if (!header_ok(p, n))
		return true;
	if (!is_handshake(p[4])) {
		t->last_alive = now;
		if (t->errors > 0)
			t->errors--;
	}
	if ((p[4] & PROTO_RELIABLE) && p[5] >= 2)
		rel_ack(b, t, p);
	if (proto_decode(p, n, PROTO_FROM_CLIENT, &m))
		return true;
	switch (m.type) {
	case PROTO_USAGE:
		on_usage(b, &to, &m);
		break;
	case PROTO_COOKIE:
		on_cookie(b, &to, now);
		break;
	case PROTO_PREPARE:
		on_prepare(b, t->lsn, t, &t->peer, &m, now);
		break;
	case PROTO_ERROR:
		/* The real broker insists on exactly one byte. */
		if (!m.has_reason)
			break;
		event("error from=%s id=%u reason=0x%02x",
		      addr_fmt(&t->peer).s, t->id, m.reason);
		tunnel_close(b, t, PROTO_ERR_BROKER_OTHER_REQUEST);
		return false;
	case PROTO_KEEPALIVE:
		if (b->opt.verbose)
			event("keepalive-rx id=%u seq=%u", t->id, m.seq);
		break;
	case PROTO_PMTUD:
		if (b->opt.pmtu)
			send_u16(b, t, PROTO_PMTU_NTFY, b->opt.pmtu);
		else
			send_u16(b, t, PROTO_PMTUD_ACK, m.probe_len);
		break;
	case PROTO_PMTUD_ACK:
		on_probe_ack(b, t, m.value);
		break;
	case PROTO_PMTU_NTFY:
		on_peer_mtu(b, t, m.value);
		break;
	case PROTO_LIMIT:
		on_limit(t, &m);
		break;
	}
	return true;
}

/* Simulated loss and the muted broker swallow input before anything
 * looks at it. */
static bool rx_dropped(struct broker *b, const union sockaddr_inet *from,
		       const uint8_t *p, size_t n)
{
	const char *why = NULL;

	if (b->mute)
		why = "mute";
	else if (b->opt.drop_pct && rnd_below(b, 100) < b->opt.drop_pct)
		why = "loss";
	if (b->opt.verbose)
		event("rx from=%s type=%s len=%zu%s%s at=%lld", addr_fmt(from).s,
		      header_ok(p, n) ? proto_type_name(p[4]) : "-", n,
		      why ? " dropped=" : "", why ? why : "", wall_ms());
	return why != NULL;
}

/*
 * One datagram from fd: its length, -ENOMSG for one to skip (not from an
 * IPv4 or IPv6 peer, or dropped by the fault switches), or -errno (-EAGAIN when
 * drained).  Skipped ones still count against the caller's budget.
 */
static ssize_t recv_one(struct broker *b, int fd, uint8_t *buf,
			union sockaddr_inet *from)
{
	socklen_t fl = sizeof(*from);
	ssize_t n;

	do
		n = recvfrom(fd, buf, RX_BUF, 0, (struct sockaddr *)from, &fl);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (addr_len(from) == 0 || fl < addr_len(from) ||
	    rx_dropped(b, from, buf, (size_t)n))
		return -ENOMSG;
	return n;
}

static void drain_main(struct broker *b, const struct listener *l,
		       int64_t now)
{
	uint8_t buf[RX_BUF];
	union sockaddr_inet from = { 0 };

	for (int i = 0; i < RX_BUDGET; i++) {
		ssize_t n = recv_one(b, l->fd, buf, &from);

		if (n == -ENOMSG)
			continue;
		if (n < 0) {
			if (n != -EAGAIN)
				warn_err((int)-n, "recv on %s",
					 addr_fmt(&l->addr).s);
			return;
		}
		main_rx(b, l, buf, (size_t)n, &from, now);
	}
}

static void drain_tunnel(struct broker *b, struct tunnel *t, int64_t now)
{
	uint8_t buf[RX_BUF];
	union sockaddr_inet from = { 0 };

	for (int i = 0; i < RX_BUDGET; i++) {
		ssize_t n = recv_one(b, t->fd, buf, &from);

		if (n == -EAGAIN)
			return;
		if (n == -ENOMSG)
			continue;
		if (n < 0) {
			if (b->mute)
				continue;
			if (n != -EMSGSIZE)
				t->errors++;
			if (b->opt.verbose)
				warn_err((int)-n, "recv id=%u", t->id);
			if (t->errors >= MAX_SOCK_ERRORS) {
				tunnel_close(b, t, PROTO_ERR_BROKER_FAILURE);
				return;
			}
			continue;
		}
		if (!addr_equal(&from, &t->peer))
			continue;
		if (!tunnel_rx(b, t, buf, (size_t)n, now))
			return;
	}
}

/* ---- main loop ---- */

static int64_t run_timers(struct broker *b, int64_t now)
{
	int64_t next = NEVER;
	uint32_t i;

	if (!b->mute && now >= b->mute_at) {
		b->mute = true;
		event("mute");
	}
	if (b->mute)
		return NEVER;
	next = b->mute_at;
	for (i = 0; i < b->opt.max; i++) {
		struct tunnel *t = &b->tun[i];

		if (!t->used)
			continue;
		tunnel_tick(b, t, now);
		if (t->used && tunnel_deadline(b, t) < next)
			next = tunnel_deadline(b, t);
	}
	return next;
}

static nfds_t build_pollset(struct broker *b)
{
	nfds_t n = 0;
	uint32_t i;
	int k;

	/* Closed listeners (-1, during a restart) keep their place and are
	 * ignored by ppoll(). */
	for (k = 0; k < b->opt.nlisten; k++) {
		b->pfd[n] = (struct pollfd){ .fd = b->lsn[k].fd,
					     .events = POLLIN };
		b->pfd_tun[n++] = NULL;
	}
	for (i = 0; i < b->opt.max; i++) {
		if (!b->tun[i].used)
			continue;
		b->pfd[n] = (struct pollfd){ .fd = b->tun[i].fd,
					     .events = POLLIN };
		b->pfd_tun[n++] = &b->tun[i];
	}
	return n;
}

static int wait_events(struct broker *b, nfds_t n, int64_t next,
		       const sigset_t *unblocked)
{
	struct timespec ts, *tp = NULL;
	int64_t wait;

	if (next != NEVER) {
		wait = next - now_ms();
		if (wait < 0)
			wait = 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		tp = &ts;
	}
	if (ppoll(b->pfd, n, tp, unblocked) < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	return 0;
}

static void dispatch(struct broker *b, nfds_t n, int64_t now)
{
	nfds_t i;

	for (i = 0; i < n; i++) {
		struct tunnel *t = b->pfd_tun[i];

		if (!(b->pfd[i].revents & (POLLIN | POLLERR)))
			continue;
		if (!t) {
			drain_main(b, &b->lsn[i], now);
			continue;
		}
		/* Closed, maybe reused, since the set was built. */
		if (t->used && t->fd == b->pfd[i].fd)
			drain_tunnel(b, t, now);
	}
}

static int setup_listeners(struct broker *b);

static void close_listeners(struct broker *b)
{
	int k;

	for (k = 0; k < b->opt.nlisten; k++) {
		if (b->lsn[k].fd >= 0)
			close(b->lsn[k].fd);
		b->lsn[k].fd = -1;
	}
}

/* The old broker goes: its tunnels, then its ports. */
static void restart_begin(struct broker *b, bool graceful, int64_t now)
{
	uint32_t i;

	event("restart mode=%s tunnels=%u away_ms=%ld at=%lld",
	      graceful ? "graceful" : "crash", b->active, b->opt.away_ms,
	      wall_ms());
	for (i = 0; i < b->opt.max; i++) {
		if (!b->tun[i].used)
			continue;
		if (graceful)
			tunnel_close(b, &b->tun[i], PROTO_ERR_BROKER_SHUTDOWN);
		else
			tunnel_vanish(b, &b->tun[i]);
	}
	close_listeners(b);
	b->relisten_at = now + b->opt.away_ms;
}

/* The new one starts as a fresh process would: new cookie key (old
 * cookies fail), no rate-limit history, then the ports. */
static int restart_end(struct broker *b, int64_t now)
{
	int r = fill_random(b->key, sizeof(b->key));

	if (r < 0) {
		warn_err(-r, "random key");
		return r;
	}
	b->start = now;
	b->last_created = NEVER;
	b->relisten_at = NEVER;
	return setup_listeners(b);
}

static int run(struct broker *b, const sigset_t *unblocked)
{
	int64_t next;
	nfds_t n;
	int r;

	while (!quit) {
		if (restart_req) {
			restart_begin(b, restart_req == SIGUSR1, now_ms());
			restart_req = 0;
		}
		if (b->relisten_at <= now_ms()) {
			r = restart_end(b, now_ms());
			if (r < 0)
				return r;
		}
		next = run_timers(b, now_ms());
		if (b->relisten_at < next)
			next = b->relisten_at;
		n = build_pollset(b);
		r = wait_events(b, n, next, unblocked);
		if (r < 0) {
			warn_err(-r, "ppoll");
			return r;
		}
		/* A restart closed descriptors of this poll set. */
		if (!quit && !restart_req)
			dispatch(b, n, now_ms());
	}
	return 0;
}

static void shutdown_all(struct broker *b)
{
	uint32_t i;

	for (i = 0; i < b->opt.max; i++)
		if (b->tun[i].used)
			tunnel_close(b, &b->tun[i], PROTO_ERR_BROKER_SHUTDOWN);
}

/* ---- setup ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: broker -l ADDR:PORT [-l ADDR:PORT ...] [options]\n"
		"  -l ADDR:PORT  listen on this address and port (up to %d);\n"
		"                an IPv6 address in brackets: [::1]:8942\n"
		"  -b BASE       first tunnel id (default 100)\n"
		"  -n MAX        most tunnels at once (default 256)\n"
		"  -m PMTU       fixed tunnel MTU to announce (0: discover)\n"
		"  -d PERCENT    drop this share of received datagrams\n"
		"  -R SEED       seed for -d and -M\n"
		"  -E            refuse every PREPARE with ERROR\n"
		"  -S SECS       go silent SECS seconds after start\n"
		"  -U USAGE      report this usage (0..65535)\n"
		"  -F            no feature flags (pre-0.4 broker, sessions 1/1)\n"
		"  -T            lose the first TUNNEL reply (once per run)\n"
		"  -M N          send N malformed datagrams on each new tunnel\n"
		"  -K            no kernel: control plane only\n"
		"  -L SECS       refuse a new tunnel within SECS s of the last one\n"
		"                made (the real broker's connection_rate_limit)\n"
		"  -D            first keepalive 3 s after a tunnel is made, not a\n"
		"                random 3..14 s\n"
		"  -C MS         close every tunnel (ERROR) MS ms after making it\n"
		"  -A MS         ports closed this long on a restart (default 0)\n"
		"  -v            log every datagram\n"
		"signals: TERM/INT stop (ERROR shutdown to every tunnel); USR1\n"
		"restart in place gracefully, USR2 as after a crash (tunnels gone\n"
		"silently); the new broker listens on the same ports after -A\n",
		MAX_LISTEN);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "192.0.2.1:8942" or "[2001:db8::1]:8942" ("%SCOPE" allowed inside the
 * brackets). */
static int parse_listen(const char *s, union sockaddr_inet *a)
{
	const char *host = s, *end, *colon;
	unsigned long port;

	if (*s == '[') {
		host = s + 1;
		end = strchr(host, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		end = colon;
	}
	if (addr_parse_ip(host, (size_t)(end - host), a, if_nametoindex) ||
	    (*s != '[') != (a->sa.sa_family == AF_INET) ||
	    parse_ulong(colon + 1, 1, 65535, &port))
		return -EINVAL;
	addr_set_port(a, (uint16_t)port);
	return 0;
}

static int bad_arg(int opt, const char *arg)
{
	fprintf(stderr, "broker: invalid -%c '%s'\n", opt, arg);
	usage(stderr);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	unsigned long v;
	int c;

	*o = (struct options){ .base = 100, .max = 256, .mute_after_s = -1,
			       .usage = -1, .close_after_ms = -1 };
	while ((c = getopt(argc, argv, "l:b:n:m:d:R:ES:U:FTM:KL:DC:A:vh")) != -1) {
		switch (c) {
		case 'l':
			if (o->nlisten == MAX_LISTEN ||
			    parse_listen(optarg, &o->listen[o->nlisten]))
				return bad_arg(c, optarg);
			o->nlisten++;
			break;
		case 'b':
			if (parse_ulong(optarg, 1, ID_LIMIT, &v))
				return bad_arg(c, optarg);
			o->base = (uint32_t)v;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, MAX_TUNNELS, &v))
				return bad_arg(c, optarg);
			o->max = (uint32_t)v;
			break;
		case 'm':
			if (parse_ulong(optarg, 0, UINT16_MAX, &v))
				return bad_arg(c, optarg);
			o->pmtu = (uint16_t)v;
			break;
		case 'd':
			if (parse_ulong(optarg, 0, 100, &v))
				return bad_arg(c, optarg);
			o->drop_pct = (unsigned)v;
			break;
		case 'R':
			if (parse_ulong(optarg, 0, ULONG_MAX, &v))
				return bad_arg(c, optarg);
			o->seed = v;
			o->has_seed = true;
			break;
		case 'E':
			o->refuse = true;
			break;
		case 'S':
			if (parse_ulong(optarg, 0, 86400 * 365, &v))
				return bad_arg(c, optarg);
			o->mute_after_s = (long)v;
			break;
		case 'U':
			if (parse_ulong(optarg, 0, UINT16_MAX, &v))
				return bad_arg(c, optarg);
			o->usage = (long)v;
			break;
		case 'F':
			o->no_features = true;
			break;
		case 'T':
			o->drop_first_tunnel = true;
			break;
		case 'M':
			if (parse_ulong(optarg, 0, 1000000, &v))
				return bad_arg(c, optarg);
			o->malformed = (unsigned)v;
			break;
		case 'K':
			o->no_kernel = true;
			break;
		case 'L':
			if (parse_ulong(optarg, 0, 86400, &v))
				return bad_arg(c, optarg);
			o->rate_limit_ms = (long)v * 1000;
			break;
		case 'D':
			o->fixed_first_keepalive = true;
			break;
		case 'C':
			if (parse_ulong(optarg, 0, 86400000, &v))
				return bad_arg(c, optarg);
			o->close_after_ms = (long)v;
			break;
		case 'A':
			if (parse_ulong(optarg, 0, 86400000, &v))
				return bad_arg(c, optarg);
			o->away_ms = (long)v;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || o->nlisten == 0) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->base + o->max - 1 > ID_LIMIT) {
		fprintf(stderr, "broker: ids %u..%u: interface names need ids"
			" up to %u\n", o->base, o->base + o->max - 1, ID_LIMIT);
		return -EINVAL;
	}
	return 0;
}

static int setup_kernel(struct broker *b)
{
	int r;

	if (b->opt.no_kernel)
		return 0;
	r = l2tp_nl_open(&b->nl);
	if (r < 0) {
		warn_err(-r, "l2tp generic netlink (modules l2tp_netlink and"
			 " l2tp_eth loaded?)");
		return r;
	}
	b->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b->ioctl_fd < 0) {
		r = -errno;
		warn_err(-r, "ioctl socket");
		return r;
	}
	kernel_cleanup_range(b);
	return 0;
}

static int setup_listeners(struct broker *b)
{
	int k, fd;

	for (k = 0; k < b->opt.nlisten; k++) {
		b->lsn[k].addr = b->opt.listen[k];
		fd = udp_socket(&b->lsn[k].addr, NULL);
		if (fd < 0) {
			warn_err(-fd, "listen on %s",
				 addr_fmt(&b->lsn[k].addr).s);
			return fd;
		}
		b->lsn[k].fd = fd;
	}
	for (k = 0; k < b->opt.nlisten; k++)
		event("listening addr=%s at=%lld", addr_fmt(&b->lsn[k].addr).s,
		      wall_ms());
	return 0;
}

static int setup(struct broker *b)
{
	uint64_t seed = 0;
	size_t slots = b->opt.max, fds = (size_t)b->opt.nlisten + slots;
	int r;

	b->start = now_ms();
	b->last_created = NEVER;
	b->relisten_at = NEVER;
	b->mute_at = b->opt.mute_after_s < 0 ?
		NEVER : b->start + (int64_t)b->opt.mute_after_s * 1000;
	r = fill_random(b->key, sizeof(b->key));
	if (r == 0 && !b->opt.has_seed)
		r = fill_random(&seed, sizeof(seed));
	if (r < 0) {
		warn_err(-r, "random key");
		return r;
	}
	b->rng = seed_mix(b->opt.has_seed ? b->opt.seed : seed);
	b->tun = calloc(slots, sizeof(*b->tun));
	b->pfd = calloc(fds, sizeof(*b->pfd));
	b->pfd_tun = calloc(fds, sizeof(*b->pfd_tun));
	if (!b->tun || !b->pfd || !b->pfd_tun) {
		warn_err(ENOMEM, "tables for %zu tunnels", slots);
		return -ENOMEM;
	}
	r = setup_kernel(b);
	if (r < 0)
		return r;
	return setup_listeners(b);
}

static void teardown(struct broker *b)
{
	int k;

	if (b->tun)
		shutdown_all(b);
	for (k = 0; k < b->opt.nlisten; k++)
		if (b->lsn[k].fd >= 0)
			close(b->lsn[k].fd);
	if (b->ioctl_fd >= 0)
		close(b->ioctl_fd);
	l2tp_nl_close(b->nl);
	free(b->tun);
	free(b->pfd);
	free(b->pfd_tun);
}

static int setup_signals(sigset_t *unblocked)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &block, unblocked) < 0 ||
	    sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &sa, NULL) < 0 ||
	    sigaction(SIGUSR2, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int main(int argc, char **argv)
{
	static struct broker b;
	sigset_t unblocked;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &b.opt))
		return 2;
	b.ioctl_fd = -1;
	for (r = 0; r < MAX_LISTEN; r++)
		b.lsn[r].fd = -1;
	r = setup_signals(&unblocked);
	if (r < 0) {
		warn_err(-r, "signals");
		return 1;
	}
	r = setup(&b);
	if (r == 0)
		r = run(&b, &unblocked);
	teardown(&b);
	event("exit");
	return r < 0 ? 1 : 0;
}
