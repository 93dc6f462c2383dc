/* SPDX-License-Identifier: MIT */
/*
 * The per-broker state machine and broker selection of client.c, driven by
 * a fake clock and stub ops that record every effect: datagrams are decoded
 * back as the broker would read them, sockets, kernel objects and hooks are
 * tracked so that misuse (send on a closed socket, a second tunnel, an
 * unpaired hook) fails a check on the spot.  Time only moves by firing the
 * client's own deadlines, exactly when client_next_deadline() says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "log.h"
#include "proto.h"

#define MAXB 4
#define MAX_EV 4096
#define TID 7
#define UUID "4f1c2d3e-test-uuid"

/* Checked on every call but only counted when broken, so that the total
 * reported reflects the scenarios rather than how many steps they took. */
#define INVARIANT(c) \
	do { \
		if (!(c)) \
			CHECK(c); \
	} while (0)

enum ev_kind {
	EV_RESOLVE,
	EV_CANCEL,
	EV_OPEN,
	EV_CLOSE,
	EV_SEND,
	EV_CREATE,
	EV_DELETE,
	EV_MTU,
	EV_HOOK,
	EV_STATE,
};

struct ev {
	enum ev_kind kind;
	int b;
	int64_t t;
	struct proto_msg m; /* EV_SEND, decoded as a broker would */
	size_t len;
	int value;          /* EV_MTU: the MTU; EV_STATE: the new state */
	uint32_t sid, psid, ptid;
	const char *name;   /* EV_HOOK */
	union sockaddr_inet to; /* EV_OPEN */
	unsigned slot;      /* EV_OPEN, EV_CLOSE, EV_SEND */
};

/* What the stubs do and what they have seen (the event log is apart so a
 * snapshot of this stays small). */
struct stub {
	int resolve_ret[MAXB]; /* 1: one address at once; 0: pending; <0: -errno */
	/* the addresses resolve_ret 1 gives: 0: 192.0.2.(1+b); V6: 2001:db8::(1+b);
	 * V6_V4: both, IPv6 first */
	enum { V4, V6, V6_V4 } family[MAXB];
	int open_err;
	int open_err6; /* for IPv6 addresses only */
	/* sockets opened up to this open (count) have lost their source
	 * address: their sends fail with ENETUNREACH */
	unsigned stale_upto;
	unsigned unreach_sends; /* the next sends that fail with ENETUNREACH */
	unsigned opened_as[MAXB][BROKER_MAX_ADDRS]; /* st.opens when opened */
	int send_err;
	unsigned send_refused; /* sends that find a refusal the socket held */
	int create_err;
	int mtu_err;
	uint32_t rnd;
	uint8_t sock[MAXB]; /* open slots: bit k for slot k */
	bool kernel[MAXB];
	bool up[MAXB];
	unsigned resolves, cancels, opens, closes, sends, creates, deletes;
	unsigned ups, downs, mtu_hooks, rnd_calls;
	int64_t run_start[64]; /* PMTU discovery runs, by their first probe */
	unsigned nruns;
	int64_t last_first_probe;
};

static struct client cl;
static struct broker *const brk = cl.brokers; /* MAXB of them in use */
static struct client_config ccfg;
static struct stub st;
static int64_t now_ms;
static struct ev evlog[MAX_EV];
static unsigned nev, nev_lost;

static struct ev *ev_add(enum ev_kind k, int b)
{
	static struct ev spare;
	struct ev *e = &spare;

	if (nev < MAX_EV)
		e = &evlog[nev++];
	else
		nev_lost++;
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->b = b;
	e->t = now_ms;
	return e;
}

static void log_clear(void)
{
	nev = 0;
	nev_lost = 0;
}

/* ---- what the log says -------------------------------------------------- */

#define MAX_LINES 512
#define LOOP_MINUTE 60000
static char lines[MAX_LINES][400];
static int64_t line_at[MAX_LINES];
static unsigned nlines;

static void cap_sink(int prio, const char *line)
{
	(void)prio;
	if (nlines < MAX_LINES) {
		line_at[nlines] = now_ms;
		snprintf(lines[nlines++], sizeof(lines[0]), "%s", line);
	}
}

static int64_t cap_clock(void)
{
	return now_ms;
}

static void lines_clear(void)
{
	nlines = 0;
}

/* Lines that contain `text`. */
static unsigned n_lines(const char *text)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nlines; i++)
		n += strstr(lines[i], text) != NULL;
	return n;
}

static const char *find_line(const char *text, unsigned nth)
{
	for (unsigned i = 0; i < nlines; i++)
		if (strstr(lines[i], text) && nth-- == 0)
			return lines[i];
	return "";
}

/* ---- stub ops ---------------------------------------------------------- */

static int s_resolve(void *ctx, unsigned b, const char *host,
		     union sockaddr_inet *addrs, unsigned max)
{
	int r = st.resolve_ret[b];

	INVARIANT(ctx == &st);
	INVARIANT(b < MAXB && !strcmp(host, brk[b].host));
	INVARIANT(max >= 1);
	st.resolves++;
	ev_add(EV_RESOLVE, (int)b);
	if (r > 0) {
		union sockaddr_inet v4 = { .in = {
			.sin_family = AF_INET,
			.sin_addr.s_addr = htonl(0xC0000201u + b) } };
		union sockaddr_inet v6 = { .in6 = { .sin6_family = AF_INET6 } };

		v6.in6.sin6_addr.s6_addr[0] = 0x20;
		v6.in6.sin6_addr.s6_addr[1] = 0x01;
		v6.in6.sin6_addr.s6_addr[2] = 0x0d;
		v6.in6.sin6_addr.s6_addr[3] = 0xb8;
		v6.in6.sin6_addr.s6_addr[15] = (uint8_t)(1 + b);
		addrs[0] = st.family[b] == V4 ? v4 : v6;
		if (st.family[b] != V6_V4 || max < 2)
			return 1;
		addrs[1] = v4;
		return 2;
	}
	return r;
}

static void s_resolve_cancel(void *ctx, unsigned b)
{
	(void)ctx;
	st.cancels++;
	ev_add(EV_CANCEL, (int)b);
}

static int s_open(void *ctx, unsigned b, unsigned slot,
		  const union sockaddr_inet *to)
{
	struct ev *e;

	(void)ctx;
	INVARIANT(slot < BROKER_MAX_ADDRS);
	/* a second socket in a slot would leak the first */
	INVARIANT(!(st.sock[b] & 1u << slot));
	INVARIANT(addr_port(to) == brk[b].port);
	if (to->sa.sa_family == AF_INET6)
		INVARIANT(st.family[b] != V4 && to->in6.sin6_addr.s6_addr[15] == 1 + b &&
			  to->in6.sin6_addr.s6_addr[0] == 0x20);
	else
		INVARIANT(to->sa.sa_family == AF_INET && st.family[b] != V6 &&
			  ntohl(to->in.sin_addr.s_addr) == 0xC0000201u + b);
	st.opens++;
	e = ev_add(EV_OPEN, (int)b);
	e->to = *to;
	e->slot = slot;
	if (st.open_err || (to->sa.sa_family == AF_INET6 && st.open_err6))
		return st.open_err ? st.open_err : st.open_err6;
	st.sock[b] |= (uint8_t)(1u << slot);
	st.opened_as[b][slot] = st.opens;
	return 0;
}

static void s_close(void *ctx, unsigned b, unsigned slot)
{
	(void)ctx;
	INVARIANT(slot < BROKER_MAX_ADDRS && st.sock[b] & 1u << slot);
	st.sock[b] &= (uint8_t)~(1u << slot);
	st.closes++;
	ev_add(EV_CLOSE, (int)b)->slot = slot;
}

static void s_adopt(void *ctx, unsigned b, unsigned slot)
{
	(void)ctx;
	INVARIANT(slot > 0 && slot < BROKER_MAX_ADDRS);
	INVARIANT(st.sock[b] == 1u << slot); /* the others closed before */
	st.sock[b] = 1;
	st.opened_as[b][0] = st.opened_as[b][slot];
}

static int s_send(void *ctx, unsigned b, unsigned slot, const uint8_t *p,
		  size_t n)
{
	struct ev *e = ev_add(EV_SEND, (int)b);

	(void)ctx;
	e->slot = slot;
	INVARIANT(slot < BROKER_MAX_ADDRS && st.sock[b] & 1u << slot);
	INVARIANT(proto_decode(p, n, PROTO_FROM_CLIENT, &e->m) == 0);
	if (e->m.type != PROTO_PMTUD)
		INVARIANT(n >= PROTO_MIN_DGRAM);
	e->len = n;
	st.sends++;
	if (e->m.type == PROTO_PMTUD &&
	    n == 1334 - addr_ip_udp_overhead(&brk[b].addr)) {
		if (st.nruns == 0 || now_ms - st.last_first_probe > T_PMTU_BURST) {
			if (st.nruns < 64)
				st.run_start[st.nruns] = now_ms;
			st.nruns++;
		}
		st.last_first_probe = now_ms;
	}
	if (st.send_refused) {
		st.send_refused--;
		return -ECONNREFUSED;
	}
	if (st.opened_as[b][slot] <= st.stale_upto)
		return -ENETUNREACH;
	if (st.unreach_sends) {
		st.unreach_sends--;
		return -ENETUNREACH;
	}
	return st.send_err;
}

static int s_tunnel_create(void *ctx, unsigned b, const struct tunnel_params *t)
{
	struct ev *e = ev_add(EV_CREATE, (int)b);

	(void)ctx;
	INVARIANT(!st.kernel[b]);
	INVARIANT(st.sock[b]);
	INVARIANT(t->tunnel_id == TID);
	e->sid = t->session_id;
	e->psid = t->peer_session_id;
	e->ptid = t->peer_tunnel_id;
	st.creates++;
	if (st.create_err)
		return st.create_err;
	st.kernel[b] = true;
	return 0;
}

static void s_tunnel_delete(void *ctx, unsigned b, const struct tunnel_params *t)
{
	struct ev *e = ev_add(EV_DELETE, (int)b);

	(void)ctx;
	INVARIANT(st.kernel[b]);
	INVARIANT(t->tunnel_id == TID);
	st.kernel[b] = false;
	e->sid = t->session_id;
	e->psid = t->peer_session_id;
	e->ptid = t->peer_tunnel_id;
	st.deletes++;
}

static int s_set_mtu(void *ctx, unsigned b, const struct tunnel_params *t,
		     int mtu)
{
	struct ev *e = ev_add(EV_MTU, (int)b);

	(void)ctx;
	INVARIANT(st.kernel[b]);
	INVARIANT(t->tunnel_id == TID && t->session_id != 0);
	INVARIANT(mtu >= PROTO_MTU_FLOOR && mtu <= 1500 - PROTO_TUNNEL_OVERHEAD);
	e->value = mtu;
	return st.mtu_err;
}

static void s_hook(void *ctx, const struct client_event *ce, const char *event)
{
	struct ev *e = ev_add(EV_HOOK, (int)ce->broker);
	unsigned i = ce->broker;

	(void)ctx;
	e->name = event;
	/* the snapshot is the broker's */
	INVARIANT(!strcmp(ce->name, brk[i].name));
	INVARIANT(ce->mtu == brk[i].tun.mtu);
	INVARIANT(ce->ids.peer_session_id == brk[i].tun.ids.peer_session_id);
	INVARIANT(ce->addr_known);
	INVARIANT(ntohs(ce->addr.in.sin_port) == brk[i].port);
	if (!strcmp(event, "session.up")) {
		INVARIANT(!st.up[i]);
		INVARIANT(st.kernel[i]);
		st.up[i] = true;
		st.ups++;
	} else if (!strcmp(event, "session.down")) {
		INVARIANT(st.up[i]);
		st.up[i] = false;
		st.downs++;
	} else if (!strcmp(event, "session.mtu-changed")) {
		INVARIANT(st.up[i]);
		st.mtu_hooks++;
	} else {
		INVARIANT(!"unknown hook event");
	}
}

static void s_changed(void *ctx, const struct client_event *ce)
{
	(void)ctx;
	INVARIANT(ce->state == brk[ce->broker].state);
	INVARIANT(ce->current == (cl.selected < 0 || cl.selected == (int)ce->broker));
	/* the status file shows ids as they are: 0 without a tunnel */
	INVARIANT((ce->state == BS_KEEPALIVE) == (ce->ids.peer_session_id != 0));
	ev_add(EV_STATE, (int)ce->broker)->value = (int)ce->state;
}

static uint32_t s_random(void *ctx)
{
	(void)ctx;
	st.rnd_calls++;
	return st.rnd;
}

static const struct client_ops stub_ops = {
	.resolve = s_resolve,
	.resolve_cancel = s_resolve_cancel,
	.open = s_open,
	.close = s_close,
	.send = s_send,
	.adopt = s_adopt,
	.tunnel_create = s_tunnel_create,
	.tunnel_delete = s_tunnel_delete,
	.set_mtu = s_set_mtu,
	.hook = s_hook,
	.changed = s_changed,
	.random = s_random,
};

/* ---- queries on the event log ------------------------------------------ */

/* What the queries return when nothing matches: a time and values no real
 * event has, so checks on it fail instead of crashing. */
static const struct ev none_ev = { .b = -2, .t = -1, .value = -1,
				   .m = { .type = 0xEE } };
#define NONE (&none_ev)

/* The k-th datagram of `type` sent to broker b (-1: any), or NONE. */
static const struct ev *sent(int b, int type, unsigned k)
{
	for (unsigned i = 0; i < nev; i++) {
		const struct ev *e = &evlog[i];

		if (e->kind == EV_SEND && (b < 0 || e->b == b) &&
		    (type < 0 || e->m.type == type) && k-- == 0)
			return e;
	}
	return NONE;
}

static unsigned n_sent(int b, int type)
{
	unsigned n = 0;

	while (sent(b, type, n) != NONE)
		n++;
	return n;
}

static const struct ev *last_sent(int b, int type)
{
	unsigned n = n_sent(b, type);

	return n ? sent(b, type, n - 1) : NONE;
}

/* PMTU probes of the six discovery sizes (not the small liveness probes). */
static unsigned n_probes(int b, int64_t t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nev; i++) {
		const struct ev *e = &evlog[i];

		if (e->kind == EV_SEND && e->b == b && e->m.type == PROTO_PMTUD &&
		    e->len >= 1334 - PROTO_PROBE_OVERHEAD && (t < 0 || e->t == t))
			n++;
	}
	return n;
}

static unsigned n_small_probes(int b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nev; i++) {
		const struct ev *e = &evlog[i];

		if (e->kind == EV_SEND && e->b == b && e->m.type == PROTO_PMTUD &&
		    e->len < 1334 - PROTO_PROBE_OVERHEAD)
			n++;
	}
	return n;
}

static const struct ev *small_probe(int b, unsigned k)
{
	for (unsigned i = 0; i < nev; i++) {
		const struct ev *e = &evlog[i];

		if (e->kind == EV_SEND && e->b == b && e->m.type == PROTO_PMTUD &&
		    e->len < 1334 - PROTO_PROBE_OVERHEAD && k-- == 0)
			return e;
	}
	return NONE;
}

static unsigned n_ev(enum ev_kind k, int b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nev; i++)
		n += evlog[i].kind == k && (b < 0 || evlog[i].b == b);
	return n;
}

static const struct ev *find_ev(enum ev_kind k, int b, unsigned nth)
{
	for (unsigned i = 0; i < nev; i++)
		if (evlog[i].kind == k && (b < 0 || evlog[i].b == b) && nth-- == 0)
			return &evlog[i];
	return NONE;
}

static long ev_pos(const struct ev *e)
{
	return e != NONE ? (long)(e - evlog) : -1;
}

static const struct ev *find_hook(int b, const char *name, unsigned nth)
{
	for (unsigned i = 0; i < nev; i++)
		if (evlog[i].kind == EV_HOOK && evlog[i].b == b &&
		    !strcmp(evlog[i].name, name) && nth-- == 0)
			return &evlog[i];
	return NONE;
}

/* Did broker b pass through state s, in the order given?  (-1 ends.) */
static bool went_through(int b, const int *states)
{
	for (unsigned i = 0; i < nev && *states >= 0; i++)
		if (evlog[i].kind == EV_STATE && evlog[i].b == b &&
		    evlog[i].value == *states)
			states++;
	return *states < 0;
}

/* ---- driving ------------------------------------------------------------ */

static void setup(unsigned n, enum select_strategy s, uint32_t limit)
{
	static char hosts[MAXB][32];
	struct client_broker specs[MAXB];

	memset(&st, 0, sizeof(st));
	log_clear();
	log_capture(cap_sink, cap_clock);
	lines_clear();
	ccfg = (struct client_config){
		.uuid = UUID,
		.ifname = "l2tp0",
		.tunnel_id = TID,
		.limit_kbps = limit,
		.features = PROTO_FEATURE_UNIQUE_SESSION_ID,
		.strategy = s,
	};
	for (unsigned i = 0; i < n; i++) {
		snprintf(hosts[i], sizeof(hosts[i]), "b%u.example.net", i);
		specs[i] = (struct client_broker){ .host = hosts[i],
						   .port = (uint16_t)(8942 + i) };
		st.resolve_ret[i] = 1;
	}
	client_init(&cl, &ccfg, &stub_ops, &st, specs, n);
	for (unsigned i = 0; i < n; i++)
		INVARIANT(brk[i].port == 8942 + i &&
			  !strncmp(brk[i].name, hosts[i], strlen(hosts[i])));
}

static void start(int64_t t)
{
	now_ms = t;
	client_start(&cl, t);
}

/* Fires the next deadline; returns its time. */
static int64_t step(void)
{
	int64_t d = client_next_deadline(&cl);

	INVARIANT(d >= now_ms);
	if (d == INT64_MAX)
		return d;
	if (d > now_ms)
		now_ms = d;
	client_on_timer(&cl, now_ms);
	/* Everything due has been done: nothing may be left at or before now. */
	INVARIANT(client_next_deadline(&cl) > now_ms);
	return now_ms;
}

/* Fires every deadline up to and including t, each exactly on time. */
static void run_to(int64_t t)
{
	for (unsigned guard = 0; guard < 200000; guard++) {
		int64_t d = client_next_deadline(&cl);

		if (d > t)
			break;
		if (step() == INT64_MAX)
			break;
		if (client_next_deadline(&cl) <= now_ms)
			break; /* reported by step(); do not spin */
	}
	if (t > now_ms)
		now_ms = t;
}

static void rx(int b, struct proto_msg m)
{
	client_on_msg(&cl, b, 0, &m, now_ms);
}

/* Through the wire format, exactly as l2tpd.c hands datagrams over, on
 * one socket slot of broker b. */
static void rx_slot(int b, unsigned slot, struct proto_msg m)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	struct proto_msg d;
	ssize_t n = proto_encode(buf, sizeof(buf), PROTO_FROM_BROKER, &m);

	INVARIANT(n >= PROTO_MIN_DGRAM);
	if (n < 0)
		return;
	INVARIANT(proto_decode(buf, (size_t)n, PROTO_FROM_BROKER, &d) == 0);
	INVARIANT(d.type == m.type);
	client_on_msg(&cl, b, slot, &d, now_ms);
}

static void rx_wire(int b, struct proto_msg m)
{
	rx_slot(b, 0, m);
}

static struct proto_msg m_usage(uint16_t u)
{
	return (struct proto_msg){ .type = PROTO_USAGE, .usage = u };
}

static struct proto_msg m_cookie(uint8_t seed)
{
	struct proto_msg m = { .type = PROTO_COOKIE };

	for (unsigned i = 0; i < PROTO_COOKIE_LEN; i++)
		m.cookie[i] = (uint8_t)(seed + i);
	return m;
}

static struct proto_msg m_tunnel(uint32_t tid, uint32_t features)
{
	return (struct proto_msg){ .type = PROTO_TUNNEL, .tunnel_id = tid,
				   .has_features = features != 0,
				   .features = features };
}

static struct proto_msg m_error(int reason)
{
	return (struct proto_msg){ .type = PROTO_ERROR, .has_reason = reason >= 0,
				   .reason = reason >= 0 ? (uint8_t)reason : 0 };
}

static struct proto_msg m_value(uint8_t type, uint16_t v)
{
	return (struct proto_msg){ .type = type, .value = v };
}

static struct proto_msg m_probe(uint16_t len)
{
	return (struct proto_msg){ .type = PROTO_PMTUD, .probe_len = len };
}

static struct proto_msg m_seq(uint8_t type, uint32_t seq)
{
	return (struct proto_msg){ .type = type, .seq = seq };
}

/* Broker i, in GET_USAGE under -g, answers everything at once: tunnel up
 * at now_ms with broker tunnel id ptid. */
static void bring_up(int i, uint32_t ptid, uint32_t features)
{
	CHECK_EQ(brk[i].state, BS_GET_USAGE);
	rx_wire(i, m_usage(100));
	CHECK_EQ(brk[i].state, BS_GET_COOKIE);
	rx_wire(i, m_cookie(0x10));
	CHECK_EQ(brk[i].state, BS_GET_TUNNEL);
	rx_wire(i, m_tunnel(ptid, features));
	CHECK_EQ(brk[i].state, BS_KEEPALIVE);
}

/* Runs until broker i is asked for USAGE again (a broker that ended
 * tunnels soon after making them may be held off for a while). */
static void await_round(int i)
{
	while (brk[i].state != BS_GET_USAGE && now_ms < 3600000 &&
	       client_next_deadline(&cl) != INT64_MAX)
		step();
	CHECK_EQ(brk[i].state, BS_GET_USAGE);
}

/* Runs to t while broker i sends a KEEPALIVE every 5 s (from now on). */
static void run_fed(int i, int64_t t)
{
	while (now_ms + T_KEEPALIVE <= t) {
		run_to(now_ms + T_KEEPALIVE);
		if (brk[i].state == BS_KEEPALIVE)
			rx_wire(i, m_seq(PROTO_KEEPALIVE, 1));
	}
	run_to(t);
}

static bool all_closed(void)
{
	for (unsigned i = 0; i < MAXB; i++)
		if (st.sock[i] || brk[i].slots)
			return false;
	return true;
}

/* ---- startup: USAGE, selection, COOKIE, PREPARE, establishment ---------- */

SUITE(client_startup)
{
	const struct ev *e;

	setup(1, SELECT_FIRST, 0);
	start(0);
	CHECK_EQ(st.resolves, 1);
	CHECK_EQ(st.opens, 1);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	/* USAGE, and a COOKIE request with it as the reference client sends */
	CHECK_EQ(n_sent(0, -1), 2);
	e = sent(0, PROTO_USAGE, 0);
	CHECK(e != NONE && e->t == 0 && e->m.has_features && e->m.features == 1 &&
	      e->len == 18);
	CHECK(ev_pos(e) < ev_pos(sent(0, PROTO_COOKIE, 0)));
	CHECK_EQ(client_next_deadline(&cl), 2000);

	/* both every 2 s */
	run_to(6000);
	CHECK_EQ(n_sent(0, PROTO_USAGE), 4);
	CHECK_EQ(n_sent(0, PROTO_COOKIE), 4);
	for (unsigned k = 0; k <= 3; k++) {
		CHECK_EQ(sent(0, PROTO_USAGE, k)->t, 2000 * k);
		CHECK_EQ(sent(0, PROTO_COOKIE, k)->t, 2000 * k);
		CHECK_EQ(sent(0, PROTO_COOKIE, k)->len, 14);
	}
	CHECK_EQ(client_next_deadline(&cl), 8000);

	/* the reply: STANDBY, and -g selects at once */
	run_to(6500);
	log_clear();
	rx_wire(0, m_usage(300));
	{
		static const int trail[] = { BS_STANDBY, BS_GET_COOKIE, -1 };

		CHECK(went_through(0, trail));
	}
	CHECK_EQ(brk[0].at.usage, 300);
	CHECK_EQ(cl.selected, 0);
	CHECK_EQ(cl.phase, PHASE_ACTIVE);
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	/* the cookie asked with the USAGE at 6000 is on its way: not again */
	CHECK_EQ(n_sent(0, -1), 0);
	CHECK_EQ(client_next_deadline(&cl), 8000);
	run_to(8000);
	CHECK_EQ(n_sent(0, PROTO_COOKIE), 1);
	CHECK_EQ(last_sent(0, PROTO_COOKIE)->t, 8000);

	/* COOKIE reply: PREPARE with everything the broker needs */
	run_to(9000);
	rx_wire(0, m_cookie(0x40));
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	e = sent(0, PROTO_PREPARE, 0);
	CHECK(e != NONE);
	{
		struct proto_msg want = m_cookie(0x40);

		CHECK_EQ(e->t, 9000);
		CHECK_MEM(e->m.cookie, 8, want.cookie, 8);
		CHECK_EQ(e->m.uuid_len, strlen(UUID));
		CHECK(!strcmp(e->m.uuid, UUID));
		CHECK(e->m.has_tunnel_id && e->m.tunnel_id == TID);
		CHECK(e->m.has_features && e->m.features == 1);
		CHECK_EQ(e->len, PROTO_HDR_LEN + 17 + strlen(UUID));
	}

	/* resent every 2 s with the same cookie; after 3 a new cookie */
	run_to(14999);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 3);
	CHECK_EQ(sent(0, PROTO_PREPARE, 1)->t, 11000);
	CHECK_EQ(sent(0, PROTO_PREPARE, 2)->t, 13000);
	CHECK_MEM(sent(0, PROTO_PREPARE, 2)->m.cookie, 8, e->m.cookie, 8);
	CHECK_EQ(n_sent(0, PROTO_COOKIE), 1);
	run_to(15000);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 3);
	CHECK_EQ(n_sent(0, PROTO_COOKIE), 2);
	CHECK_EQ(last_sent(0, PROTO_COOKIE)->t, 15000);
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	run_to(17000);
	CHECK_EQ(last_sent(0, PROTO_COOKIE)->t, 17000);
	run_to(17500);
	rx_wire(0, m_cookie(0x80));
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 4);
	{
		struct proto_msg want = m_cookie(0x80);

		CHECK_MEM(last_sent(0, PROTO_PREPARE)->m.cookie, 8, want.cookie, 8);
	}
	run_to(21499);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 5);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);

	/* exactly 15 s after the selection: give up, and tell the broker */
	CHECK_EQ(client_next_deadline(&cl), 21500);
	run_to(21500);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 5);
	e = last_sent(0, PROTO_ERROR);
	CHECK(e != NONE && e->t == 21500 && e->m.has_reason &&
	      e->m.reason == PROTO_ERR_CLIENT_TIMEOUT);
	CHECK(ev_pos(e) < ev_pos(find_ev(EV_CLOSE, 0, 0)));
	CHECK_EQ(st.creates, 0);
	CHECK_EQ(st.ups + st.downs, 0);
	CHECK_EQ(brk[0].reconnects, 1);
	/* the only broker is marked broken, so nobody is eligible: pause */
	CHECK_EQ(cl.phase, PHASE_WAIT);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK(all_closed());
	CHECK_EQ(client_next_deadline(&cl), 26500);
	log_clear();
	run_to(26499);
	CHECK_EQ(nev, 0);
	run_to(26500);
	CHECK_EQ(st.opens, 2);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE && sent(0, PROTO_USAGE, 0)->t == 26500);
	CHECK_EQ(cl.phase, PHASE_COLLECT);

	/* The timeout hits after a cookie re-fetch: PREPAREs went out from
	 * this port, so the broker may hold a tunnel: ERROR all the same. */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(0));
	rx_wire(0, m_cookie(1));
	run_to(6000); /* 3 PREPAREs, then COOKIE at 6000 */
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 3);
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	run_to(14999);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);
	run_to(15000);
	e = last_sent(0, PROTO_ERROR);
	CHECK(e != NONE && e->t == 15000 && e->m.reason == PROTO_ERR_CLIENT_TIMEOUT);
	CHECK(all_closed());

	/* ... but not when no PREPARE ever went out */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(0));
	run_to(15000);
	CHECK_EQ(n_sent(0, PROTO_COOKIE), 8); /* 0, 2000 .. 14000 */
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK_EQ(cl.phase, PHASE_WAIT);

	/* a broker older than USAGE answers only the COOKIE request: known
	 * as such once it was asked twice */
	setup(2, SELECT_USAGE, 0);
	start(0);
	rx_wire(0, m_cookie(9));
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	run_to(2000);
	rx_wire(0, m_cookie(9));
	CHECK_EQ(brk[0].state, BS_STANDBY);
	CHECK_EQ(brk[0].at.usage, 0xFFFF);
	CHECK_EQ(cl.selected, -1);

	/* start to PREPARE in one round trip: the cookie came with the usage,
	 * in either order */
	for (int order = 0; order < 2; order++) {
		setup(1, SELECT_FIRST, 0);
		start(0);
		run_to(30);
		log_clear();
		if (order)
			rx_wire(0, m_cookie(0x21));
		rx_wire(0, m_usage(5));
		if (!order) {
			CHECK_EQ(brk[0].state, BS_GET_COOKIE);
			rx_wire(0, m_cookie(0x21));
		}
		CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
		CHECK_EQ(n_sent(0, -1), 1);
		e = sent(0, PROTO_PREPARE, 0);
		CHECK_EQ(e->t, 30);
		{
			struct proto_msg want = m_cookie(0x21);

			CHECK_MEM(e->m.cookie, 8, want.cookie, 8);
		}
	}

}

/* ---- the TUNNEL reply and the data plane's ids -------------------------- */

SUITE(client_tunnel)
{
	const struct ev *e;

	/* features agreed in the first reply: unique session ids */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(100);
	bring_up(0, 100, 1);
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == TID && e->psid == 100 && e->ptid == 100);
	CHECK_EQ(brk[0].tun.ids.session_id, TID);
	CHECK_EQ(brk[0].tun.ids.peer_session_id, 100);
	CHECK_EQ(brk[0].tun.ids.peer_tunnel_id, 100);
	CHECK(ev_pos(e) < ev_pos(find_hook(0, "session.up", 0)));
	CHECK_EQ(st.ups, 1);
	CHECK_EQ(cl.selected, 0);

	/* unknown feature bits are not ours to agree to */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 0xFFFFFFFFu, 0xFFFFFFFFu);
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == TID && e->psid == 0xFFFFFFFFu);

	/* no features in the answer to the first PREPARE: a broker without
	 * them, sessions 1/1 */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 0);
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == 1 && e->psid == 1 && e->ptid == 100);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);

	/* features we did not offer are not used either */
	setup(1, SELECT_FIRST, 0);
	ccfg.features = 0;
	start(0);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE); /* else the next one proves nothing */
	CHECK(!sent(0, PROTO_USAGE, 0)->m.has_features ||
	      sent(0, PROTO_USAGE, 0)->m.features == 0);
	bring_up(0, 100, 1);
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == 1 && e->psid == 1);

	/* The first reply was lost; the re-reply to the second PREPARE has
	 * no features although the broker agreed.  Guessing would kill the
	 * data plane: ERROR, new port, new handshake. */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(3));
	run_to(2000);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 2);
	run_to(2100);
	log_clear();
	rx_wire(0, m_tunnel(100, 0));
	CHECK_EQ(st.creates, 0);
	CHECK_EQ(st.ups, 0);
	e = sent(0, PROTO_ERROR, 0);
	CHECK(e != NONE && e->m.has_reason);
	CHECK(ev_pos(e) < ev_pos(find_ev(EV_CLOSE, 0, 0)));
	CHECK(ev_pos(find_ev(EV_CLOSE, 0, 0)) < ev_pos(find_ev(EV_OPEN, 0, 0)));
	CHECK(ev_pos(find_ev(EV_OPEN, 0, 0)) < ev_pos(sent(0, PROTO_COOKIE, 0)));
	CHECK_EQ(st.opens, 2);
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	/* the establishment clock starts again with the new handshake */
	CHECK_EQ(brk[0].at.establish_deadline, 2100 + T_ESTABLISH);
	run_to(2200);
	rx_wire(0, m_cookie(4));
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 1);
	rx_wire(0, m_tunnel(101, 1));
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == TID && e->psid == 101 && e->ptid == 101);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(st.creates, 1);

	/* after the fresh start, a featureless answer to the first PREPARE
	 * is unambiguous: an old broker, 1/1 */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(3));
	run_to(2000);
	rx_wire(0, m_tunnel(100, 0));
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	rx_wire(0, m_cookie(5));
	rx_wire(0, m_tunnel(102, 0));
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == 1 && e->psid == 1 && e->ptid == 102);

	/* never a guess: the handshake starts over, at once and then after
	 * 1, 2, 4 s, and after REDOS_MAX the attempt ends without a tunnel */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(100));
	for (unsigned k = 0; k <= REDOS_MAX; k++) {
		int64_t redo = now_ms;
		const struct ev *ck;

		if (k > 0) {
			int64_t wait = k == 1 ? 0 : (int64_t)T_REDO_BACKOFF << (k - 2);

			if (wait)
				CHECK_EQ(n_sent(0, PROTO_COOKIE), 0);
			run_to(redo + wait);
			ck = sent(0, PROTO_COOKIE, 0);
			CHECK_EQ(ck->t, redo + wait);
			CHECK_EQ(n_sent(0, PROTO_COOKIE), 1);
		}
		rx_wire(0, m_cookie((uint8_t)k));
		run_to(now_ms + T_RESEND);
		CHECK_EQ(brk[0].at.prepares_total, 2);
		log_clear();
		rx_wire(0, m_tunnel(100 + k, 0));
		CHECK_EQ(st.creates, 0);
		CHECK_EQ(n_sent(0, PROTO_ERROR), 1);
	}
	CHECK_EQ(st.opens, 1 + REDOS_MAX);
	CHECK(brk[0].state != BS_KEEPALIVE && brk[0].state != BS_GET_COOKIE);
	CHECK_EQ(st.creates, 0);

	/* refused right after the restart: the rate limit our first tunnel
	 * started; asked again later, even with another broker at hand */
	setup(2, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(3));
	run_to(2000);
	rx_wire(0, m_tunnel(100, 0));
	rx_wire(0, m_cookie(4));
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	CHECK_EQ(brk[1].state, BS_GET_USAGE); /* a candidate */
	rx_wire(0, m_error(-1));
	CHECK_EQ(cl.selected, 0);
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	log_clear();
	run_to(now_ms + T_PREPARE_RETRY);
	CHECK_EQ(n_sent(0, PROTO_PREPARE), 1);

	/* a broker that sent features in an earlier TUNNEL reply uses unique
	 * ids: its ambiguous re-reply is taken as such, no restart */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(7));
	run_to(now_ms + T_RESEND);
	CHECK_EQ(brk[0].at.prepares_total, 2);
	log_clear();
	rx_wire(0, m_tunnel(120, 0));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	e = find_ev(EV_CREATE, 0, 0);
	CHECK(e != NONE && e->sid == TID && e->psid == 120 && e->ptid == 120);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);

	/* ... but not one that never did: 1/1 before is no evidence */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 0);
	rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(7));
	run_to(now_ms + T_RESEND);
	log_clear();
	rx_wire(0, m_tunnel(120, 0));
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	CHECK_EQ(n_ev(EV_CREATE, 0), 0);

	/* tunnel id 0 is not a tunnel */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(3));
	rx_wire(0, m_tunnel(0, 1));
	rx_wire(0, m_tunnel(0, 0));
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	CHECK_EQ(st.creates, 0);
	CHECK_EQ(st.opens, 1);
	rx_wire(0, m_tunnel(55, 1));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(find_ev(EV_CREATE, 0, 0)->ptid, 55);

	/* TUNNEL outside GET_TUNNEL does nothing */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_tunnel(55, 1));
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_tunnel(55, 1));
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	CHECK_EQ(st.creates, 0);

	/* the kernel refuses the tunnel: the broker hears about it, no hook */
	setup(1, SELECT_FIRST, 0);
	start(0);
	st.create_err = -EEXIST;
	rx_wire(0, m_usage(100));
	rx_wire(0, m_cookie(3));
	run_to(500);
	rx_wire(0, m_tunnel(100, 1));
	CHECK_EQ(st.creates, 1);
	CHECK_EQ(st.ups + st.downs, 0);
	e = last_sent(0, PROTO_ERROR);
	CHECK(e != NONE && e->t == 500 && e->m.reason == PROTO_ERR_CLIENT_FAILURE);
	CHECK_EQ(st.deletes, 0);
	CHECK(brk[0].state != BS_KEEPALIVE);
	CHECK_EQ(brk[0].reconnects, 1);
}

/* ---- the established tunnel --------------------------------------------- */

SUITE(client_keepalive)
{
	const int64_t t0 = 1000;
	const struct ev *e;

	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	log_clear();
	bring_up(0, 100, 1);
	CHECK_EQ(st.ups, 1);
	CHECK(find_hook(0, "session.up", 0) &&
	      find_hook(0, "session.up", 0)->t == t0);

	/* discovery starts with the tunnel: six sizes, ascending */
	CHECK_EQ(n_probes(0, t0), 6);
	for (unsigned i = 0; i < PROTO_PROBE_COUNT; i++) {
		e = sent(0, PROTO_PMTUD, i);
		CHECK(e != NONE && e->t == t0 && e->len == proto_probe_sizes[i] - 28u);
	}
	CHECK_EQ(proto_probe_sizes[0], 1334);
	CHECK_EQ(proto_probe_sizes[5], 1500);

	/* one minute with a live broker */
	for (int k = 0; k < 12; k++) {
		run_to(t0 + 2500 + 5000 * k);
		rx_wire(0, m_seq(PROTO_KEEPALIVE, (uint32_t)k));
	}
	run_to(t0 + 60000);
	CHECK_EQ(n_sent(0, PROTO_KEEPALIVE), 12);
	/* Ours ride on the broker's beat (a wakeup saved each time): the
	 * first one 2.5 s early, then exactly every 5 s. */
	for (unsigned k = 0; k < 12; k++) {
		e = sent(0, PROTO_KEEPALIVE, k);
		CHECK(e != NONE && e->t == t0 + 2500 + 5000 * k && e->m.seq == k);
	}
	/* bursts every second until the collection 5 s in, then 15 s later
	 * (nothing was acknowledged, so 5 + 15), then 30 s after that */
	for (int k = 1; k < 5; k++)
		CHECK_EQ(n_probes(0, t0 + 1000 * k), 6);
	CHECK_EQ(n_probes(0, t0 + 5000), 0);
	CHECK_EQ(n_probes(0, t0 + 20000), 6);
	CHECK_EQ(n_probes(0, t0 + 24000), 6);
	CHECK_EQ(n_probes(0, t0 + 25000), 0);
	CHECK_EQ(n_probes(0, t0 + 55000), 6);
	CHECK_EQ(n_probes(0, -1), 6 * 5 * 3);
	CHECK_EQ(n_sent(0, PROTO_PMTU_NTFY), 0); /* nothing learnt yet */
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(st.ups, 1);
	CHECK_EQ(st.downs, 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(n_ev(EV_MTU, 0), 0);

	/* reprobe intervals with the run answered at once: 15 s, doubling,
	 * capped at 600 s */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	{
		static const int64_t gaps[] = { 15000, 30000, 60000, 120000,
						240000, 480000, 600000, 600000 };
		int64_t fed = 0;
		unsigned runs = 0;

		while (st.nruns < 10 && now_ms < 4000000) {
			if (st.nruns != runs) {
				runs = st.nruns;
				rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
			}
			if (now_ms - fed >= 4000) {
				rx_wire(0, m_seq(PROTO_KEEPALIVE, 0));
				fed = now_ms;
			}
			log_clear();
			step();
		}
		CHECK_EQ(st.nruns, 10);
		for (unsigned k = 0; k < 8; k++)
			CHECK_EQ(st.run_start[k + 1] - st.run_start[k], gaps[k]);
		CHECK_EQ(brk[0].state, BS_KEEPALIVE);
		CHECK_EQ(st.mtu_hooks, 1); /* the MTU did not change again */
		CHECK_EQ(brk[0].tun.mtu, 1446);
	}
}

/* Over IPv6 the probes, acks and MTU count 48 bytes of IP + UDP and a
 * tunnel overhead of 74; the NTFY value is the tunnel MTU, as over IPv4. */
SUITE(client_pmtu_ipv6)
{
	const int64_t t0 = 500;
	const struct ev *e;

	setup(1, SELECT_FIRST, 0);
	st.family[0] = V6;
	start(0);
	run_to(t0);
	CHECK_EQ(find_ev(EV_OPEN, 0, 0)->to.sa.sa_family, AF_INET6);
	CHECK_EQ(addr_port(&find_ev(EV_OPEN, 0, 0)->to), 8942);
	bring_up(0, 100, 1);
	CHECK_EQ(n_sent(0, PROTO_PMTUD), 6);
	for (unsigned i = 0; i < PROTO_PROBE_COUNT; i++) {
		e = sent(0, PROTO_PMTUD, i);
		CHECK(e != NONE && e->t == t0 && e->len == proto_probe_sizes[i] - 48u);
	}
	CHECK_EQ(sent(0, PROTO_PMTUD, 0)->len, 1286);
	CHECK_EQ(sent(0, PROTO_PMTUD, 5)->len, 1452);
	log_clear();

	/* IPv4 payload lengths are no probe of ours here */
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1306));
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
	CHECK_EQ(brk[0].tun.probed, 0);
	CHECK_EQ(nev, 0);
	/* 1352 + 48 = 1400 on the path; the run ends at the collection */
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1352));
	CHECK_EQ(brk[0].tun.probed, 1400);
	CHECK_EQ(nev, 0);
	run_fed(0, t0 + T_PMTU_COLLECT);
	CHECK_EQ(brk[0].tun.mtu, 1400 - 74);
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1326);
	e = sent(0, PROTO_PMTU_NTFY, 0);
	CHECK(e != NONE && e->m.value == 1326);

	/* the whole 1500 gives 1426, and so does a peer that says more */
	setup(1, SELECT_FIRST, 0);
	st.family[0] = V6;
	start(0);
	bring_up(0, 100, 1);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1500));
	CHECK_EQ(brk[0].tun.mtu, 1426);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1452));
	CHECK_EQ(brk[0].tun.pmtu, 1500);
	CHECK_EQ(brk[0].tun.mtu, 1426);
	CHECK_EQ(last_sent(0, PROTO_PMTU_NTFY)->m.value, 1426);

	/* 1334 on the path carries 1260: the interface stays at the floor */
	setup(1, SELECT_FIRST, 0);
	st.family[0] = V6;
	start(0);
	bring_up(0, 100, 1);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1286));
	run_fed(0, T_PMTU_COLLECT);
	CHECK_EQ(brk[0].tun.pmtu, 1334);
	CHECK_EQ(brk[0].tun.mtu, PROTO_MTU_FLOOR);
	CHECK_EQ(last_sent(0, PROTO_PMTU_NTFY)->m.value, 1260);

	/* IPv4 beside it, unchanged: 1472 + 28 = 1500 gives 1446 */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	CHECK_EQ(sent(0, PROTO_PMTUD, 0)->len, 1306);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1452));
	CHECK_EQ(brk[0].tun.probed, 0);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
	CHECK_EQ(brk[0].tun.mtu, 1446);
	CHECK_EQ(last_sent(0, PROTO_PMTU_NTFY)->m.value, 1446);
}

/* Brokers of either family answer in one round. */
SUITE(client_mixed_families)
{
	/* -g: an IPv6 broker and an IPv4 one; the first to answer wins */
	setup(2, SELECT_FIRST, 0);
	st.family[0] = V6;
	start(0);
	CHECK_EQ(find_ev(EV_OPEN, 0, 0)->to.sa.sa_family, AF_INET6);
	CHECK_EQ(find_ev(EV_OPEN, 1, 0)->to.sa.sa_family, AF_INET);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[1].state, BS_GET_USAGE);
	run_to(100);
	lines_clear();
	rx_wire(1, m_usage(900));
	CHECK_EQ(cl.selected, 1);
	/* one address: the name says it all */
	CHECK(strstr(find_line("selected", 0), ": selected (usage 900)") != NULL);
	CHECK(strstr(find_line("selected", 0), " at ") == NULL);
	setup(2, SELECT_FIRST, 0);
	st.family[0] = V6;
	start(0);
	run_to(100);
	rx_wire(0, m_usage(900));
	CHECK_EQ(cl.selected, 0);
	rx_wire(0, m_cookie(1));
	rx_wire(0, m_tunnel(100, 1));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(brk[0].addr.sa.sa_family, AF_INET6);

}

/* Datagrams of a type sent on one slot of broker b. */
static unsigned n_sent_slot(int b, unsigned slot, int type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nev; i++)
		n += evlog[i].kind == EV_SEND && evlog[i].b == b &&
		     evlog[i].slot == slot && evlog[i].m.type == type;
	return n;
}

/* One broker whose name has an IPv6 and an IPv4 address, started at 0. */
static void start_dual(void)
{
	setup(1, SELECT_FIRST, 0);
	st.family[0] = V6_V4;
	start(0);
}

/* A name with an IPv6 and an IPv4 address: USAGE (and COOKIE) goes to
 * both at once, one socket each; the first to answer is the broker's
 * address, the other socket is closed; an address that cannot be used is
 * let go while the other is still asked. */
SUITE(client_name_both_families)
{
	const struct ev *e;

	/* both asked at once, on slots 0 (IPv6) and 1 (IPv4) */
	start_dual();
	CHECK_EQ(brk[0].naddrs, 2);
	CHECK_EQ(n_ev(EV_OPEN, 0), 2);
	e = find_ev(EV_OPEN, 0, 0);
	CHECK(e != NONE && e->slot == 0 && e->to.sa.sa_family == AF_INET6 &&
	      addr_port(&e->to) == 8942 && e->t == 0);
	e = find_ev(EV_OPEN, 0, 1);
	CHECK(e != NONE && e->slot == 1 && e->to.sa.sa_family == AF_INET &&
	      addr_port(&e->to) == 8942 && e->t == 0);
	CHECK_EQ(st.sock[0], 3);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_USAGE), 1);
	CHECK_EQ(n_sent_slot(0, 1, PROTO_USAGE), 1);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_COOKIE), 1);
	CHECK_EQ(n_sent_slot(0, 1, PROTO_COOKIE), 1);
	/* unanswered: asked again on the same two sockets */
	run_to(T_RESEND);
	CHECK_EQ(n_ev(EV_OPEN, 0), 2);
	CHECK_EQ(n_ev(EV_CLOSE, 0), 0);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_USAGE), 2);
	CHECK_EQ(n_sent_slot(0, 1, PROTO_USAGE), 2);
	/* the IPv4 address answers: its socket is the broker's, the IPv6
	 * one is closed, and the tunnel goes over IPv4 */
	run_to(T_RESEND + 50);
	lines_clear();
	rx_slot(0, 1, m_usage(10));
	CHECK(strstr(find_line("selected", 0),
		     ": selected (usage 10) at 192.0.2.1:8942") != NULL);
	CHECK_EQ(n_ev(EV_CLOSE, 0), 1);
	CHECK_EQ(find_ev(EV_CLOSE, 0, 0)->slot, 0);
	CHECK_EQ(st.sock[0], 1);
	CHECK_EQ(brk[0].slots, 1);
	CHECK_EQ(brk[0].addr.sa.sa_family, AF_INET);
	CHECK_EQ(addr_port(&brk[0].addr), 8942);
	CHECK_EQ(cl.selected, 0);
	rx_slot(0, 1, m_cookie(1)); /* late, on the slot adopted away: dropped */
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	rx_wire(0, m_cookie(1));
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_PREPARE), 1);
	rx_wire(0, m_tunnel(100, 1));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(sent(0, PROTO_PMTUD, 0)->len, 1306);
	CHECK_EQ(n_ev(EV_OPEN, 0), 2);

	/* the IPv6 address answers first: the IPv4 socket is closed */
	start_dual();
	run_to(40);
	rx_slot(0, 0, m_cookie(2)); /* any datagram: this address works */
	CHECK_EQ(st.sock[0], 1);
	CHECK_EQ(find_ev(EV_CLOSE, 0, 0)->slot, 1);
	CHECK_EQ(brk[0].addr.sa.sa_family, AF_INET6);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	lines_clear();
	rx_slot(0, 0, m_usage(3));
	CHECK(strstr(find_line("selected", 0),
		     ": selected (usage 3) at [2001:db8::1]:8942") != NULL);
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL); /* the cookie came with it */
	rx_wire(0, m_tunnel(100, 1));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(sent(0, PROTO_PMTUD, 0)->len, 1286);

	/* no IPv6 route: the IPv6 address is let go, the IPv4 one asked on
	 * alone; at the resend the IPv6 one is tried again */
	setup(1, SELECT_FIRST, 0);
	st.family[0] = V6_V4;
	st.open_err6 = -ENETUNREACH;
	start(0);
	CHECK_EQ(n_ev(EV_OPEN, 0), 2);
	CHECK_EQ(st.sock[0], 2);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(n_sent_slot(0, 1, PROTO_USAGE), 1);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_USAGE), 0);
	run_to(T_RESEND);
	CHECK_EQ(n_ev(EV_OPEN, 0), 3);
	CHECK_EQ(find_ev(EV_OPEN, 0, 2)->slot, 0);
	st.open_err6 = 0;
	run_to(2 * T_RESEND);
	CHECK_EQ(st.sock[0], 3);
	CHECK_EQ(n_sent_slot(0, 0, PROTO_USAGE), 1);
	CHECK_EQ(n_sent_slot(0, 1, PROTO_USAGE), 3);
	CHECK_EQ(brk[0].last_error, 0);

	/* a send that finds no route on one slot drops that slot only */
	start_dual();
	run_to(100);
	client_on_sock_error(&cl, 0, 0, ENETUNREACH, now_ms);
	CHECK_EQ(st.sock[0], 2);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[0].fail_streak, 0);
	/* nobody on the port of the other: it is the last, so it is a
	 * refusal as with one address (asked again soon, not dropped) */
	client_on_sock_error(&cl, 0, 1, ECONNREFUSED, now_ms);
	CHECK_EQ(st.sock[0], 2);
	CHECK(brk[0].refused_since != 0);
	CHECK(client_next_deadline(&cl) <= now_ms + T_REFUSED_RETRY * 5 / 4);
	/* a datagram on the slot dropped is not taken */
	rx_slot(0, 0, m_usage(1));
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	rx_slot(0, 1, m_usage(1));
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	CHECK_EQ(brk[0].refused_since, 0);

	/* a refusal on one address while the other is asked: that one goes,
	 * and the broker is not taken for a restarting one */
	start_dual();
	run_to(100);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(st.sock[0], 2);
	CHECK_EQ(brk[0].refused_since, 0);
	CHECK_EQ(client_next_deadline(&cl), T_RESEND);
	/* both unreachable: the broker backs off as with one address */
	client_on_sock_error(&cl, 0, 1, ENETUNREACH, now_ms);
	CHECK_EQ(st.sock[0], 0);
	CHECK_EQ(brk[0].state, BS_REINIT);
	CHECK_EQ(brk[0].last_error, ENETUNREACH);

	/* -g over two names, each with both families: the first answer of
	 * any address of the first name wins it */
	setup(2, SELECT_FIRST, 0);
	st.family[0] = V6_V4;
	st.family[1] = V6_V4;
	start(0);
	CHECK_EQ(st.sock[0], 3);
	CHECK_EQ(st.sock[1], 3);
	run_to(30);
	rx_slot(0, 1, m_usage(50));
	CHECK_EQ(cl.selected, 0);
	CHECK_EQ(st.sock[0], 1);
	CHECK_EQ(brk[0].addr.sa.sa_family, AF_INET);
}

SUITE(client_pmtu)
{
	const int64_t t0 = 500;
	const struct ev *e;

	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	log_clear();

	/* acks for sizes never probed */
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 5000));
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 12)); /* a liveness probe's */
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 0));
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1500)); /* the size, not the payload */
	CHECK_EQ(brk[0].tun.probed, 0);
	CHECK_EQ(nev, 0);

	/* a small one does not end the run... */
	run_to(t0 + 100);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1306));
	CHECK_EQ(brk[0].tun.probed, 1334);
	CHECK_EQ(nev, 0);
	/* ...the largest one sent does */
	run_to(t0 + 200);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
	CHECK_EQ(n_ev(EV_MTU, 0), 1);
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1446);
	CHECK_EQ(brk[0].tun.mtu, 1446);
	CHECK_EQ(st.mtu_hooks, 1);
	CHECK(ev_pos(find_ev(EV_MTU, 0, 0)) <
	      ev_pos(find_hook(0, "session.mtu-changed", 0)));
	e = sent(0, PROTO_PMTU_NTFY, 0);
	CHECK(e != NONE && e->t == t0 + 200 && e->m.value == 1446);
	CHECK_EQ(n_sent(0, -1), 1);
	/* no more bursts in this run */
	run_fed(0, t0 + 15199);
	CHECK_EQ(n_probes(0, -1), 0);
	CHECK_EQ(client_next_deadline(&cl) <= t0 + 15200, 1);
	run_to(t0 + 15200);
	CHECK_EQ(n_probes(0, t0 + 15200), 6);

	/* the broker's own value */
	log_clear();
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1400));
	CHECK_EQ(n_ev(EV_MTU, 0), 1);
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1400);
	CHECK_EQ(st.mtu_hooks, 2);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1400));
	CHECK_EQ(n_ev(EV_MTU, 0), 1);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1500)); /* higher than ours */
	CHECK_EQ(find_ev(EV_MTU, 0, 1)->value, 1446);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 0)); /* unknown: ours counts */
	CHECK_EQ(n_ev(EV_MTU, 0), 2);
	CHECK_EQ(brk[0].tun.mtu, 1446);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1));
	CHECK_EQ(find_ev(EV_MTU, 0, 2)->value, PROTO_MTU_FLOOR);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 65535));
	CHECK_EQ(find_ev(EV_MTU, 0, 3)->value, 1446);
	CHECK_EQ(n_ev(EV_MTU, 0), 4);
	CHECK_EQ(st.mtu_hooks, 5);
	CHECK_EQ(n_sent(0, -1), 0); /* nothing to answer */

	/* the broker's probes are acknowledged with their length */
	log_clear();
	rx_wire(0, m_probe(1472));
	rx_wire(0, m_probe(700));
	CHECK_EQ(n_sent(0, -1), 2);
	CHECK(sent(0, -1, 0)->m.type == PROTO_PMTUD_ACK &&
	      sent(0, -1, 0)->m.value == 1472 && sent(0, -1, 0)->len == 12);
	CHECK(sent(0, -1, 1)->m.type == PROTO_PMTUD_ACK &&
	      sent(0, -1, 1)->m.value == 700);

	/* without a result of our own, the broker's value alone, clamped */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	log_clear();
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 0));
	CHECK_EQ(n_ev(EV_MTU, 0), 0);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 65535));
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1446);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1));
	CHECK_EQ(find_ev(EV_MTU, 0, 1)->value, PROTO_MTU_FLOOR);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1300));
	CHECK_EQ(find_ev(EV_MTU, 0, 2)->value, 1300);
	CHECK_EQ(n_sent(0, PROTO_PMTU_NTFY), 0);

	/* only the smallest size got through: collected after 5 s, and the
	 * floor holds (1334 - 54 = 1280) */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1306));
	run_to(4999);
	CHECK_EQ(n_ev(EV_MTU, 0), 0);
	run_to(5000);
	CHECK_EQ(n_ev(EV_MTU, 0), 1);
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1280);
	e = last_sent(0, PROTO_PMTU_NTFY);
	CHECK(e != NONE && e->t == 5000 && e->m.value == 1280);

	/* probes larger than the local MTU never leave; the largest one
	 * that did decides */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_cookie(1));
	st.send_err = -EMSGSIZE;
	rx_wire(0, m_tunnel(100, 1));
	st.send_err = 0;
	CHECK_EQ(brk[0].tun.probe_max, 0);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1306));
	CHECK_EQ(find_ev(EV_MTU, 0, 0)->value, 1280);

	/* the MTU cannot be set: no hook, and the next run tries again */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	st.mtu_err = -ENODEV;
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
	CHECK_EQ(n_ev(EV_MTU, 0), 1);
	CHECK_EQ(st.mtu_hooks, 0);
	CHECK_EQ(brk[0].tun.mtu, 0);
	st.mtu_err = 0;
	run_fed(0, T_PMTU_FIRST + T_PMTU_COLLECT);
	CHECK_EQ(n_ev(EV_MTU, 0), 2);
	CHECK_EQ(brk[0].tun.mtu, 1446);
	CHECK_EQ(st.mtu_hooks, 1);
}

/* ---- a broker that went away --------------------------------------------- */

SUITE(client_dead)
{
	const int64_t t0 = 1000;
	const int64_t give_up = T_SILENCE + SILENCE_PROBES * T_SILENCE_PROBE;
	const struct ev *e;

	/* before the broker's first keepalive: 15 s of silence, then the
	 * probes */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	run_to(t0 + T_SILENCE - 1);
	CHECK_EQ(n_small_probes(0), 0);
	run_to(t0 + T_SILENCE);
	CHECK_EQ(n_small_probes(0), 1);
	run_to(t0 + give_up - 1);
	CHECK_EQ(n_small_probes(0), SILENCE_PROBES);
	for (unsigned k = 0; k < SILENCE_PROBES; k++) {
		unsigned n = 0;

		for (unsigned i = 0; i < nev; i++)
			n += evlog[i].kind == EV_SEND &&
			     evlog[i].m.type == PROTO_PMTUD &&
			     evlog[i].len == PROTO_MIN_DGRAM &&
			     evlog[i].t == t0 + T_SILENCE + T_SILENCE_PROBE * k;
		CHECK_EQ(n, 1);
	}
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	log_clear();
	run_to(t0 + give_up);
	e = sent(0, PROTO_ERROR, 0);
	CHECK(e != NONE && e->t == t0 + give_up && e->m.reason == PROTO_ERR_CLIENT_TIMEOUT);
	CHECK(find_hook(0, "session.down", 0) != NONE);
	CHECK(find_ev(EV_DELETE, 0, 0)->sid == TID);
	CHECK_EQ(st.ups, st.downs);
	CHECK(ev_pos(e) < ev_pos(find_ev(EV_CLOSE, 0, 0)));
	/* well inside the 60 s bound */
	CHECK(now_ms - t0 <= T_LIVENESS);
	/* a new round at once, on a new socket */
	CHECK_EQ(st.opens, 2);
	CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, t0 + give_up);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(brk[0].broken_since, 0); /* it did work for a while */

	/* any datagram in between resets the count */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	run_to(t0 + 17000);
	CHECK_EQ(n_small_probes(0), 3);
	run_to(t0 + 17500);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
	log_clear();
	run_to(t0 + 32499);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	run_to(t0 + 32500);
	CHECK_EQ(n_small_probes(0), 1);
	run_to(t0 + 36000);
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 0));
	log_clear();
	run_to(t0 + 36000 + T_SILENCE_BEAT - 1);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);

	/* a broker that only answers our probes keeps the tunnel, and the
	 * tunnel never outlives 60 s of silence */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	{
		int64_t last_rx = 0;

		while (now_ms < 600000 && brk[0].state == BS_KEEPALIVE) {
			int64_t d = client_next_deadline(&cl);

			log_clear();
			step();
			if (n_small_probes(0) && now_ms < 300000) {
				rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
				last_rx = now_ms;
			}
			CHECK(d - last_rx <= T_LIVENESS);
		}
		CHECK_EQ(brk[0].state, BS_GET_USAGE);
		CHECK(now_ms > 300000 && now_ms - last_rx == give_up);
		CHECK_EQ(st.ups, 1);
		CHECK_EQ(st.downs, 1);
	}

	/* ICMP port unreachable: probe at once */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	run_to(t0 + 3000);
	log_clear();
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(n_small_probes(0), 1);
	CHECK(client_next_deadline(&cl) > now_ms); /* nothing left overdue */
	run_to(now_ms);
	CHECK_EQ(n_small_probes(0), 1);
	CHECK(sent(0, PROTO_PMTUD, 0) != NONE && sent(0, PROTO_PMTUD, 0)->t == t0 + 3000);
	/* a second report while probing changes nothing */
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(n_small_probes(0), 1);
	run_to(t0 + 3000 + SILENCE_PROBES * T_SILENCE_PROBE - 1);
	CHECK_EQ(n_small_probes(0), SILENCE_PROBES);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	run_to(t0 + 3000 + SILENCE_PROBES * T_SILENCE_PROBE);
	e = last_sent(0, PROTO_ERROR);
	CHECK(e != NONE && e->t == t0 + 3000 + SILENCE_PROBES * T_SILENCE_PROBE &&
	      e->m.reason == PROTO_ERR_CLIENT_TIMEOUT);
	CHECK_EQ(st.ups, st.downs);
	CHECK_EQ(st.deletes, 1);

	/* ... and the broker answering ends it */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(2000);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	run_to(3500);
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 9));
	log_clear();
	run_to(3500 + T_SILENCE_BEAT - 1);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);

	/* refused while setting up: three strikes */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_cookie(1));
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK(brk[0].state != BS_GET_TUNNEL);
	/* restarting, not broken: asked again at once, then at the quick
	 * pace */
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[0].broken_since, 0);
	CHECK(client_next_deadline(&cl) - now_ms <= T_REFUSED_RETRY * 5 / 4);

	/* a network error on the tunnel's socket starts the probes; only
	 * their going unanswered ends the tunnel, hooks paired */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(1000);
	client_on_sock_error(&cl, 0, 0, ENETUNREACH, now_ms);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(brk[0].tun.silence_probes, 1);
	CHECK_EQ(st.downs, 0);
	run_to(now_ms + 4 * T_SILENCE_PROBE);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	run_to(now_ms + T_SILENCE_PROBE);
	CHECK(brk[0].state != BS_KEEPALIVE);
	CHECK_EQ(st.ups, 1);
	CHECK_EQ(st.downs, 1);
	CHECK_EQ(st.deletes, 1);

	/* ... and an answer in time keeps it */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(1000);
	client_on_sock_error(&cl, 0, 0, EHOSTUNREACH, now_ms);
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 3));
	run_to(now_ms + 10 * T_SILENCE_PROBE);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(st.downs, 0);

	/* A refusal a send finds (the socket held it from an earlier
	 * datagram) is handled within the same event: the datagram goes
	 * again, and the broker is asked at the quick pace from then on. */
	setup(1, SELECT_FIRST, 0);
	start(0);
	CHECK_EQ(n_sent(0, PROTO_USAGE), 1);
	log_clear();
	st.send_refused = 1;
	step();
	CHECK_EQ(now_ms, T_RESEND);
	CHECK_EQ(n_sent(0, PROTO_USAGE), 2); /* refused, then sent */
	CHECK(brk[0].refused_since != 0);
	CHECK(client_next_deadline(&cl) - now_ms <= T_REFUSED_RETRY * 5 / 4);
	/* ... and counts as a strike while setting up */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_cookie(1));
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	st.send_refused = 1;
	step(); /* the PREPARE resend finds the third */
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[0].broken_since, 0);
}

/* ---- ERROR from the broker ---------------------------------------------- */

SUITE(client_broker_error)
{
	const struct ev *e;
	int64_t marked;

	/* while the tunnel is up */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(100);
	bring_up(0, 100, 1);
	run_to(3000);
	log_clear();
	rx_wire(0, m_error(PROTO_ERR_BROKER_SHUTDOWN));
	e = sent(0, PROTO_ERROR, 0);
	CHECK(e != NONE && e->m.has_reason && e->m.reason == PROTO_ERR_CLIENT_OTHER_REQUEST);
	CHECK(find_hook(0, "session.down", 0) != NONE);
	e = find_ev(EV_DELETE, 0, 0);
	CHECK(e != NONE && e->sid == TID && e->psid == 100 && e->ptid == 100);
	CHECK_EQ(st.ups, 1);
	CHECK_EQ(st.downs, 1);
	CHECK(!st.kernel[0]);
	CHECK_EQ(brk[0].reconnects, 1);
	CHECK_EQ(brk[0].broken_since, 0);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE);
	CHECK_EQ(st.opens, 2);
	/* and up again, with session ids from the new reply */
	rx_wire(0, m_usage(1));
	rx_wire(0, m_cookie(1));
	rx_wire(0, m_tunnel(120, 0));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(find_ev(EV_CREATE, 0, 0)->sid, 1);
	rx_wire(0, m_error(-1));
	e = find_ev(EV_DELETE, 0, 1);
	CHECK(e != NONE && e->sid == 1 && e->ptid == 120);
	CHECK_EQ(st.ups, st.downs);

	/*
	 * Refused in GET_TUNNEL: the broker is marked and skipped while the
	 * other one serves, for an hour measured on the clock.  The start
	 * time is a multiple of 256 s and far past 3855 s, where an 8-bit
	 * timestamp would lose the mark.
	 */
	{
		const int64_t t0 = 256000LL * 40000;

		setup(2, SELECT_FIRST, 0);
		start(t0);
		CHECK_EQ(n_sent(0, PROTO_USAGE), 1);
		CHECK_EQ(n_sent(1, PROTO_USAGE), 1);
		rx_wire(0, m_usage(10));
		marked = now_ms;
		CHECK_EQ(cl.selected, 0);
		/* the other one may still answer: kept for a few seconds */
		CHECK_EQ(brk[1].state, BS_GET_USAGE);
		CHECK(st.sock[1]);
		rx_wire(0, m_cookie(1));
		run_to(t0 + 1000);
		log_clear();
		rx_wire(0, m_error(-1));
		CHECK_EQ(n_sent(0, -1), 0); /* refused: nothing to tear down */
		CHECK_EQ(st.ups + st.downs, 0);
		CHECK_EQ(brk[0].state, BS_IDLE);
		CHECK_EQ(brk[0].broken_since, marked);
		CHECK(!st.sock[0]);
		/* on with the other one, no new round: no new socket, no
		 * second question */
		CHECK_EQ(brk[1].state, BS_GET_USAGE);
		CHECK_EQ(st.opens, 2);
		CHECK_EQ(n_sent(1, -1), 0);
		CHECK_EQ(cl.rounds, 1);
		rx_wire(1, m_usage(50000));
		CHECK_EQ(cl.selected, 1);
		rx_wire(1, m_cookie(2));
		rx_wire(1, m_tunnel(200, 1));
		CHECK_EQ(brk[1].state, BS_KEEPALIVE);
		/* keep it up for almost an hour */
		while (now_ms + T_KEEPALIVE < marked + T_BROKEN) {
			log_clear();
			run_to(now_ms + T_KEEPALIVE);
			rx_wire(1, m_seq(PROTO_KEEPALIVE, 0));
		}
		CHECK_EQ(brk[1].state, BS_KEEPALIVE);
		CHECK_EQ(brk[1].reconnects, 0);
		run_to(marked + T_BROKEN - 1);
		client_reselect(&cl, now_ms);
		CHECK_EQ(brk[0].state, BS_IDLE);
		CHECK_EQ(brk[1].state, BS_GET_USAGE);
		CHECK_EQ(st.ups, st.downs);
		rx_wire(1, m_usage(50000));
		CHECK_EQ(cl.selected, 1);
		now_ms = marked + T_BROKEN;
		client_reselect(&cl, now_ms);
		CHECK_EQ(brk[0].state, BS_GET_USAGE);
		CHECK_EQ(brk[0].broken_since, 0);
		CHECK(st.sock[0]);
		rx_wire(0, m_usage(10));
		CHECK_EQ(cl.selected, 0);
	}

	/* a selection at time 0 still marks */
	setup(2, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(10));
	CHECK(brk[0].broken_since != 0);
	rx_wire(0, m_cookie(1));
	rx_wire(0, m_error(0));
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK_EQ(brk[1].state, BS_GET_USAGE);

	/* alone and refused: a rate limit most likely; PREPARE again after
	 * 1, 2, 4, 4 s within the 15 s, with the same cookie */
	setup(1, SELECT_RANDOM, 0);
	start(0);
	rx_wire(0, m_usage(10));
	rx_wire(0, m_cookie(1));
	run_to(700);
	{
		static const int64_t at[] = { 1700, 3700, 7700, 11700 };

		for (unsigned k = 0; k < 4; k++) {
			log_clear();
			rx_wire(0, m_error(-1));
			CHECK_EQ(brk[0].state, BS_GET_TUNNEL);
			CHECK_EQ(n_sent(0, -1), 0);
			run_to(at[k] - 1);
			CHECK_EQ(n_sent(0, -1), 0);
			run_to(at[k]);
			CHECK_EQ(n_sent(0, PROTO_PREPARE), 1);
			CHECK_EQ(n_sent(0, PROTO_COOKIE), 0);
			CHECK_EQ(sent(0, PROTO_PREPARE, 0)->t, at[k]);
		}
	}
	rx_wire(0, m_error(-1));
	run_to(15000);
	CHECK(brk[0].state != BS_GET_TUNNEL);
	/* refusals alone do not make it broken for an hour */
	CHECK_EQ(brk[0].broken_since, 0);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);

	/* ... and once the limit has passed, the tunnel */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(10));
	rx_wire(0, m_cookie(1));
	rx_wire(0, m_error(-1));
	run_to(1000);
	rx_wire(0, m_error(-1));
	run_to(3000);
	rx_wire(0, m_tunnel(100, 1));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(brk[0].broken_since, 0);
	CHECK_EQ(cl.rounds, 1);

	/* ERROR before selection or while fetching the cookie: ignored */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_error(1));
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_error(1));
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
}

/* ---- broker selection ---------------------------------------------------- */

SUITE(client_select)
{
	/* -a: the lower usage once both answered */
	setup(2, SELECT_USAGE, 0);
	start(0);
	run_to(100);
	rx_wire(0, m_usage(500));
	CHECK_EQ(brk[0].state, BS_STANDBY);
	CHECK_EQ(cl.selected, -1);
	run_to(200);
	log_clear();
	rx_wire(1, m_usage(100));
	CHECK_EQ(cl.selected, 1);
	CHECK_EQ(brk[1].state, BS_GET_COOKIE);
	CHECK_EQ(n_sent(1, -1), 0); /* the cookie asked with USAGE is coming */
	/* the other one stays ready for a few seconds, then is let go */
	CHECK_EQ(brk[0].state, BS_STANDBY);
	CHECK(st.sock[0]);
	CHECK_EQ(n_sent(0, -1), 0);
	CHECK_EQ(client_next_deadline(&cl), 200 + T_CANDIDATES < 2000 ? 200 + T_CANDIDATES : 2000);
	run_to(200 + T_CANDIDATES - 1);
	CHECK(st.sock[0]);
	run_to(200 + T_CANDIDATES);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK(!st.sock[0]);
	CHECK_EQ(n_sent(0, -1), 0);
	CHECK_EQ(brk[1].state, BS_GET_COOKIE);

	/* ... and at once when the tunnel is up */
	setup(2, SELECT_USAGE, 0);
	start(0);
	rx_wire(0, m_usage(500));
	rx_wire(1, m_usage(100));
	CHECK_EQ(cl.selected, 1);
	CHECK(st.sock[0]);
	rx_wire(1, m_cookie(1));
	rx_wire(1, m_tunnel(100, 1));
	CHECK_EQ(brk[1].state, BS_KEEPALIVE);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK(!st.sock[0]);
	CHECK_EQ(cl.candidates_until, 0);

	/* -a: a tie goes to the earlier one */
	setup(2, SELECT_USAGE, 0);
	start(0);
	rx_wire(1, m_usage(300));
	rx_wire(0, m_usage(300));
	CHECK_EQ(cl.selected, 0);

	/* -a: a USAGE update in STANDBY counts */
	setup(3, SELECT_USAGE, 0);
	start(0);
	rx_wire(0, m_usage(100));
	rx_wire(1, m_usage(200));
	rx_wire(0, m_usage(900));
	CHECK_EQ(brk[0].at.usage, 900);
	rx_wire(2, m_usage(500));
	CHECK_EQ(cl.selected, 1);

	/* -a: at the end of the window with only one ready */
	setup(2, SELECT_USAGE, 0);
	start(0);
	run_to(100);
	rx_wire(0, m_usage(500));
	run_to(9999);
	CHECK_EQ(cl.selected, -1);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	log_clear();
	run_to(10000);
	CHECK_EQ(cl.selected, 0);
	CHECK_EQ(brk[1].state, BS_IDLE);
	CHECK(!st.sock[1]);
	CHECK_EQ(n_sent(1, -1), 0); /* no pointless resend at the window end */
	CHECK(sent(0, PROTO_COOKIE, 0) != NONE && sent(0, PROTO_COOKIE, 0)->t == 10000);
	CHECK_EQ(brk[0].at.establish_deadline, 10000 + T_ESTABLISH);

	/* -a: an old broker that only answered COOKIE counts as full */
	setup(2, SELECT_USAGE, 0);
	start(0);
	run_to(2000);
	rx_wire(0, m_cookie(1));
	rx_wire(1, m_usage(65000));
	CHECK_EQ(cl.selected, 1);

	/* -g: the first to answer, whatever the order on the command line */
	setup(3, SELECT_FIRST, 0);
	start(0);
	CHECK_EQ(n_sent(-1, PROTO_USAGE), 3);
	run_to(300);
	rx_wire(2, m_usage(60000));
	CHECK_EQ(cl.selected, 2);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[1].state, BS_GET_USAGE);
	/* the others' late answers change nothing while this one goes on */
	rx_wire(0, m_usage(1));
	CHECK_EQ(cl.selected, 2);
	CHECK_EQ(brk[0].state, BS_STANDBY);
	rx_wire(2, m_cookie(1));
	rx_wire(2, m_tunnel(100, 1));
	CHECK(!st.sock[0] && !st.sock[1] && st.sock[2]);

	/* -r: uniform among the ready ones, never one that did not answer */
	for (uint32_t r = 0; r < 6; r++) {
		setup(3, SELECT_RANDOM, 0);
		st.rnd = r;
		start(0);
		rx_wire(1, m_usage(10));
		rx_wire(2, m_usage(20));
		CHECK_EQ(cl.selected, -1);
		run_to(10000);
		/* with reservoir sampling: even picks the last, odd the first */
		CHECK_EQ(cl.selected, r % 2 ? 1 : 2);
		CHECK_EQ(brk[0].state, BS_IDLE);
	}
	/* -r: all answered: no need to wait */
	setup(2, SELECT_RANDOM, 0);
	start(0);
	rx_wire(0, m_usage(10));
	rx_wire(1, m_usage(10));
	CHECK(cl.selected >= 0);

	/* nobody answers: pause 5 s, without a datagram, then a new round */
	for (int s = SELECT_FIRST; s <= SELECT_RANDOM; s++) {
		setup(2, (enum select_strategy)s, 0);
		start(0);
		run_to(9999);
		CHECK_EQ(n_sent(-1, PROTO_USAGE), 10);
		log_clear();
		run_to(10000);
		CHECK_EQ(cl.phase, PHASE_WAIT);
		CHECK_EQ(n_sent(-1, -1), 0);
		CHECK(all_closed());
		CHECK_EQ(brk[0].state, BS_IDLE);
		CHECK_EQ(brk[1].state, BS_IDLE);
		CHECK_EQ(client_next_deadline(&cl), 15000);
		/* late answers to the closed sockets change nothing */
		log_clear();
		rx_wire(0, m_usage(1));
		CHECK_EQ(cl.phase, PHASE_WAIT);
		run_to(14999);
		CHECK_EQ(nev, 0);
		run_to(15000);
		CHECK_EQ(cl.phase, PHASE_COLLECT);
		CHECK_EQ(n_sent(0, PROTO_USAGE), 1);
		CHECK_EQ(n_sent(1, PROTO_USAGE), 1);
		CHECK_EQ(st.opens, 4);
		CHECK_EQ(cl.rounds, 2);
	}

	/* SIGHUP: give the tunnel up, select again */
	setup(2, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(1000);
	log_clear();
	client_reselect(&cl, now_ms);
	CHECK(last_sent(0, PROTO_ERROR) != NONE);
	CHECK_EQ(st.ups, st.downs);
	CHECK_EQ(st.deletes, 1);
	CHECK_EQ(brk[0].broken_since, 0);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK_EQ(brk[1].state, BS_GET_USAGE);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
}

/* ---- LIMIT, the reliable message ----------------------------------------- */

SUITE(client_limit)
{
	const int64_t t0 = 300;
	const struct ev *e;

	setup(1, SELECT_FIRST, 1000);
	start(0);
	run_to(t0);
	log_clear();
	bring_up(0, 100, 1);
	e = sent(0, PROTO_LIMIT, 0);
	CHECK(e != NONE && e->t == t0 && e->m.seq == 0 &&
	      e->m.limit_type == PROTO_LIMIT_BANDWIDTH_DOWN &&
	      e->m.has_bandwidth && e->m.bandwidth == 1000 && e->len == 14);
	CHECK(ev_pos(find_hook(0, "session.up", 0)) < ev_pos(e));
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 1);
	run_fed(0, t0 + 9000);
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 10);
	for (unsigned k = 0; k < 10; k++) {
		e = sent(0, PROTO_LIMIT, k);
		CHECK(e != NONE && e->t == t0 + 1000 * k && e->m.seq == 0);
	}
	run_fed(0, t0 + 30000);
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 10);
	CHECK_EQ(brk[0].tun.rel_pending, false);

	/* acknowledged: only the right seqno counts */
	setup(1, SELECT_FIRST, 1000);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	run_to(t0 + 500);
	rx_wire(0, m_seq(PROTO_REL_ACK, 5));
	rx_wire(0, m_seq(PROTO_REL_ACK, 0xFFFF));
	CHECK_EQ(brk[0].tun.rel_pending, true);
	run_to(t0 + 1000);
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 2);
	run_to(t0 + 1500);
	rx_wire(0, m_seq(PROTO_REL_ACK, 0));
	CHECK_EQ(brk[0].tun.rel_pending, false);
	run_fed(0, t0 + 20000);
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 2);
	/* a repeated ack is harmless */
	rx_wire(0, m_seq(PROTO_REL_ACK, 0));
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);

	/* seqnos go on across reconnects */
	for (uint32_t k = 1; k <= 3; k++) {
		rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
		CHECK_EQ(brk[0].tun.rel_pending, false);
		await_round(0);
		log_clear();
		bring_up(0, 100 + k, 1);
		e = sent(0, PROTO_LIMIT, 0);
		CHECK(e != NONE && e->m.seq == k);
		rx_wire(0, m_seq(PROTO_REL_ACK, k));
		CHECK_EQ(brk[0].tun.rel_pending, false);
	}

	/* no -L, no LIMIT */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_fed(0, 20000);
	CHECK_EQ(n_sent(0, PROTO_LIMIT), 0);
}

/* ---- stopping ------------------------------------------------------------ */

SUITE(client_stop)
{
	const struct ev *e;

	setup(2, SELECT_FIRST, 1000);
	start(0);
	bring_up(0, 100, 1);
	run_to(2000);
	log_clear();
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	e = sent(0, PROTO_ERROR, 0);
	CHECK(e != NONE && e->m.has_reason && e->m.reason == PROTO_ERR_CLIENT_SHUTDOWN);
	CHECK(find_hook(0, "session.down", 0) != NONE);
	CHECK(find_ev(EV_DELETE, 0, 0) != NONE && find_ev(EV_DELETE, 0, 0)->sid == TID);
	CHECK(ev_pos(e) < ev_pos(find_ev(EV_CLOSE, 0, 0)));
	CHECK(all_closed());
	CHECK(!st.kernel[0]);
	CHECK_EQ(st.ups, st.downs);
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX);
	CHECK_EQ(cl.phase, PHASE_STOPPED);
	/* nothing moves any more */
	log_clear();
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 1));
	client_on_timer(&cl, now_ms + 100000);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(nev, 0);

	/* while collecting: no ERROR, no hook */
	setup(2, SELECT_USAGE, 0);
	start(0);
	rx_wire(0, m_usage(3));
	log_clear();
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(n_sent(-1, -1), 0);
	CHECK_EQ(n_ev(EV_HOOK, -1), 0);
	CHECK_EQ(n_ev(EV_DELETE, -1), 0);
	CHECK(all_closed());
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX);

	/* selected, before any PREPARE: the broker has nothing */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(3));
	log_clear();
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(n_sent(-1, -1), 0);
	CHECK_EQ(n_ev(EV_HOOK, -1), 0);
	CHECK(all_closed());

	/* a PREPARE went out: the broker may have a tunnel */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(3));
	rx_wire(0, m_cookie(3));
	log_clear();
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 1);
	CHECK_EQ(n_ev(EV_HOOK, -1), 0);
	CHECK(all_closed());

	/* also while fetching a new cookie after PREPAREs */
	setup(1, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(3));
	rx_wire(0, m_cookie(3));
	run_to(6000);
	CHECK_EQ(brk[0].state, BS_GET_COOKIE);
	log_clear();
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 1);
	CHECK(all_closed());

	/* a pending name lookup is cancelled */
	setup(2, SELECT_FIRST, 0);
	st.resolve_ret[1] = 0;
	start(0);
	CHECK_EQ(brk[1].state, BS_RESOLVING);
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(st.cancels, 1);
	CHECK(all_closed());
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX);

	/* stopped while waiting between rounds */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(10000);
	CHECK_EQ(cl.phase, PHASE_WAIT);
	client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX);
	CHECK(all_closed());
}

/* ---- name resolution and network errors --------------------------------- */

SUITE(client_net)
{
	/* no route: back-off 2, 4, 8, 16 s, then 30 s, each -25 %..+25 % */
	static const uint32_t rnds[] = { 0, UINT32_MAX, 12345, 0x80000000u };

	for (unsigned v = 0; v < sizeof(rnds) / sizeof(rnds[0]); v++) {
		unsigned fails = 0;
		int64_t attempt_after = 0;

		setup(1, SELECT_FIRST, 0);
		st.open_err = -ENETUNREACH;
		st.rnd = rnds[v];
		start(0);
		CHECK_EQ(brk[0].state, BS_REINIT);
		CHECK(brk[0].wan_down);
		while (fails < 12) {
			int64_t nominal = (int64_t)T_BACKOFF_MIN << (fails < 8 ? fails : 8);
			int64_t delay;
			unsigned opens = st.opens;

			if (nominal > T_BACKOFF_MAX)
				nominal = T_BACKOFF_MAX;
			delay = brk[0].retry_at - now_ms;
			CHECK(now_ms >= attempt_after);
			CHECK(delay >= nominal * 3 / 4 && delay <= nominal * 5 / 4);
			if (rnds[v] == 0)
				CHECK_EQ(delay, nominal * 3 / 4);
			attempt_after = brk[0].retry_at;
			fails++;
			/* run until the next attempt; nothing is sent meanwhile */
			log_clear();
			while (st.opens == opens && now_ms < 1000000)
				step();
			CHECK_EQ(n_sent(-1, -1), 0);
		}
		CHECK_EQ(brk[0].state, BS_REINIT);
	}
	/* the upper bound is reachable */
	setup(1, SELECT_FIRST, 0);
	st.open_err = -ENETUNREACH;
	st.rnd = 1000;
	start(0);
	CHECK_EQ(brk[0].retry_at, 2500);

	/* the network is back: a kick retries at once */
	setup(1, SELECT_FIRST, 0);
	st.open_err = -ENETUNREACH;
	start(0);
	run_to(7000); /* three attempts */
	CHECK_EQ(st.opens, 3);
	CHECK(brk[0].retry_at > 7000);
	st.open_err = 0;
	run_to(7100);
	log_clear();
	client_kick(&cl, now_ms);
	CHECK_EQ(st.opens, 4);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE && sent(0, PROTO_USAGE, 0)->t == 7100);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	rx_wire(0, m_usage(1));
	CHECK(!brk[0].wan_down);
	CHECK_EQ(brk[0].fail_streak, 0);

	/* ... also while pausing between rounds */
	setup(1, SELECT_FIRST, 0);
	st.open_err = -ENETUNREACH;
	start(0);
	run_to(11000);
	CHECK_EQ(cl.phase, PHASE_WAIT);
	st.open_err = 0;
	client_kick(&cl, now_ms);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE && sent(0, PROTO_USAGE, 0)->t == 11000);

	/* sending fails while collecting: the same back-off */
	setup(2, SELECT_USAGE, 0);
	start(0);
	st.send_err = -ENETUNREACH;
	run_to(2000);
	CHECK_EQ(brk[0].state, BS_REINIT);
	CHECK_EQ(brk[1].state, BS_REINIT);
	CHECK(all_closed());
	st.send_err = 0;

	/* a name that takes a while */
	setup(1, SELECT_FIRST, 0);
	st.resolve_ret[0] = 0;
	start(0);
	CHECK_EQ(brk[0].state, BS_RESOLVING);
	CHECK_EQ(st.opens, 0);
	CHECK_EQ(n_sent(-1, -1), 0);
	run_to(3000);
	{
		union sockaddr_inet a = { .in = { .sin_family = AF_INET,
						  .sin_addr.s_addr = htonl(0xC0000201u) } };

		client_on_resolved(&cl, 0, &a, 1, now_ms);
		CHECK_EQ(st.opens, 1);
		/* a late duplicate answer is ignored */
		client_on_resolved(&cl, 0, &a, 1, now_ms);
	}
	CHECK_EQ(st.opens, 1);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
	CHECK(sent(0, PROTO_USAGE, 0) != NONE && sent(0, PROTO_USAGE, 0)->t == 3000);
	CHECK_EQ(st.cancels, 1); /* the finished query's socket released */
	rx_wire(0, m_usage(1));
	CHECK_EQ(cl.selected, 0);

	/* ... that fails */
	setup(1, SELECT_FIRST, 0);
	st.resolve_ret[0] = 0;
	start(0);
	run_to(1000);
	client_on_resolved(&cl, 0, NULL, -ENOENT, now_ms);
	CHECK_EQ(brk[0].state, BS_REINIT);
	CHECK(brk[0].retry_at > now_ms);
	CHECK_EQ(st.cancels, 1);
	client_on_resolved(&cl, 0, NULL, 0, now_ms);
	CHECK_EQ(brk[0].state, BS_REINIT);

	/* ... that the resolver gives up on: its schedule is the only one
	 * (three nameservers, two rounds: 12 s), here in a round that a
	 * restarting broker holds open beyond its window */
	setup(2, SELECT_USAGE, 0);
	st.resolve_ret[0] = 0;
	start(0);
	client_on_sock_error(&cl, 1, 0, ECONNREFUSED, now_ms);
	run_to(3 * 2 * 2000 - 1);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(brk[0].state, BS_RESOLVING);
	CHECK_EQ(st.cancels, 0);
	CHECK_EQ(n_lines("name resolution timed out"), 0);
	client_on_resolved(&cl, 0, NULL, -ETIMEDOUT, now_ms);
	CHECK_EQ(brk[0].state, BS_REINIT);
	CHECK_EQ(st.cancels, 1);
	CHECK(brk[0].retry_at > now_ms);
	CHECK_EQ(n_lines("b0.example.net:8942: name resolution timed out"), 1);

	/* ... that never comes back: cancelled when the round ends */
	setup(2, SELECT_FIRST, 0);
	st.resolve_ret[0] = 0;
	start(0);
	run_to(T_SELECT_WINDOW - 1);
	CHECK_EQ(brk[0].state, BS_RESOLVING);
	CHECK_EQ(st.cancels, 0);
	run_to(T_SELECT_WINDOW);
	CHECK_EQ(st.cancels, 1);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK(all_closed());

	/* a resolver error at once */
	setup(1, SELECT_FIRST, 0);
	st.resolve_ret[0] = -EAGAIN;
	start(0);
	CHECK_EQ(brk[0].state, BS_REINIT);
	CHECK_EQ(st.opens, 0);
	CHECK(brk[0].retry_at > 0);
}

/* ---- every datagram in every state --------------------------------------- */

struct snap {
	const char *what;
	int target;
	struct client c;
	struct client_config cfg;
	struct stub st;
	int64_t now;
};

static void snap_take(struct snap *s, const char *what, int target)
{
	s->what = what;
	s->target = target;
	s->c = cl;
	s->cfg = ccfg;
	s->st = st;
	s->now = now_ms;
}

static void snap_restore(const struct snap *s)
{
	cl = s->c;
	ccfg = s->cfg;
	st = s->st;
	now_ms = s->now;
	log_clear();
}

static const struct proto_msg odd_msgs[] = {
	{ .type = 0x00 },
	{ .type = PROTO_COOKIE },
	{ .type = PROTO_COOKIE, .cookie = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF } },
	{ .type = PROTO_PREPARE, .uuid_len = 3, .uuid = "abc", .has_tunnel_id = true,
	  .tunnel_id = 5, .has_features = true, .features = 1 },
	{ .type = PROTO_ERROR },
	{ .type = PROTO_ERROR, .has_reason = true, .reason = 0xFF },
	{ .type = PROTO_ERROR, .has_reason = true, .reason = PROTO_ERR_BROKER_SHUTDOWN },
	{ .type = PROTO_TUNNEL },
	{ .type = PROTO_TUNNEL, .has_features = true, .features = 1 },
	{ .type = PROTO_TUNNEL, .tunnel_id = 100 },
	{ .type = PROTO_TUNNEL, .tunnel_id = 100, .has_features = true, .features = 1 },
	{ .type = PROTO_TUNNEL, .tunnel_id = UINT32_MAX, .has_features = true,
	  .features = UINT32_MAX },
	{ .type = PROTO_TUNNEL, .tunnel_id = 1, .has_features = true, .features = 0 },
	{ .type = PROTO_KEEPALIVE },
	{ .type = PROTO_KEEPALIVE, .seq = UINT32_MAX },
	{ .type = PROTO_PMTUD },
	{ .type = PROTO_PMTUD, .probe_len = PROTO_MIN_DGRAM },
	{ .type = PROTO_PMTUD, .probe_len = 1472 },
	{ .type = PROTO_PMTUD, .probe_len = UINT16_MAX },
	{ .type = PROTO_PMTUD_ACK },
	{ .type = PROTO_PMTUD_ACK, .value = PROTO_MIN_DGRAM },
	{ .type = PROTO_PMTUD_ACK, .value = 1306 },
	{ .type = PROTO_PMTUD_ACK, .value = 1472 },
	{ .type = PROTO_PMTUD_ACK, .value = UINT16_MAX },
	{ .type = PROTO_REL_ACK },
	{ .type = PROTO_REL_ACK, .seq = UINT16_MAX },
	{ .type = PROTO_REL_ACK, .seq = UINT32_MAX },
	{ .type = PROTO_PMTU_NTFY },
	{ .type = PROTO_PMTU_NTFY, .value = 1 },
	{ .type = PROTO_PMTU_NTFY, .value = 1400 },
	{ .type = PROTO_PMTU_NTFY, .value = UINT16_MAX },
	{ .type = PROTO_USAGE },
	{ .type = PROTO_USAGE, .usage = UINT16_MAX },
	{ .type = PROTO_LIMIT, .seq = 0, .limit_type = 1, .has_bandwidth = true,
	  .bandwidth = 1 },
	{ .type = 0x0B },
	{ .type = 0x7F },
	{ .type = 0x81 },
	{ .type = 0xFF },
};

/* The state broker b may be in after m arrived in state s; the set of
 * datagrams it may answer with is checked by the caller. */
static bool state_ok(const struct snap *s, const struct proto_msg *m,
		     enum broker_state after)
{
	const struct broker *b = &s->c.brokers[s->target];
	enum broker_state before = b->state;

	switch (before) {
	case BS_GET_USAGE:
		/* COOKIE alone means a broker older than USAGE only once it
		 * was asked twice */
		if (m->type == PROTO_COOKIE && b->at.usage_asks < 2)
			return after == before;
		if (m->type == PROTO_USAGE || m->type == PROTO_COOKIE)
			return after == BS_STANDBY ||
			       ((after == BS_GET_COOKIE || after == BS_GET_TUNNEL) &&
				s->cfg.strategy == SELECT_FIRST);
		break;
	case BS_GET_COOKIE:
		if (m->type == PROTO_COOKIE)
			return after == BS_GET_TUNNEL;
		break;
	case BS_GET_TUNNEL:
		if (m->type == PROTO_ERROR) /* refused: marked, left out */
			return after == BS_IDLE && brk[s->target].broken_since;
		if (m->type == PROTO_TUNNEL && m->tunnel_id != 0) {
			if (!m->has_features && b->at.prepares_total > 1)
				return after == BS_GET_COOKIE;
			return after == BS_KEEPALIVE;
		}
		break;
	case BS_KEEPALIVE:
		if (m->type == PROTO_ERROR)
			return after == BS_GET_USAGE && cl.phase == PHASE_COLLECT;
		break;
	default:
		break;
	}
	return after == before;
}

static void check_replies(const struct snap *s, const struct proto_msg *m)
{
	const struct broker *b = &s->c.brokers[s->target];
	int t = s->target;

	switch (b->state) {
	case BS_GET_USAGE:
		if (m->type == PROTO_USAGE || m->type == PROTO_COOKIE)
			CHECK(n_sent(t, -1) == n_sent(t, PROTO_COOKIE) &&
			      n_sent(t, -1) <= 1);
		else
			CHECK_EQ(n_sent(t, -1), 0);
		break;
	case BS_GET_COOKIE:
		CHECK_EQ(n_sent(t, -1), m->type == PROTO_COOKIE);
		CHECK_EQ(n_sent(t, PROTO_PREPARE), m->type == PROTO_COOKIE);
		break;
	case BS_GET_TUNNEL:
		if (m->type == PROTO_TUNNEL && m->tunnel_id != 0)
			break;
		CHECK_EQ(n_sent(t, -1), 0);
		break;
	case BS_KEEPALIVE:
		switch (m->type) {
		case PROTO_PMTUD:
			CHECK_EQ(n_sent(t, -1), 1);
			CHECK(sent(t, PROTO_PMTUD_ACK, 0) &&
			      sent(t, PROTO_PMTUD_ACK, 0)->m.value == m->probe_len);
			break;
		case PROTO_ERROR:
			CHECK(sent(t, PROTO_ERROR, 0) &&
			      sent(t, PROTO_ERROR, 0)->m.reason ==
				      PROTO_ERR_CLIENT_OTHER_REQUEST);
			break;
		case PROTO_PMTUD_ACK:
			/* the largest probe: results right away */
			CHECK_EQ(n_sent(t, -1), m->value == 1472);
			CHECK_EQ(n_sent(t, PROTO_PMTU_NTFY), m->value == 1472);
			break;
		default:
			CHECK_EQ(n_sent(t, -1), 0);
		}
		break;
	default:
		CHECK_EQ(n_sent(t, -1), 0);
	}
}

SUITE(client_states)
{
	static struct snap snaps[14];
	unsigned n = 0;

	setup(1, SELECT_FIRST, 1000);
	start(0);
	snap_take(&snaps[n++], "get-usage -g", 0);
	setup(2, SELECT_USAGE, 1000);
	start(0);
	snap_take(&snaps[n++], "get-usage -a", 1);
	rx_wire(0, m_usage(9));
	snap_take(&snaps[n++], "standby", 0);
	setup(2, SELECT_FIRST, 1000);
	start(0);
	rx_wire(0, m_usage(9));
	snap_take(&snaps[n++], "candidate", 1);
	snap_take(&snaps[n++], "get-cookie", 0);
	rx_wire(0, m_cookie(9));
	snap_take(&snaps[n++], "get-tunnel, 1 PREPARE", 0);
	run_to(2000);
	snap_take(&snaps[n++], "get-tunnel, 2 PREPAREs", 0);
	run_to(6000);
	snap_take(&snaps[n++], "get-cookie again", 0);
	rx_wire(0, m_cookie(10));
	rx_wire(0, m_tunnel(100, 1));
	snap_take(&snaps[n++], "keepalive", 0);
	snap_take(&snaps[n++], "idle", 1);
	setup(1, SELECT_FIRST, 0);
	st.open_err = -ENETUNREACH;
	start(0);
	snap_take(&snaps[n++], "reinit", 0);
	setup(1, SELECT_FIRST, 0);
	st.resolve_ret[0] = 0;
	start(0);
	snap_take(&snaps[n++], "resolving", 0);
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(10000);
	snap_take(&snaps[n++], "idle, pausing", 0);

	for (unsigned i = 0; i < n; i++) {
		const struct snap *s = &snaps[i];

		for (unsigned k = 0; k < sizeof(odd_msgs) / sizeof(odd_msgs[0]); k++) {
			const struct proto_msg *m = &odd_msgs[k];

			snap_restore(s);
			rx(s->target, *m);
			if (!CHECK(state_ok(s, m, brk[s->target].state)))
				printf("  in %s: type 0x%02x left it %s\n", s->what,
				       m->type, broker_state_name(brk[s->target].state));
			check_replies(s, m);
			for (unsigned j = 0; j < MAXB; j++) {
				CHECK_EQ(st.up[j], brk[j].tun.hook_up);
				CHECK_EQ(st.kernel[j], brk[j].tun.kernel_up);
				CHECK_EQ(st.sock[j], brk[j].slots);
			}
			/* and time goes on without trouble */
			run_to(now_ms + 120000);
			CHECK_EQ(st.ups - st.downs, brk[0].tun.hook_up + brk[1].tun.hook_up);
		}
		/* socket errors of every kind */
		{
			static const int errs[] = { ECONNREFUSED, ENETUNREACH, EHOSTUNREACH,
						    EINVAL, EMSGSIZE, EAGAIN, EPERM, 0 };

			for (unsigned k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
				snap_restore(s);
				client_on_sock_error(&cl, s->target, 0, errs[k], now_ms);
				run_to(now_ms + 60000);
				CHECK_EQ(st.ups - st.downs,
					 brk[0].tun.hook_up + brk[1].tun.hook_up);
				client_stop(&cl, PROTO_ERR_CLIENT_SHUTDOWN, now_ms);
				CHECK_EQ(st.ups, st.downs);
				CHECK(all_closed());
			}
		}
		/* reselect and kick from every state */
		snap_restore(s);
		client_reselect(&cl, now_ms);
		CHECK_EQ(st.ups, st.downs);
		CHECK_EQ(cl.phase, PHASE_COLLECT);
		snap_restore(s);
		client_kick(&cl, now_ms);
		CHECK(client_next_deadline(&cl) > now_ms);
		CHECK_EQ(st.ups - st.downs, brk[0].tun.hook_up + brk[1].tun.hook_up);
	}
}

/* A broker beat that starts 1 s after the tunnel is up is 4 s away from
 * our next keepalive: ours goes out on its own timer once, is then planned
 * for just after the broker's next one, and from there on rides on it, so
 * an idle tunnel wakes once per beat. */
SUITE(client_keepalive_align)
{
	const int64_t t0 = 1000;
	const struct ev *e;
	unsigned on_beat = 0;

	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	for (int k = 0; k < 12; k++) {
		run_to(t0 + 1000 + 5000 * k);
		rx_wire(0, m_seq(PROTO_KEEPALIVE, (uint32_t)k));
	}
	run_to(t0 + 60000);
	e = sent(0, PROTO_KEEPALIVE, 0);
	CHECK(e != NONE && e->t == t0 + 5000);
	for (unsigned k = 1; k < n_sent(0, PROTO_KEEPALIVE); k++) {
		e = sent(0, PROTO_KEEPALIVE, k);
		on_beat += e && (e->t - t0 - 1000) % 5000 == 0;
	}
	CHECK_EQ(on_beat, n_sent(0, PROTO_KEEPALIVE) - 1);
	CHECK(n_sent(0, PROTO_KEEPALIVE) >= 11);
	/* never more than 5 s apart */
	for (unsigned k = 1; k < n_sent(0, PROTO_KEEPALIVE); k++)
		CHECK(sent(0, PROTO_KEEPALIVE, k)->t - sent(0, PROTO_KEEPALIVE, k - 1)->t <= 5000);
}

/* ---- the log ------------------------------------------------------------ */

SUITE(client_log)
{
	/* down and up twice within a minute: every change is there */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(5000);
	rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
	run_to(5100);
	bring_up(0, 100, 1);
	run_to(10000);
	rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
	await_round(0); /* the second short tunnel in a row: held off 15 s */
	bring_up(0, 100, 1);
	CHECK(now_ms < 60000);
	/* identical lines, each one there */
	CHECK_EQ(n_lines("tunnel up: tunnel 7/100, session 7/100, l2tp0"), 3);
	CHECK_EQ(n_lines("broker closed the tunnel (reason 0x03)"), 2);
	CHECK_EQ(n_lines("selected"), 3);
	CHECK(!strcmp(find_line("tunnel up", 1), find_line("tunnel up", 2)));
	CHECK_EQ(n_lines("held back"), 0);

	/* one failing loop: its repeats are held back and counted, the
	 * count goes out once a minute and when the loop ends */
	setup(1, SELECT_FIRST, 0);
	start(0);
	{
		unsigned refusals = 0, told = 0, shown = 0;
		int64_t last = -LOOP_MINUTE;

		while (now_ms < 150000) {
			if (brk[0].state == BS_GET_USAGE)
				rx_wire(0, m_usage(1));
			if (brk[0].state == BS_GET_COOKIE)
				rx_wire(0, m_cookie(1));
			if (brk[0].state == BS_GET_TUNNEL) {
				rx_wire(0, m_error(-1));
				refusals++;
			}
			step();
		}
		if (brk[0].state != BS_GET_USAGE)
			run_to(client_next_deadline(&cl));
		bring_up(0, 100, 1);
		CHECK(refusals >= 10);
		for (unsigned i = 0; i < nlines; i++) {
			const char *held = strstr(lines[i], " repeats held back)");
			unsigned n = 0;

			if (!strstr(lines[i], "broker refused the tunnel"))
				continue;
			shown++;
			if (held) {
				while (held > lines[i] && held[-1] >= '0' && held[-1] <= '9')
					held--;
				n = (unsigned)atoi(held);
				CHECK(n > 0);
			}
			/* the first time in full; then once a minute at most,
			 * apart from the count at the end */
			CHECK_EQ(shown == 1, n == 0);
			if (i + 3 < nlines)
				CHECK(line_at[i] - last >= LOOP_MINUTE);
			last = line_at[i];
			/* a line a minute on is itself a repeat; the count at
			 * the end (at the time the tunnel came up) is not */
			told += n + (line_at[i] != line_at[nlines - 1]);
		}
		CHECK(shown >= 3 && shown <= 5);
		CHECK_EQ(told, refusals);
		/* the count comes before the tunnel up that ended the loop */
		CHECK(strstr(lines[nlines - 1], "tunnel up") != NULL);
		CHECK_EQ(n_lines("tunnel up"), 1);
	}
	lines_clear();
	rx_wire(0, m_error(PROTO_ERR_BROKER_TIMEOUT));
	CHECK_EQ(n_lines("broker closed the tunnel"), 1);
	CHECK_EQ(n_lines("held back"), 0);
}

/* ---- dead-broker detection against the broker's 5 s beat ----------------- */

static uint32_t loss_rng;

/* true with probability pct/100 (deterministic xorshift) */
static bool lost(unsigned pct)
{
	loss_rng ^= loss_rng << 13;
	loss_rng ^= loss_rng >> 17;
	loss_rng ^= loss_rng << 5;
	return loss_rng % 1000 < pct * 10;
}

/*
 * A live broker behind a lossy path: its keepalive every 5 s (+0..200 ms),
 * the first 3 s after the tunnel, each lost with pct %; each of our small
 * probes answered at once unless lost on the way out or back (pct % each).
 * Runs until `until` or until the client gives the broker up; returns the
 * time it did, or -1.
 */
static int64_t run_lossy(unsigned pct, int64_t until)
{
	int64_t beat = now_ms + 3000;

	while (now_ms < until) {
		unsigned mark;

		if (nev > MAX_EV - 64)
			log_clear();
		mark = nev;
		if (beat <= client_next_deadline(&cl)) {
			now_ms = beat;
			if (!lost(pct))
				rx_wire(0, m_seq(PROTO_KEEPALIVE, 0));
			beat += 5000 + (int64_t)(loss_rng % 201);
		} else {
			step();
		}
		if (brk[0].state != BS_KEEPALIVE)
			return now_ms;
		for (unsigned i = mark; i < nev; i++) {
			if (evlog[i].kind != EV_SEND || evlog[i].m.type != PROTO_PMTUD ||
			    evlog[i].len != PROTO_MIN_DGRAM)
				continue;
			if (!lost(pct) && !lost(pct))
				rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
		}
	}
	return -1;
}

SUITE(client_crash)
{
	const int64_t t0 = 1000;
	const int64_t day = 86400000;

	/* the broker beats, then crashes right after a keepalive: given up
	 * 10 s later, probes 0.8 s apart from 6 s on */
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	run_to(t0 + 3000);
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 0));
	for (int k = 1; k <= 4; k++) {
		run_to(t0 + 3000 + 5000 * k);
		rx_wire(0, m_seq(PROTO_KEEPALIVE, (uint32_t)k));
	}
	log_clear();
	{
		const int64_t crash = now_ms;

		while (brk[0].state == BS_KEEPALIVE && now_ms < crash + 60000)
			step();
		CHECK_EQ(now_ms - crash, 10000);
		CHECK(now_ms - crash <= 10000);
		CHECK_EQ(n_small_probes(0), SILENCE_PROBES);
		for (unsigned k = 0; k < SILENCE_PROBES; k++) {
			const struct ev *e = small_probe(0, k);

			CHECK_EQ(e->t - crash, T_SILENCE_BEAT + T_SILENCE_PROBE * (int64_t)k);
		}
		CHECK_EQ(last_sent(0, PROTO_ERROR)->m.reason, PROTO_ERR_CLIENT_TIMEOUT);
		CHECK_EQ(st.ups, st.downs);
		/* and at once a new round */
		CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, now_ms);
	}

	/* one keepalive lost and four probes: the fifth answer keeps it */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(5000);
	rx_wire(0, m_seq(PROTO_KEEPALIVE, 0));
	log_clear();
	run_to(5000 + T_SILENCE_BEAT + 4 * T_SILENCE_PROBE);
	CHECK_EQ(n_small_probes(0), 5);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
	run_to(now_ms + 1000);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(st.downs, 0);

	/* before the first keepalive the 15 s rule holds (the broker's
	 * first one may come 14 s after the tunnel) */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_to(14000);
	rx_wire(0, m_value(PROTO_PMTU_NTFY, 1400)); /* not a keepalive */
	run_to(14000 + T_SILENCE - 1);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);

	/* 5 % loss each way for three days: never given up (0.23 expected
	 * in 30 days, so 0.02 in three) */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	loss_rng = 0x2545F491u;
	CHECK_EQ(run_lossy(5, 3 * day), -1);
	CHECK_EQ(st.downs, 0);

	/* the same detector at 30 % loss each way does give up, early: the
	 * figures above are not met by a detector that never fires */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	loss_rng = 0x2545F491u;
	{
		int64_t t = run_lossy(30, day);

		CHECK(t > 0 && t < 3600000);
	}
}

/* ---- a broker restarting ------------------------------------------------- */

/* Runs to t while broker b's port is closed: every datagram sent to it
 * comes back as ICMP port unreachable; the random source changes on every
 * step so the jitter shows. */
static void run_refused(int b, int64_t t)
{
	while (client_next_deadline(&cl) <= t) {
		unsigned mark = nev;

		st.rnd = st.rnd * 1103515245u + 12345u;
		step();
		for (unsigned i = mark; i < nev; i++) {
			if (evlog[i].kind == EV_SEND && evlog[i].b == b) {
				client_on_sock_error(&cl, b, 0, ECONNREFUSED, now_ms);
				break;
			}
		}
	}
	if (t > now_ms)
		now_ms = t;
}

SUITE(client_restart)
{
	const int64_t t0 = 10000;
	int64_t lo = INT64_MAX, hi = 0;

	/* stopped gracefully: ERROR 0x02, then port unreachable for 30 s */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_fed(0, t0);
	log_clear();
	rx_wire(0, m_error(PROTO_ERR_BROKER_SHUTDOWN));
	CHECK_EQ(st.downs, 1);
	CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, t0);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	run_refused(0, t0 + 30000);
	CHECK(n_sent(0, PROTO_USAGE) >= 30000 / 250);
	for (unsigned k = 1; k < n_sent(0, PROTO_USAGE); k++) {
		int64_t gap = sent(0, PROTO_USAGE, k)->t - sent(0, PROTO_USAGE, k - 1)->t;

		lo = gap < lo ? gap : lo;
		hi = gap > hi ? gap : hi;
	}
	CHECK(lo >= T_REFUSED_RETRY * 3 / 4);
	CHECK(hi <= T_REFUSED_RETRY * 5 / 4);
	CHECK(hi <= 500);
	CHECK(hi > lo); /* jittered */
	/* no pause between rounds meanwhile */
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	CHECK_EQ(n_ev(EV_OPEN, 0), 1); /* one socket all along */
	/* the broker is back: the next question gets the answers */
	{
		const int64_t back = now_ms;

		run_to(client_next_deadline(&cl));
		CHECK(now_ms - back <= T_REFUSED_RETRY * 5 / 4);
		CHECK_EQ(last_sent(0, PROTO_USAGE)->t, now_ms);
		bring_up(0, 100, 1);
		CHECK_EQ(st.ups, 2);
		CHECK(now_ms - back <= 300);
	}

	/* refused for longer than a minute: back to the usual pace */
	setup(1, SELECT_FIRST, 0);
	start(0);
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	run_refused(0, T_REFUSED_FAST - 1);
	CHECK_EQ(cl.phase, PHASE_COLLECT);
	log_clear();
	run_refused(0, T_REFUSED_FAST + 30000);
	CHECK(n_sent(0, PROTO_USAGE) <= 30000 / T_RESEND + 2);
	CHECK(cl.rounds >= 2); /* rounds end and pause again */
	/* an answer ends the refusal; a later refusal starts a new minute */
	rx_wire(0, m_usage(1));
	CHECK_EQ(brk[0].refused_since, 0);

	/* a port unreachable while up starts the probes, and the round after
	 * the tunnel is given up is at the quick pace at once */
	setup(1, SELECT_FIRST, 0);
	start(0);
	bring_up(0, 100, 1);
	run_fed(0, 20000);
	log_clear();
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	run_refused(0, 20000 + SILENCE_PROBES * T_SILENCE_PROBE + 1000);
	CHECK_EQ(st.downs, 1);
	CHECK(n_sent(0, PROTO_USAGE) >= 1000 / 250);
}

/* ---- a refusing broker: on with the next answer of the round ------------ */

SUITE(client_next_candidate)
{
	/* the near broker refuses the PREPARE, the far one answers in
	 * 100 ms: its answers of the first round trip are enough */
	for (int s = SELECT_FIRST; s <= SELECT_USAGE; s++) {
		setup(2, (enum select_strategy)s, 0);
		start(0);
		run_to(5);
		rx_wire(0, m_usage(1));
		rx_wire(0, m_cookie(1));
		if (s == SELECT_USAGE) {
			CHECK_EQ(cl.selected, -1); /* waits for the other */
			run_to(100);
			rx_wire(1, m_usage(2));
			rx_wire(1, m_cookie(2));
			CHECK_EQ(cl.selected, 0);
			run_to(105);
		} else {
			CHECK_EQ(cl.selected, 0);
			CHECK_EQ(sent(0, PROTO_PREPARE, 0)->t, 5);
			run_to(10);
		}
		log_clear();
		rx_wire(0, m_error(-1));
		CHECK_EQ(brk[0].state, BS_IDLE);
		CHECK(brk[0].broken_since != 0);
		if (s == SELECT_FIRST) {
			CHECK_EQ(cl.phase, PHASE_COLLECT);
			CHECK_EQ(n_sent(1, -1), 0);
			run_to(100);
			rx_wire(1, m_usage(2));
			rx_wire(1, m_cookie(2));
		}
		CHECK_EQ(cl.selected, 1);
		CHECK_EQ(brk[1].state, BS_GET_TUNNEL);
		/* one datagram to the second broker: its PREPARE */
		CHECK_EQ(n_sent(1, -1), 1);
		CHECK_EQ(sent(1, PROTO_PREPARE, 0)->t, now_ms);
		run_to(now_ms + 100);
		rx_wire(1, m_tunnel(200, 1));
		CHECK_EQ(brk[1].state, BS_KEEPALIVE);
		CHECK(now_ms <= 250);
		CHECK_EQ(cl.rounds, 1);
		CHECK_EQ(st.opens, 2);
	}

	/* stale answers are not used: after the few seconds a refusal is
	 * the lone broker's, asked again later */
	setup(2, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(1));
	rx_wire(0, m_cookie(1));
	rx_wire(1, m_usage(1));
	run_to(T_CANDIDATES);
	CHECK_EQ(brk[1].state, BS_IDLE);
	CHECK(!st.sock[1]);
	rx_wire(0, m_error(-1));
	CHECK_EQ(cl.rounds, 1);
	CHECK_EQ(brk[0].state, BS_GET_TUNNEL); /* on its own: again, later */
	CHECK_EQ(brk[1].state, BS_IDLE);
	CHECK_EQ(st.opens, 2);

	/* a candidate that cannot be reached is let go, not retried while
	 * another broker is selected */
	setup(2, SELECT_FIRST, 0);
	start(0);
	rx_wire(0, m_usage(1));
	client_on_sock_error(&cl, 1, 0, ENETUNREACH, now_ms);
	CHECK_EQ(brk[1].state, BS_IDLE);
	CHECK(!st.sock[1]);
	run_to(4000);
	CHECK_EQ(st.opens, 2);
}

/* ---- an outage on our side ------------------------------------------------ */

/* A tunnel up at t0 with the broker's beat seen, run to t. */
static void up_and_beating(int64_t t0, int64_t t)
{
	setup(1, SELECT_FIRST, 0);
	start(0);
	run_to(t0);
	bring_up(0, 100, 1);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, 1472));
	run_fed(0, t);
	CHECK(brk[0].tun.beat_seen);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
}

SUITE(client_outage)
{
	const int64_t t0 = 1000, down = 20000;

	/* the link goes down for 40 s: nothing is sent, nothing given up;
	 * back up, a probe at once, the answer keeps the tunnel: no hook,
	 * no new kernel tunnel, one line */
	up_and_beating(t0, down);
	log_clear();
	lines_clear();
	client_link(&cl, false, now_ms);
	CHECK(brk[0].tun.paused);
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX); /* idle meanwhile */
	now_ms = down + 40000;
	CHECK_EQ(n_sent(0, -1), 0);
	client_link(&cl, true, now_ms);
	CHECK_EQ(n_small_probes(0), 1);
	CHECK_EQ(small_probe(0, 0)->t, down + 40000);
	run_to(now_ms + 5); /* the answer, one round trip later */
	rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
	CHECK(!brk[0].tun.paused && !brk[0].tun.resuming);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(st.ups, 1);
	CHECK_EQ(st.downs, 0);
	CHECK_EQ(st.creates, 1);
	CHECK_EQ(st.opens, 1);
	CHECK_EQ(n_sent(0, PROTO_ERROR), 0);
	CHECK_EQ(nlines, 1);
	CHECK(strstr(find_line("tunnel kept", 0), "outage of 40005 ms") != NULL);
	/* and the tunnel goes on as before: keepalives, detection */
	CHECK_EQ(last_sent(0, PROTO_KEEPALIVE)->t, now_ms);
	run_fed(0, now_ms + 60000);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	CHECK_EQ(st.downs, 0);

	/* ... no answer: after 5 probes 200 ms apart, 1 s, a new tunnel */
	up_and_beating(t0, down);
	client_link(&cl, false, now_ms);
	now_ms = down + 40000;
	log_clear();
	client_link(&cl, true, now_ms);
	run_to(down + 40000 + RESUME_PROBES * T_RESUME_PROBE - 1);
	CHECK_EQ(n_small_probes(0), RESUME_PROBES);
	for (unsigned k = 0; k < RESUME_PROBES; k++)
		CHECK_EQ(small_probe(0, k)->t, down + 40000 + T_RESUME_PROBE * (int64_t)k);
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	run_to(down + 40000 + RESUME_PROBES * T_RESUME_PROBE);
	CHECK_EQ(st.downs, 1);
	CHECK_EQ(last_sent(0, PROTO_ERROR)->t, now_ms);
	CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, now_ms);

	/* longer than the broker's 120 s: reconnect at once, no probing */
	up_and_beating(t0, down);
	client_link(&cl, false, now_ms);
	now_ms = down + T_BROKER_FORGETS;
	log_clear();
	lines_clear();
	client_link(&cl, true, now_ms);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK_EQ(st.downs, 1);
	CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, now_ms);
	CHECK_EQ(n_lines("outage longer than the broker keeps a tunnel"), 1);
	bring_up(0, 101, 1);
	CHECK_EQ(st.ups, 2);

	/* a link that flaps while down changes nothing; up without an
	 * outage changes nothing either */
	up_and_beating(t0, down);
	log_clear();
	client_link(&cl, true, now_ms);
	CHECK_EQ(n_small_probes(0), 0);
	CHECK(!brk[0].tun.resuming);
	client_link(&cl, false, now_ms);
	client_link(&cl, false, now_ms + 10);
	CHECK_EQ(brk[0].tun.paused_since, down);

	/* no link watch: sending fails with "network unreachable", for a
	 * new socket as well (connect finds no route) */
	up_and_beating(t0, down);
	log_clear();
	lines_clear();
	st.send_err = -ENETUNREACH;
	st.open_err = -ENETUNREACH;
	run_to(down + 5000); /* a keepalive fails */
	CHECK(brk[0].tun.paused);
	CHECK_EQ(brk[0].tun.paused_since, last_sent(0, PROTO_KEEPALIVE)->t);
	CHECK(!brk[0].tun.paused_by_link);
	CHECK_EQ(n_lines("cannot send: Network is unreachable; holding the tunnel"), 1);
	run_to(down + 100000);
	/* a probe a second to find out when it works, the tunnel held */
	CHECK_EQ(brk[0].state, BS_KEEPALIVE);
	{
		int64_t n = (down + 100000 - brk[0].tun.paused_since) / T_OUTAGE_PROBE;

		CHECK_EQ(n_small_probes(0), n);
		CHECK(n >= 90);
	}
	CHECK_EQ(st.downs, 0);
	CHECK_EQ(brk[0].slots, 1);
	st.send_err = 0;
	st.open_err = 0;
	log_clear();
	run_to(client_next_deadline(&cl));
	CHECK(now_ms <= down + 100000 + T_OUTAGE_PROBE);
	CHECK_EQ(n_small_probes(0), 1);
	CHECK(brk[0].tun.resuming);
	rx_wire(0, m_value(PROTO_PMTUD_ACK, PROTO_MIN_DGRAM));
	CHECK(!brk[0].tun.paused && !brk[0].tun.resuming);
	CHECK_EQ(st.downs, 0);
	CHECK_EQ(nlines, 2);

	/* ... for longer than the broker keeps a tunnel */
	up_and_beating(t0, down);
	st.send_err = -ENETDOWN;
	st.open_err = -ENETUNREACH;
	run_to(down + 5000);
	CHECK(brk[0].tun.paused);
	run_to(brk[0].tun.paused_since + T_BROKER_FORGETS + 500);
	CHECK_EQ(st.downs, 0);
	st.send_err = 0;
	st.open_err = 0;
	log_clear();
	run_to(client_next_deadline(&cl));
	CHECK_EQ(st.downs, 1);
	CHECK_EQ(sent(0, PROTO_USAGE, 0)->t, now_ms);

	/* the uplink came back with another address: the tunnel's socket
	 * still cannot send (its source is gone) while a new one can; the
	 * tunnel is given up at the first probe and a new one made */
	up_and_beating(t0, down);
	log_clear();
	lines_clear();
	st.stale_upto = st.opens;
	st.open_err = -ENETUNREACH;
	run_to(down + 5000); /* a keepalive fails: held */
	CHECK(brk[0].tun.paused);
	run_to(brk[0].tun.pause_next); /* no route for anyone yet */
	CHECK(brk[0].tun.paused);
	CHECK_EQ(st.downs, 0);
	{
		unsigned opens = n_ev(EV_OPEN, 0);
		int64_t at = brk[0].tun.pause_next;
		const struct ev *e;

		st.open_err = 0; /* renumbered: a new socket has a way out */
		run_to(at);
		CHECK_EQ(n_ev(EV_OPEN, 0), opens + 2); /* the test, the new round */
		e = find_ev(EV_OPEN, 0, opens);
		CHECK(e != NONE && e->slot == 1 && e->t == at);
		CHECK_EQ(find_ev(EV_CLOSE, 0, 0)->slot, 1);
		CHECK_EQ(st.downs, 1);
		CHECK_EQ(n_ev(EV_DELETE, 0), 1);
		CHECK_EQ(n_lines("our address is gone (a new socket can send): new tunnel"), 1);
		CHECK_EQ(n_sent(0, PROTO_ERROR), 0); /* it could not go */
		CHECK_EQ(brk[0].tun.paused, false);
		CHECK_EQ(brk[0].state, BS_GET_USAGE); /* from the new address */
		CHECK_EQ(last_sent(0, PROTO_USAGE)->t, at);
		st.stale_upto = 0;
		bring_up(0, 102, 1);
		CHECK_EQ(st.ups, 2);
	}

	/* ... but one whose probe only needed the second try (a route being
	 * replaced) goes on with the tunnel */
	up_and_beating(t0, down);
	log_clear();
	st.send_err = -ENETUNREACH;
	st.open_err = -ENETUNREACH;
	run_to(down + 5000);
	CHECK(brk[0].tun.paused);
	st.send_err = 0;
	st.open_err = 0;
	st.unreach_sends = 1;
	run_to(brk[0].tun.pause_next);
	CHECK_EQ(st.unreach_sends, 0);
	CHECK(brk[0].tun.resuming);
	CHECK_EQ(st.downs, 0);

	/* a port unreachable while paused is no reason to probe */
	up_and_beating(t0, down);
	client_link(&cl, false, now_ms);
	log_clear();
	client_on_sock_error(&cl, 0, 0, ECONNREFUSED, now_ms);
	CHECK_EQ(n_sent(0, -1), 0);
	CHECK_EQ(client_next_deadline(&cl), INT64_MAX);
}

/* ---- a broker that ends every tunnel right after making it --------------- */

SUITE(client_flap)
{
	int64_t made[64] = { 0 };
	unsigned n = 0;

	/* alone: it closes each tunnel 2 s after making it, for 40 min */
	setup(1, SELECT_FIRST, 0);
	start(0);
	while (now_ms < 2400000 && n < 64) {
		await_round(0);
		if (brk[0].state != BS_GET_USAGE)
			break;
		bring_up(0, 100, 1);
		made[n++] = now_ms;
		run_to(now_ms + 2000);
		rx_wire(0, m_error(PROTO_ERR_BROKER_OTHER_REQUEST));
	}
	/* at most 4 in any 10 minutes */
	for (unsigned i = FLAP_TUNNELS; i < n; i++)
		CHECK(made[i] - made[i - FLAP_TUNNELS] >= T_FLAP_WINDOW);
	CHECK(n >= 8 && n <= 4 * 4 + 1);
	/* the first one again at once, then 15 s, 30 s, 60 s held off,
	 * doubling (or the 10-minute window, if that is later) */
	CHECK_EQ(made[1] - made[0], 2000);
	CHECK_EQ(made[2] - made[1], 2000 + 15000);
	CHECK_EQ(made[3] - made[2], 2000 + 30000);
	CHECK_EQ(made[4], made[0] + T_FLAP_WINDOW);
	for (unsigned i = 5; i < n; i++)
		CHECK(made[i] - made[i - 1] >= 2000 + 60000);
	/* one line per step of the back-off */
	CHECK_EQ(n_lines("not using this broker for"), n - 1); /* all ends but the first */
	CHECK(strstr(find_line("not using this broker for", 0),
		     "tunnel lasted 2 s, 2 in a row that short; not using this broker for 15 s") != NULL);
	/* hooks paired all along */
	CHECK_EQ(st.ups, n);
	CHECK_EQ(st.downs, n);

	/* with another broker: that one is used meanwhile */
	setup(2, SELECT_USAGE, 0);
	start(0);
	for (unsigned k = 0; k < 2; k++) {
		await_round(0);
		rx_wire(1, m_usage(900));
		rx_wire(0, m_usage(1));
		CHECK_EQ(cl.selected, 0);
		rx_wire(0, m_cookie(1));
		rx_wire(0, m_tunnel(100, 1));
		run_to(now_ms + 2000);
		rx_wire(0, m_error(PROTO_ERR_BROKER_OTHER_REQUEST));
	}
	CHECK(brk[0].hold_until > now_ms);
	CHECK_EQ(brk[0].state, BS_IDLE);
	CHECK_EQ(brk[1].state, BS_GET_USAGE);
	rx_wire(1, m_usage(900));
	CHECK_EQ(cl.selected, 1);

	/* a tunnel that lived a minute ends the streak */
	setup(1, SELECT_FIRST, 0);
	start(0);
	for (unsigned k = 0; k < 3; k++) {
		await_round(0);
		bring_up(0, 100, 1);
		run_fed(0, now_ms + (k == 1 ? T_SHORT_LIVED : 2000));
		rx_wire(0, m_error(PROTO_ERR_BROKER_OTHER_REQUEST));
	}
	CHECK_EQ(brk[0].short_streak, 1);
	CHECK_EQ(brk[0].hold_until, 0);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);

	/* a broker that restarts (ERROR 0x02), or goes silent, is not one
	 * that closes its tunnels: back at once every time */
	setup(1, SELECT_FIRST, 0);
	start(0);
	for (unsigned k = 0; k < 6; k++) {
		CHECK_EQ(brk[0].state, BS_GET_USAGE);
		bring_up(0, 100, 1);
		run_to(now_ms + 2000);
		if (k % 2) {
			rx_wire(0, m_error(PROTO_ERR_BROKER_SHUTDOWN));
		} else {
			while (brk[0].state == BS_KEEPALIVE)
				step();
		}
	}
	CHECK_EQ(brk[0].short_streak, 0);
	CHECK_EQ(brk[0].hold_until, 0);
	CHECK_EQ(n_lines("not using this broker"), 0);

	/* and ends by our own request do not count */
	setup(1, SELECT_FIRST, 0);
	start(0);
	for (unsigned k = 0; k < 6; k++) {
		bring_up(0, 100, 1);
		run_to(now_ms + 1000);
		client_reselect(&cl, now_ms);
	}
	CHECK_EQ(brk[0].short_streak, 0);
	CHECK_EQ(brk[0].state, BS_GET_USAGE);
}
