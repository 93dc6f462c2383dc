/* SPDX-License-Identifier: MIT */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fmt.h"
#include "log.h"

#define NO_DEADLINE INT64_MAX
#define SILENCE_PROBE_LEN PROTO_MIN_DGRAM
/* L2TPv3 header and sublayer, Ethernet: the tunnel overhead
 * beyond IP and UDP (PROTOCOL.md 8a). */
#define L2TP_ETH_OVERHEAD (PROTO_TUNNEL_OVERHEAD - PROTO_PROBE_OVERHEAD)
#define LOOP_SELECT "selection" /* the log's key for rounds that find nobody */

static void client_step(struct client *c, int64_t now);
static void keepalive_timers(struct client *c, struct broker *b, int64_t now);
static void keepalive_due(struct client *c, struct broker *b, int64_t now);
static bool have_candidates(const struct client *c, int64_t now);
static void outage_start(struct client *c, struct broker *b, bool by_link,
			 int err, int64_t now);
static void sock_error(struct client *c, struct broker *b, int err,
		       int64_t now);
static void settle(struct client *c, int64_t now);

const char *broker_state_name(enum broker_state s)
{
	switch (s) {
	case BS_REINIT: return "reinit";
	case BS_RESOLVING: return "resolving";
	case BS_GET_USAGE: return "get-usage";
	case BS_STANDBY: return "standby";
	case BS_GET_COOKIE: return "get-cookie";
	case BS_GET_TUNNEL: return "get-tunnel";
	case BS_KEEPALIVE: return "keepalive";
	case BS_FAILED: return "failed";
	case BS_IDLE: return "idle";
	}
	return "?";
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static unsigned idx(const struct broker *b)
{
	return (unsigned)b->index;
}

/* A snapshot of b for the caller: to the hook for event, or, with event
 * NULL, to changed(). */
static void report(struct client *c, const struct broker *b, const char *event)
{
	struct client_event e = {
		.broker = idx(b),
		.name = b->name,
		.port = b->port,
		.state = b->state,
		.current = c->selected < 0 || c->selected == b->index,
		.addr = b->addr,
		.addr_known = b->slots || b->tun.up_since,
		.ids = b->tun.ids,
		.mtu = b->tun.mtu,
		.up_since = b->tun.up_since,
		.reconnects = b->reconnects,
		.last_error = b->last_error,
	};

	if (event)
		c->ops->hook(c->ctx, &e, event);
	else if (c->ops->changed)
		c->ops->changed(c->ctx, &e);
}

static void set_state(struct client *c, struct broker *b, enum broker_state s)
{
	if (b->state == s)
		return;
	log_debug("%s: %s -> %s", b->name, broker_state_name(b->state),
		  broker_state_name(s));
	b->state = s;
	report(c, b, NULL);
}

_Static_assert(BROKER_MAX_ADDRS <= 8, "slots are the bits of a uint8_t");

static void close_socket(struct client *c, struct broker *b)
{
	if (b->state == BS_RESOLVING)
		c->ops->resolve_cancel(c->ctx, idx(b));
	for (unsigned k = 0; k < BROKER_MAX_ADDRS; k++)
		if (b->slots & 1u << k)
			c->ops->close(c->ctx, idx(b), k);
	b->slots = 0;
	b->refused_pending = false;
}

/* While every address is asked: one that fails (no route, nobody on the
 * port) is let go as long as another one is still asked.  False when it
 * is the last, which then fails the way a single address does. */
static bool drop_slot(struct client *c, struct broker *b, unsigned slot)
{
	if (!(b->slots & ~(1u << slot)))
		return false;
	c->ops->close(c->ctx, idx(b), slot);
	b->slots &= (uint8_t)~(1u << slot);
	return true;
}

/* The address that answered first is the broker's from now on. */
static void adopt_slot(struct client *c, struct broker *b, unsigned slot)
{
	for (unsigned k = 0; k < BROKER_MAX_ADDRS; k++)
		if (k != slot && b->slots & 1u << k)
			c->ops->close(c->ctx, idx(b), k);
	if (slot != 0)
		c->ops->adopt(c->ctx, idx(b), slot);
	b->slots = 1;
	b->addr = b->addrs[slot];
	report(c, b, NULL);
}

/* Errors that mean "no way to the broker right now" rather than a
 * problem with the broker itself. */
static bool is_network_error(int err)
{
	switch (err) {
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENODEV:
	case ENXIO:
	case EINVAL:
	case EADDRNOTAVAIL:
	case EPERM:
	case EACCES:
	case ENOBUFS:
	case ENOMEM:
		return true;
	}
	return false;
}

/* +-25 %, so many routers behind one uplink do not retry in step. */
static int64_t jitter(struct client *c, int64_t delay)
{
	return delay * 3 / 4 + c->ops->random(c->ctx) % (uint32_t)(delay / 2 + 1);
}

static bool refusing(const struct broker *b, int64_t now)
{
	return b->refused_since && now - b->refused_since < T_REFUSED_FAST;
}

static void refused(struct broker *b, int64_t now)
{
	if (!b->refused_since)
		b->refused_since = now ? now : 1;
}

/* When to ask a broker that has not answered USAGE again. */
static int64_t usage_retry(struct client *c, struct broker *b, int64_t now)
{
	return now + (refusing(b, now) ? jitter(c, T_REFUSED_RETRY) : T_RESEND);
}

static void net_backoff(struct client *c, struct broker *b, int err,
			int64_t now)
{
	unsigned shift;

	close_socket(c, b);
	b->last_error = err;
	shift = b->fail_streak < 8 ? b->fail_streak : 8;
	b->fail_streak++;
	b->retry_at = now + jitter(c, min64((int64_t)T_BACKOFF_MIN << shift,
					    T_BACKOFF_MAX));
	if (c->phase == PHASE_ACTIVE && c->selected != b->index) {
		/* a candidate no more; the back-off counts at the next round */
		b->last_error = err;
		set_state(c, b, BS_IDLE);
		return;
	}
	if (!b->wan_down) {
		log_warn("%s: cannot reach broker: %s; retrying with back-off",
			 b->name, strerror(err));
		b->wan_down = true;
	}
	b->timer = b->retry_at;
	set_state(c, b, BS_REINIT);
}

/* Send errors that say there is no way out at all. */
static bool is_no_network(int err)
{
	return err == ENETUNREACH || err == ENETDOWN || err == EADDRNOTAVAIL;
}

static int send_slot(struct client *c, struct broker *b, unsigned slot,
		     const struct proto_msg *m)
{
	uint8_t buf[PROTO_MAX_DGRAM];
	ssize_t n;
	int r;

	n = proto_encode(buf, sizeof(buf), PROTO_FROM_CLIENT, m);
	if (n < 0) {
		log_err("%s: cannot encode %s: %s", b->name,
			proto_type_name(m->type), strerror((int)-n));
		return (int)n;
	}
	r = c->ops->send(c->ctx, idx(b), slot, buf, (size_t)n);
	if (r == -ECONNREFUSED) {
		if (drop_slot(c, b, slot))
			return r;
		/* That was a refusal the socket held: noted, and handled at
		 * the end of this event, when nothing else is under way. */
		b->refused_pending = true;
		r = c->ops->send(c->ctx, idx(b), slot, buf, (size_t)n);
	}
	if (r < 0 && b->state == BS_KEEPALIVE && is_no_network(-r))
		b->tun.unsendable = -r;
	return r;
}

static int send_msg(struct client *c, struct broker *b,
		    const struct proto_msg *m)
{
	return send_slot(c, b, 0, m);
}

/* Sends m; a network error moves the broker into back-off and returns
 * false, so callers stop touching the broker's timers. */
static bool send_or_backoff(struct client *c, struct broker *b,
			    const struct proto_msg *m, int64_t now)
{
	int r = send_msg(c, b, m);

	if (r == 0 || !is_network_error(-r))
		return true;
	if (c->selected == b->index)
		return true; /* the selected broker fails through its timers */
	net_backoff(c, b, -r, now);
	return false;
}

static void send_simple(struct client *c, struct broker *b, uint8_t type,
			int64_t now)
{
	struct proto_msg m = { .type = type };

	send_or_backoff(c, b, &m, now);
}

/* The usage question, and a cookie with it (the broker answers COOKIE on
 * any socket, as it does for the reference client), so that the broker
 * selected then needs one round trip to the tunnel; on every open slot. */
static void send_usage(struct client *c, struct broker *b, int64_t now)
{
	const struct proto_msg usage = { .type = PROTO_USAGE,
					 .has_features = true,
					 .features = b->cfg->features };
	const struct proto_msg cookie = { .type = PROTO_COOKIE };

	b->at.usage_asks++;
	b->at.cookie_asked = now;
	b->at.cookie_wanted = true;
	for (unsigned k = 0; k < BROKER_MAX_ADDRS; k++) {
		int r;

		if (!(b->slots & 1u << k))
			continue;
		r = send_slot(c, b, k, &usage);
		if (r == 0)
			r = send_slot(c, b, k, &cookie);
		/* sent, not a matter of the route, or let go already */
		if (r == 0 || !is_network_error(-r) || !(b->slots & 1u << k))
			continue;
		if (!drop_slot(c, b, k)) {
			net_backoff(c, b, -r, now);
			return;
		}
	}
}

static void send_error(struct client *c, struct broker *b, uint8_t reason)
{
	struct proto_msg m = { .type = PROTO_ERROR, .has_reason = true,
			       .reason = reason };

	(void)send_msg(c, b, &m);
}

static void send_keepalive(struct client *c, struct broker *b, int64_t now)
{
	struct proto_msg ka = { .type = PROTO_KEEPALIVE, .seq = b->tun.ka_seq++ };

	(void)send_msg(c, b, &ka);
	b->tun.ka_next = now + T_KEEPALIVE;
}

static void send_prepare(struct client *c, struct broker *b, int64_t now)
{
	struct proto_msg m = { .type = PROTO_PREPARE };
	size_t n = strlen(b->cfg->uuid);

	memcpy(m.cookie, b->at.cookie, sizeof(m.cookie));
	m.uuid_len = (uint8_t)n;
	memcpy(m.uuid, b->cfg->uuid, n);
	m.tunnel_id = b->cfg->tunnel_id;
	m.features = b->cfg->features;
	b->at.offered_features = m.features != 0;
	b->at.prepares++;
	b->at.prepares_total++;
	send_or_backoff(c, b, &m, now);
}

static void outage_clear(struct broker *b)
{
	b->tun.paused = false;
	b->tun.paused_by_link = false;
	b->tun.resuming = false;
	b->tun.paused_since = 0;
	b->tun.unsendable = 0;
}

/* Ends whatever exists with this broker: the broker hears ERROR(reason)
 * (0: say nothing) if it may hold a tunnel for us, the hook hears
 * session.down if it heard session.up, and the kernel objects go. */
static void broker_abandon(struct client *c, struct broker *b, uint8_t reason)
{
	/* After a cookie re-fetch PREPAREs from this port may still have
	 * created a tunnel, so GET_COOKIE counts as well. */
	bool broker_has_tunnel = b->state == BS_KEEPALIVE ||
				 ((b->state == BS_GET_TUNNEL ||
				   b->state == BS_GET_COOKIE) && b->at.prepares_total);

	if (reason && b->slots && broker_has_tunnel)
		send_error(c, b, reason);
	if (b->tun.hook_up) {
		report(c, b, "session.down");
		b->tun.hook_up = false;
	}
	if (b->tun.kernel_up) {
		c->ops->tunnel_delete(c->ctx, idx(b), &b->tun.ids);
		b->tun.kernel_up = false;
	}
	close_socket(c, b);
	memset(&b->tun, 0, sizeof(b->tun));
	b->at.establish_deadline = 0;
	set_state(c, b, BS_FAILED);
}

static void broker_fail(struct client *c, struct broker *b, uint8_t reason,
			int err, const char *why)
{
	log_loop(b->name, LOG_WARNING, "%s: %s%s%s", b->name, why,
		 err ? ": " : "", err ? strerror(err) : "");
	b->last_error = err;
	broker_abandon(c, b, reason);
}

/* Slots for the addresses that have none (all of them, at first).  The
 * first error if no slot is open then. */
static int open_slots(struct client *c, struct broker *b)
{
	int err = EADDRNOTAVAIL;

	for (unsigned k = 0; k < b->naddrs; k++) {
		int r;

		if (b->slots & 1u << k)
			continue;
		r = c->ops->open(c->ctx, idx(b), k, &b->addrs[k]);
		if (r < 0) {
			if (err == EADDRNOTAVAIL)
				err = -r;
			continue;
		}
		if (!b->slots)
			b->addr = b->addrs[k];
		b->slots |= (uint8_t)(1u << k);
	}
	return b->slots ? 0 : err;
}

/* USAGE to every address at once: of either family, the first that
 * answers is the broker's, and one that cannot be reached costs nothing. */
static void open_and_query(struct client *c, struct broker *b, int64_t now)
{
	int err = open_slots(c, b);

	if (err) {
		net_backoff(c, b, err, now);
		return;
	}
	b->timer = usage_retry(c, b, now);
	set_state(c, b, BS_GET_USAGE);
	send_usage(c, b, now);
}

static void take_addrs(struct broker *b, const union sockaddr_inet *addrs,
		       unsigned n)
{
	b->naddrs = n < BROKER_MAX_ADDRS ? n : BROKER_MAX_ADDRS;
	memcpy(b->addrs, addrs, sizeof(b->addrs[0]) * b->naddrs);
	for (unsigned k = 0; k < b->naddrs; k++)
		addr_set_port(&b->addrs[k], b->port);
}

/* A new attempt starts with a new socket: what the broker said on the old
 * one (its cookie is for that source) counts no more. */
static void attempt_reset(struct client *c, struct broker *b)
{
	close_socket(c, b);
	memset(&b->at, 0, sizeof(b->at));
	b->at.usage = UINT16_MAX;
}

static void broker_reinit(struct client *c, struct broker *b, int64_t now)
{
	union sockaddr_inet addrs[BROKER_MAX_ADDRS];
	int r;

	attempt_reset(c, b);
	r = c->ops->resolve(c->ctx, idx(b), b->host, addrs, BROKER_MAX_ADDRS);
	if (r > 0) {
		take_addrs(b, addrs, (unsigned)r);
		open_and_query(c, b, now);
	} else if (r == 0) {
		/* no timer of ours: the resolver ends with an answer or an
		 * error of its own */
		set_state(c, b, BS_RESOLVING);
	} else {
		net_backoff(c, b, -r, now);
	}
}

void client_on_resolved(struct client *c, unsigned broker,
			const union sockaddr_inet *addrs, int n, int64_t now)
{
	struct broker *b = &c->brokers[broker];

	if (b->state != BS_RESOLVING)
		return;
	c->ops->resolve_cancel(c->ctx, idx(b)); /* the query's socket is done with */
	b->state = BS_REINIT;
	if (n == -ETIMEDOUT)
		log_loop(b->name, LOG_WARNING, "%s: name resolution timed out",
			 b->name);
	if (n <= 0) {
		net_backoff(c, b, n < 0 ? -n : ENOENT, now);
	} else {
		take_addrs(b, addrs, (unsigned)n);
		open_and_query(c, b, now);
	}
	settle(c, now);
}

/* Back to the start of the handshake on a fresh socket (new source port),
 * so the broker sees a new endpoint. */
static int reopen(struct client *c, struct broker *b)
{
	int r;

	close_socket(c, b);
	r = c->ops->open(c->ctx, idx(b), 0, &b->addr);
	if (r < 0)
		return r;
	b->slots = 1;
	return 0;
}

static void start_cookie(struct client *c, struct broker *b, int64_t now)
{
	b->at.prepares = 0;
	b->at.cookie_at = 0;
	b->timer = now + T_RESEND;
	b->at.cookie_asked = now;
	b->at.cookie_wanted = true;
	set_state(c, b, BS_GET_COOKIE);
	send_simple(c, b, PROTO_COOKIE, now);
}

static void start_prepare(struct client *c, struct broker *b, int64_t now)
{
	b->at.prepares = 0;
	b->timer = now + T_RESEND;
	set_state(c, b, BS_GET_TUNNEL);
	send_prepare(c, b, now);
}

static void broker_select(struct client *c, struct broker *b, int64_t now)
{
	char at[ADDR_STRLEN] = "";

	/* which of the name's addresses, when it has several */
	if (b->naddrs > 1)
		(void)addr_format(&b->addr, true, at, sizeof(at));
	/* A loop line too: a broker that fails again and again is selected
	 * again and again; the end of the loop brings the count. */
	log_loop(b->name, LOG_INFO, "%s: selected (usage %u)%s%s", b->name,
		 b->at.usage, *at ? " at " : "", at);
	b->broken_since = now ? now : 1;
	b->at.establish_deadline = now + T_ESTABLISH;
	b->at.prepares_total = 0;
	b->at.redos = 0;
	b->at.prepare_refusals = 0;
	b->was_up = false;
	if (b->at.cookie_at && now - b->at.cookie_at < T_COOKIE_MAX_AGE) {
		start_prepare(c, b, now);
	} else if (b->at.cookie_wanted && now - b->at.cookie_asked < T_RESEND) {
		/* the answer to the one asked with USAGE is on its way */
		b->at.prepares = 0;
		b->timer = b->at.cookie_asked + T_RESEND;
		set_state(c, b, BS_GET_COOKIE);
	} else {
		start_cookie(c, b, now);
	}
}

/* Sends m until acknowledged; one at a time (LIMIT is the only one). */
static void send_reliable(struct client *c, struct broker *b,
			  struct proto_msg *m, int64_t now)
{
	m->seq = b->rel_seq++;
	b->tun.rel.msg = *m;
	b->tun.rel.tries = 1;
	b->tun.rel.next = now + T_REL_RETRY;
	b->tun.rel_pending = true;
	(void)send_msg(c, b, m);
}

/* IP + UDP header bytes to the broker: 28 over IPv4, 48 over IPv6. */
static unsigned ip_udp_overhead(const struct broker *b)
{
	return addr_ip_udp_overhead(&b->addr);
}

/* A packet of size bytes on the underlay carries a tunnel MTU of this. */
static int tunnel_mtu(const struct broker *b, unsigned size)
{
	return (int)size - (int)(ip_udp_overhead(b) + L2TP_ETH_OVERHEAD);
}

/* The MTU the interface should have, from our probes and the peer's value;
 * 0 if nothing is known yet. */
static int broker_wanted_mtu(const struct broker *b)
{
	int max = tunnel_mtu(b, 1500), mtu;

	if (!b->tun.pmtu && !b->tun.peer_mtu)
		return 0;
	mtu = b->tun.pmtu ? tunnel_mtu(b, b->tun.pmtu) : max;
	if (mtu > max)
		mtu = max;
	if (b->tun.peer_mtu && b->tun.peer_mtu < mtu)
		mtu = b->tun.peer_mtu;
	if (mtu < PROTO_MTU_FLOOR)
		mtu = PROTO_MTU_FLOOR;
	return mtu;
}

static void apply_mtu(struct client *c, struct broker *b)
{
	int want = broker_wanted_mtu(b);
	int r;

	if (!want || want == b->tun.mtu)
		return;
	r = c->ops->set_mtu(c->ctx, idx(b), &b->tun.ids, want);
	if (r < 0) {
		log_warn("%s: cannot set MTU %d on %s: %s", b->name, want,
			 b->cfg->ifname, strerror(-r));
		return;
	}
	log_info("%s: MTU %d", b->name, want);
	b->tun.mtu = want;
	report(c, b, "session.mtu-changed");
	report(c, b, NULL);
}

static void pmtu_burst(struct client *c, struct broker *b, int64_t now)
{
	struct proto_msg m = { .type = PROTO_PMTUD };

	b->tun.probe_max = 0;
	for (unsigned i = 0; i < PROTO_PROBE_COUNT; i++) {
		m.probe_len = (uint16_t)(proto_probe_sizes[i] - ip_udp_overhead(b));
		/* EMSGSIZE just means larger than the local MTU. */
		if (send_msg(c, b, &m) == 0)
			b->tun.probe_max = proto_probe_sizes[i];
	}
	b->tun.pmtu_next = now + T_PMTU_BURST;
}

static void pmtu_collect(struct client *c, struct broker *b, int64_t now)
{
	if (b->tun.probed)
		b->tun.pmtu = b->tun.probed;
	apply_mtu(c, b); /* also retries one that could not be set */
	if (b->tun.pmtu) {
		struct proto_msg m = { .type = PROTO_PMTU_NTFY,
				       .value = (uint16_t)tunnel_mtu(b, b->tun.pmtu) };
		(void)send_msg(c, b, &m);
	}
	b->tun.pmtu_collect = 0;
	b->tun.pmtu_next = now + b->tun.pmtu_interval;
	b->tun.pmtu_interval = min64(b->tun.pmtu_interval * 2, T_PMTU_MAX);
}

static void pmtu_start(struct client *c, struct broker *b, int64_t now)
{
	b->tun.probed = 0;
	b->tun.pmtu_collect = now + T_PMTU_COLLECT;
	pmtu_burst(c, b, now);
}

static void on_pmtud_ack(struct client *c, struct broker *b, uint16_t v,
			 int64_t now)
{
	unsigned size = (unsigned)v + ip_udp_overhead(b);
	bool ours = false;

	for (unsigned i = 0; i < PROTO_PROBE_COUNT; i++)
		ours |= proto_probe_sizes[i] == size;
	if (!ours)
		return; /* a liveness probe's ack, or a bogus size */
	if (size > b->tun.probed)
		b->tun.probed = (uint16_t)size;
	/* Probes beyond the local MTU never left: no need to wait for them. */
	if (b->tun.pmtu_collect && size >= b->tun.probe_max)
		pmtu_collect(c, b, now);
}

/* The selected broker has its tunnel, or the others' answers are stale. */
static void drop_candidates(struct client *c)
{
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *o = &c->brokers[i];

		if ((int)i == c->selected || o->state == BS_IDLE)
			continue;
		close_socket(c, o);
		set_state(c, o, BS_IDLE);
	}
	c->candidates_until = 0;
}

static void tunnel_established(struct client *c, struct broker *b,
			       uint32_t tunnel_id, uint32_t features, int64_t now)
{
	bool unique = features & PROTO_FEATURE_UNIQUE_SESSION_ID;
	int r;

	memset(&b->tun, 0, sizeof(b->tun));
	b->tun.ids.tunnel_id = b->cfg->tunnel_id;
	b->tun.ids.peer_tunnel_id = tunnel_id;
	b->tun.ids.session_id = unique ? b->cfg->tunnel_id : 1;
	b->tun.ids.peer_session_id = unique ? tunnel_id : 1;
	b->tun.last_rx = now;
	b->tun.ka_next = now + T_KEEPALIVE;
	b->tun.pmtu_interval = T_PMTU_FIRST;
	r = c->ops->tunnel_create(c->ctx, idx(b), &b->tun.ids);
	if (r < 0) {
		broker_fail(c, b, PROTO_ERR_CLIENT_FAILURE, -r,
			    "cannot create the kernel tunnel");
		return;
	}
	b->tun.kernel_up = true;
	drop_candidates(c);
	b->tun.up_since = now;
	b->up_at = now;
	b->was_up = true;
	b->closed_by_broker = false;
	b->made_at[b->made++ % FLAP_TUNNELS] = now;
	b->at.establish_deadline = 0;
	b->broken_since = 0;
	b->fail_streak = 0;
	/* The failing loop, if there was one, is over. */
	log_loop_end(b->name);
	log_loop_end(LOOP_SELECT);
	log_info("%s: tunnel up: tunnel %u/%u, session %u/%u, %s", b->name,
		 b->tun.ids.tunnel_id, b->tun.ids.peer_tunnel_id, b->tun.ids.session_id,
		 b->tun.ids.peer_session_id, b->cfg->ifname);
	set_state(c, b, BS_KEEPALIVE);
	report(c, b, "session.up");
	b->tun.hook_up = true;
	if (b->cfg->limit_kbps) {
		struct proto_msg lim = { .type = PROTO_LIMIT,
					 .limit_type = PROTO_LIMIT_BANDWIDTH_DOWN,
					 .has_bandwidth = true,
					 .bandwidth = b->cfg->limit_kbps };
		send_reliable(c, b, &lim, now);
	}
	pmtu_start(c, b, now);
}

static void on_tunnel(struct client *c, struct broker *b,
		      const struct proto_msg *m, int64_t now)
{
	uint32_t features = m->has_features ? m->features & b->cfg->features : 0;

	if (m->tunnel_id == 0) {
		log_warn("%s: TUNNEL with tunnel id 0 ignored", b->name);
		return;
	}
	if (features & PROTO_FEATURE_UNIQUE_SESSION_ID)
		b->unique_known = true;
	/*
	 * A repeated TUNNEL never carries features, so after more than one
	 * PREPARE a 4-byte TUNNEL may be a re-reply from a broker that did
	 * agree to unique session ids.  Guessing wrong leaves the data plane
	 * dead: use what this broker told before, or end that tunnel and ask
	 * again from a fresh port.
	 */
	if (!m->has_features && b->at.offered_features && b->at.prepares_total > 1) {
		int r;

		if (b->unique_known) {
			tunnel_established(c, b, m->tunnel_id,
					   PROTO_FEATURE_UNIQUE_SESSION_ID, now);
			return;
		}
		send_error(c, b, PROTO_ERR_CLIENT_FAILURE);
		if (b->at.redos == REDOS_MAX) {
			broker_fail(c, b, 0, 0, "no unambiguous TUNNEL reply");
			return;
		}
		log_info("%s: TUNNEL reply without features after %u PREPAREs"
			 " is ambiguous; starting over on a new port",
			 b->name, b->at.prepares_total);
		b->at.prepares_total = 0;
		r = reopen(c, b);
		if (r < 0) {
			broker_fail(c, b, 0, -r, "cannot reopen socket");
			return;
		}
		b->at.establish_deadline = now + T_ESTABLISH;
		if (b->at.redos++ == 0) {
			start_cookie(c, b, now);
		} else {
			/* the COOKIE request goes when the timer fires */
			b->at.prepares = 0;
			b->at.cookie_at = 0;
			b->at.cookie_wanted = false;
			b->timer = now + ((int64_t)T_REDO_BACKOFF << (b->at.redos - 2));
			set_state(c, b, BS_GET_COOKIE);
		}
		return;
	}
	tunnel_established(c, b, m->tunnel_id, features, now);
}

/* How long a silence has to be before the probes start. */
static int64_t silence_after(const struct broker *b)
{
	return b->tun.beat_seen ? T_SILENCE_BEAT : T_SILENCE;
}

/* Returns true if this ended an outage on our side. */
static bool reachable(struct broker *b, int64_t now)
{
	bool outage_over = false;

	b->tun.last_rx = now;
	b->tun.silence_probes = 0;
	b->at.refusals = 0;
	b->refused_since = 0;
	if (b->tun.paused || b->tun.resuming) {
		log_info("%s: tunnel kept: broker answered after an outage of %lld ms",
			 b->name, (long long)(now - b->tun.paused_since));
		outage_clear(b);
		outage_over = true;
	}
	if (b->wan_down) {
		log_info("%s: broker reachable again", b->name);
		b->wan_down = false;
	}
	b->fail_streak = 0;
	return outage_over;
}

void client_on_msg(struct client *c, unsigned broker, unsigned slot,
		   const struct proto_msg *m, int64_t now)
{
	struct broker *b = &c->brokers[broker];
	enum broker_state s = b->state;
	bool outage_over;

	if (slot >= BROKER_MAX_ADDRS || !(b->slots & 1u << slot) ||
	    s == BS_FAILED || s == BS_IDLE)
		return;
	if (b->slots != 1)
		adopt_slot(c, b, slot);
	outage_over = reachable(b, now);
	switch (m->type) {
	case PROTO_USAGE:
		if (s != BS_GET_USAGE && s != BS_STANDBY)
			break;
		b->at.usage = m->usage;
		set_state(c, b, BS_STANDBY);
		break;
	case PROTO_COOKIE:
		if (s != BS_GET_USAGE && s != BS_STANDBY && s != BS_GET_COOKIE)
			break;
		memcpy(b->at.cookie, m->cookie, sizeof(b->at.cookie));
		b->at.cookie_at = now ? now : 1;
		b->at.cookie_wanted = false;
		/* Only COOKIE and no USAGE after asking twice: a broker older
		 * than USAGE. */
		if (s == BS_GET_USAGE && b->at.usage_asks > 1)
			set_state(c, b, BS_STANDBY);
		else if (s == BS_GET_COOKIE)
			start_prepare(c, b, now);
		break;
	case PROTO_TUNNEL:
		if (s == BS_GET_TUNNEL)
			on_tunnel(c, b, m, now);
		break;
	case PROTO_ERROR:
		/* Right after a restart of the handshake the refusal is most
		 * likely the rate limit our own first tunnel started. */
		if (s == BS_GET_TUNNEL && have_candidates(c, now) && !b->at.redos) {
			log_loop(b->name, LOG_WARNING, "%s: broker refused the tunnel",
				 b->name);
			broker_abandon(c, b, 0);
		} else if (s == BS_GET_TUNNEL) {
			unsigned shift = b->at.prepare_refusals < 3 ? b->at.prepare_refusals : 3;

			log_loop(b->name, LOG_WARNING, "%s: broker refused the tunnel;"
				 " asking again with back-off", b->name);
			b->at.prepare_refusals++;
			b->at.prepares = 0; /* the cookie passed: refusals come after */
			b->timer = now + min64((int64_t)T_PREPARE_RETRY << shift,
					       T_PREPARE_RETRY_MAX);
		} else if (s == BS_KEEPALIVE) {
			log_loop(b->name, LOG_WARNING,
				 "%s: broker closed the tunnel (reason 0x%02x)",
				 b->name, m->reason);
			/* about to restart, most likely */
			if (m->has_reason && m->reason == PROTO_ERR_BROKER_SHUTDOWN)
				refused(b, now);
			else
				b->closed_by_broker = true;
			broker_abandon(c, b, PROTO_ERR_CLIENT_OTHER_REQUEST);
		}
		break;
	case PROTO_PMTUD:
		if (s == BS_KEEPALIVE) {
			struct proto_msg ack = { .type = PROTO_PMTUD_ACK,
						 .value = m->probe_len };
			(void)send_msg(c, b, &ack);
		}
		break;
	case PROTO_PMTUD_ACK:
		if (s == BS_KEEPALIVE)
			on_pmtud_ack(c, b, m->value, now);
		break;
	case PROTO_PMTU_NTFY:
		if (s == BS_KEEPALIVE && m->value != b->tun.peer_mtu) {
			b->tun.peer_mtu = m->value;
			apply_mtu(c, b);
		}
		break;
	case PROTO_REL_ACK:
		if (b->tun.rel_pending && b->tun.rel.msg.seq == m->seq)
			b->tun.rel_pending = false;
		break;
	case PROTO_KEEPALIVE:
		if (s == BS_KEEPALIVE)
			b->tun.beat_seen = true;
		break;
	default:
		break;
	}
	/* Awake anyway: a keepalive due soon goes now, which saves a wakeup
	 * of its own (an idle tunnel then wakes once per broker beat). */
	if (b->state == BS_KEEPALIVE && b->tun.ka_next - now <= T_KA_EARLY)
		send_keepalive(c, b, now);
	/* what fell due during the outage goes now */
	if (b->state == BS_KEEPALIVE && outage_over)
		keepalive_timers(c, b, now);
	if (b->state == BS_KEEPALIVE && b->tun.unsendable)
		outage_start(c, b, false, b->tun.unsendable, now);
	settle(c, now);
}

void client_on_sock_error(struct client *c, unsigned broker, unsigned slot,
			  int err, int64_t now)
{
	struct broker *b = &c->brokers[broker];

	if (slot >= BROKER_MAX_ADDRS || !(b->slots & 1u << slot))
		return;
	/* One address of several that cannot be used: the others go on. */
	if ((err == ECONNREFUSED || is_network_error(err)) && drop_slot(c, b, slot))
		return;
	sock_error(c, b, err, now);
	settle(c, now);
}

/* The end of an event: the refusals its sends found are handled now that
 * nothing else is under way (each broker's once; one found meanwhile by
 * a broker already passed waits for the next event). */
static void settle(struct client *c, int64_t now)
{
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		if (b->refused_pending) {
			b->refused_pending = false;
			sock_error(c, b, ECONNREFUSED, now);
		}
	}
	client_step(c, now);
}

static void sock_error(struct client *c, struct broker *b, int err,
		       int64_t now)
{
	if (!b->slots)
		return;
	if (err == ECONNREFUSED) {
		b->at.refusals++; /* ICMP port unreachable: the broker may be gone */
		refused(b, now);
	}
	if (b->state == BS_KEEPALIVE) {
		/* Evidence, not proof: a passing ICMP error must not end a
		 * working tunnel, unanswered probes do.  Start them now
		 * (unless our own side is out, or just back). */
		if (b->tun.silence_probes == 0 && !b->tun.paused && !b->tun.resuming) {
			b->tun.last_rx = min64(b->tun.last_rx, now - silence_after(b));
			keepalive_timers(c, b, now);
		}
	} else if (err == ECONNREFUSED) {
		if ((b->state == BS_GET_COOKIE || b->state == BS_GET_TUNNEL) &&
		    b->at.refusals >= REFUSALS_TO_FAIL) {
			broker_fail(c, b, 0, err, "broker port unreachable");
			b->broken_since = 0; /* restarting: asked again soon */
		} else if (b->state == BS_GET_USAGE) {
			/* A restarting broker: ask again soon rather than in 2 s. */
			b->timer = min64(b->timer, usage_retry(c, b, now));
		}
	} else if (is_network_error(err)) {
		if (c->selected == b->index && b->state >= BS_GET_COOKIE) {
			broker_fail(c, b, 0, err, "network error");
			b->fail_streak++;
			b->retry_at = now + T_BACKOFF_MIN;
		} else {
			net_backoff(c, b, err, now);
		}
	}
}

static bool send_probe(struct client *c, struct broker *b)
{
	struct proto_msg probe = { .type = PROTO_PMTUD,
				   .probe_len = SILENCE_PROBE_LEN };

	return send_msg(c, b, &probe) == 0;
}

static void outage_start(struct client *c, struct broker *b, bool by_link,
			 int err, int64_t now)
{
	b->tun.unsendable = 0;
	if (b->tun.paused) {
		b->tun.paused_by_link |= by_link;
		return;
	}
	b->tun.paused = true;
	b->tun.paused_by_link = by_link;
	b->tun.resuming = false;
	b->tun.paused_since = b->tun.paused_since ? b->tun.paused_since : now;
	b->tun.pause_next = now + T_OUTAGE_PROBE;
	b->tun.silence_probes = 0;
	if (!by_link) /* a link event has its own line */
		log_warn("%s: cannot send: %s; holding the tunnel", b->name,
			 strerror(err));
	(void)c;
}

static void outage_end(struct client *c, struct broker *b, int64_t now)
{
	b->tun.paused = false;
	b->tun.paused_by_link = false;
	if (now - b->tun.paused_since >= T_BROKER_FORGETS) {
		b->tun.paused_since = 0;
		broker_fail(c, b, PROTO_ERR_CLIENT_TIMEOUT, 0,
			    "outage longer than the broker keeps a tunnel");
		return;
	}
	b->tun.resuming = true;
	b->tun.resume_probes = 0;
	b->tun.pause_next = now;
}

/*
 * The tunnel's socket cannot send: can a new one?  The socket keeps the
 * source address it was connected from, so after the uplink came back with
 * another address (PPP or DHCP renumbering) it can never send again, while
 * a new socket is connected from the new address.  Slot 1 is free outside
 * the USAGE question.
 */
static bool new_socket_has_route(struct client *c, struct broker *b)
{
	if (c->ops->open(c->ctx, idx(b), 1, &b->addr) < 0)
		return false;
	c->ops->close(c->ctx, idx(b), 1);
	return true;
}

/* Paused or probing after an outage: true if that is all there is to do. */
static bool outage_timers(struct client *c, struct broker *b, int64_t now)
{
	if (b->tun.paused) {
		if (b->tun.paused_by_link || now < b->tun.pause_next)
			return true;
		b->tun.pause_next = now + T_OUTAGE_PROBE;
		if (!send_probe(c, b)) {
			b->tun.unsendable = 0;
			if (!new_socket_has_route(c, b))
				return true; /* no way out for anyone */
			/* one more try, so that a route that was only being
			 * replaced does not cost the tunnel */
			if (!send_probe(c, b)) {
				b->tun.unsendable = 0;
				broker_fail(c, b, 0, 0, "our address is gone (a new"
					    " socket can send): new tunnel");
				return true;
			}
		}
		outage_end(c, b, now);
		if (!b->tun.resuming)
			return true;
		b->tun.resume_probes = 1;
		b->tun.pause_next = now + T_RESUME_PROBE;
		return true;
	}
	if (!b->tun.resuming)
		return false;
	if (now < b->tun.pause_next)
		return true;
	if (b->tun.resume_probes == RESUME_PROBES) {
		b->tun.resuming = false;
		b->tun.paused_since = 0;
		broker_fail(c, b, PROTO_ERR_CLIENT_TIMEOUT, 0,
			    "no answer after the outage");
		return true;
	}
	(void)send_probe(c, b);
	b->tun.unsendable = 0;
	b->tun.resume_probes++;
	b->tun.pause_next = now + T_RESUME_PROBE;
	return true;
}

static void keepalive_timers(struct client *c, struct broker *b, int64_t now)
{
	if (outage_timers(c, b, now))
		return;
	keepalive_due(c, b, now);
	if (b->state == BS_KEEPALIVE && b->tun.unsendable)
		outage_start(c, b, false, b->tun.unsendable, now);
}

static void keepalive_due(struct client *c, struct broker *b, int64_t now)
{
	if (now - b->tun.last_rx >= T_LIVENESS) {
		broker_fail(c, b, PROTO_ERR_CLIENT_TIMEOUT, 0,
			    "nothing heard from the broker for 60 s");
		return;
	}
	if (now - b->tun.last_rx >= silence_after(b)) {
		if (b->tun.silence_probes == 0)
			b->tun.silence_next = now;
		if (now >= b->tun.silence_next) {
			if (b->tun.silence_probes == SILENCE_PROBES) {
				broker_fail(c, b, PROTO_ERR_CLIENT_TIMEOUT, 0,
					    "broker stopped answering");
				return;
			}
			struct proto_msg probe = { .type = PROTO_PMTUD,
						   .probe_len = SILENCE_PROBE_LEN };
			(void)send_msg(c, b, &probe);
			b->tun.silence_probes++;
			b->tun.silence_next = now + T_SILENCE_PROBE;
		}
	}
	if (now >= b->tun.ka_next) {
		send_keepalive(c, b, now);
		/* The broker keeps its own 5 s beat: plan ours for just after
		 * its next one, so the receive wakeup sends it too. */
		if (now - b->tun.last_rx < T_KEEPALIVE)
			b->tun.ka_next = min64(b->tun.ka_next,
					   b->tun.last_rx + T_KEEPALIVE + T_KA_ALIGN);
	}
	if (b->tun.pmtu_collect && now >= b->tun.pmtu_collect)
		pmtu_collect(c, b, now);
	else if (now >= b->tun.pmtu_next)
		b->tun.pmtu_collect ? pmtu_burst(c, b, now) : pmtu_start(c, b, now);
	if (b->tun.rel_pending && now >= b->tun.rel.next) {
		if (b->tun.rel.tries >= REL_TRIES) {
			log_warn("%s: %s seq %u never acknowledged; dropped",
				 b->name, proto_type_name(b->tun.rel.msg.type),
				 b->tun.rel.msg.seq);
			b->tun.rel_pending = false;
		} else {
			b->tun.rel.tries++;
			b->tun.rel.next = now + T_REL_RETRY;
			(void)send_msg(c, b, &b->tun.rel.msg);
		}
	}
}

static int64_t keepalive_deadline(const struct broker *b)
{
	int64_t d = min64(b->tun.last_rx + T_LIVENESS, b->tun.ka_next);

	if (b->tun.paused && b->tun.paused_by_link)
		return NO_DEADLINE; /* until the link is back */
	if (b->tun.paused || b->tun.resuming)
		return b->tun.pause_next;

	if (b->tun.silence_probes)
		d = min64(d, b->tun.silence_next);
	else
		d = min64(d, b->tun.last_rx + silence_after(b));
	d = min64(d, b->tun.pmtu_collect ? min64(b->tun.pmtu_collect, b->tun.pmtu_next)
				     : b->tun.pmtu_next);
	if (b->tun.rel_pending)
		d = min64(d, b->tun.rel.next);
	return d;
}

static int64_t broker_deadline(const struct broker *b)
{
	switch (b->state) {
	case BS_REINIT:
	case BS_GET_USAGE:
		return b->timer;
	case BS_GET_COOKIE:
	case BS_GET_TUNNEL:
		return min64(b->timer, b->at.establish_deadline);
	case BS_KEEPALIVE:
		return keepalive_deadline(b);
	default:
		return NO_DEADLINE;
	}
}

static void broker_on_timer(struct client *c, struct broker *b, int64_t now)
{
	switch (b->state) {
	case BS_REINIT:
		if (now >= b->timer)
			broker_reinit(c, b, now);
		break;
	case BS_GET_USAGE:
		if (now < b->timer)
			break;
		/* the addresses let go may work by now */
		(void)open_slots(c, b);
		b->timer = usage_retry(c, b, now);
		send_usage(c, b, now);
		break;
	case BS_GET_COOKIE:
	case BS_GET_TUNNEL:
		if (now >= b->at.establish_deadline) {
			broker_fail(c, b, PROTO_ERR_CLIENT_TIMEOUT, 0,
				    "no tunnel within 15 s");
			/* refusals only: busy or rate-limited, not broken */
			if (b->at.prepare_refusals)
				b->broken_since = 0;
			break;
		}
		if (now < b->timer)
			break;
		b->timer = now + T_RESEND;
		if (b->state == BS_GET_COOKIE) {
			b->at.cookie_asked = now;
			b->at.cookie_wanted = true;
			send_simple(c, b, PROTO_COOKIE, now);
		} else if (b->at.prepares >= PREPARES_PER_COOKIE ||
			   now - b->at.cookie_at >= T_COOKIE_MAX_AGE) {
			/* The cookie may have been rejected silently. */
			start_cookie(c, b, now);
		} else {
			send_prepare(c, b, now);
		}
		break;
	case BS_KEEPALIVE:
		keepalive_timers(c, b, now);
		break;
	default:
		break;
	}
}

static bool is_broken(const struct broker *b)
{
	return b->broken_since != 0;
}

static int choose(struct client *c, int64_t now)
{
	unsigned eligible = 0, ready = 0;
	int64_t hold = 0;
	int pick = -1;

	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		if (b->state == BS_IDLE)
			continue;
		eligible++;
		if (refusing(b, now) && b->refused_since + T_REFUSED_FAST > hold)
			hold = b->refused_since + T_REFUSED_FAST;
		if (b->state != BS_STANDBY)
			continue;
		ready++;
		switch (c->cfg->strategy) {
		case SELECT_FIRST:
			if (pick < 0)
				pick = (int)i;
			break;
		case SELECT_USAGE:
			if (pick < 0 || b->at.usage < c->brokers[pick].at.usage)
				pick = (int)i;
			break;
		case SELECT_RANDOM:
			/* reservoir sampling: uniform over the ready ones */
			if (c->ops->random(c->ctx) % ready == 0)
				pick = (int)i;
			break;
		}
	}
	if (c->cfg->strategy == SELECT_FIRST && pick >= 0)
		return pick;
	if (ready < eligible && now < c->phase_deadline)
		return -2; /* keep collecting */
	/* Nobody ready, but one is restarting: keep asking it beyond the
	 * window rather than pausing. */
	if (ready == 0 && hold > now) {
		c->phase_deadline = hold;
		return -2;
	}
	return pick;
}

static bool is_held(const struct broker *b, int64_t now)
{
	return b->hold_until > now;
}

/* The selected broker's tunnel ended, not on our request. */
static void tunnel_ended(struct broker *b, int64_t now)
{
	int64_t lived = now - b->up_at, hold = 0;
	unsigned shift;

	if (lived >= T_SHORT_LIVED) {
		b->short_streak = 0;
		return;
	}
	if (!b->closed_by_broker)
		return; /* a restart, a crash, our network: not its habit */
	b->short_streak++;
	if (b->short_streak >= 2) {
		shift = b->short_streak - 2 < 6 ? b->short_streak - 2 : 6;
		hold = now + min64((int64_t)T_FLAP_BASE << shift, T_FLAP_MAX);
	}
	/* the oldest of the last FLAP_TUNNELS */
	if (b->made >= FLAP_TUNNELS &&
	    b->made_at[b->made % FLAP_TUNNELS] + T_FLAP_WINDOW > hold)
		hold = b->made_at[b->made % FLAP_TUNNELS] + T_FLAP_WINDOW;
	if (hold <= now)
		return;
	b->hold_until = hold;
	log_warn("%s: tunnel lasted %lld s, %u in a row that short; not using"
		 " this broker for %lld s", b->name, (long long)(lived / 1000),
		 b->short_streak, (long long)((hold - now + 999) / 1000));
}

static void start_round(struct client *c, int64_t now)
{
	c->rounds++;
	c->selected = -1;
	c->candidates_until = 0;
	c->phase = PHASE_COLLECT;
	c->phase_deadline = now + T_SELECT_WINDOW;
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		if (is_broken(b) && now - b->broken_since >= T_BROKEN)
			b->broken_since = 0;
		close_socket(c, b);
		if (is_broken(b) || is_held(b, now)) {
			set_state(c, b, BS_IDLE);
			continue;
		}
		b->timer = b->retry_at > now ? b->retry_at : now;
		set_state(c, b, BS_REINIT);
	}
	for (unsigned i = 0; i < c->nbrokers; i++)
		broker_on_timer(c, &c->brokers[i], now);
}

static bool have_candidates(const struct client *c, int64_t now)
{
	if (!c->candidates_until || now >= c->candidates_until)
		return false;
	for (unsigned i = 0; i < c->nbrokers; i++)
		if ((int)i != c->selected && c->brokers[i].state != BS_IDLE)
			return true;
	return false;
}

/* 5 s, or, when every broker is held off, until the first may be used. */
static int64_t next_round_wait(const struct client *c, int64_t now)
{
	int64_t first = NO_DEADLINE;

	for (unsigned i = 0; i < c->nbrokers; i++) {
		const struct broker *b = &c->brokers[i];

		if (!is_held(b, now))
			return T_NO_BROKER;
		first = min64(first, b->hold_until);
	}
	return first - now > T_NO_BROKER ? first - now : T_NO_BROKER;
}

static void client_step(struct client *c, int64_t now)
{
	for (unsigned guard = 0; guard < 4; guard++) {
		switch (c->phase) {
		case PHASE_STOPPED:
			return;
		case PHASE_COLLECT: {
			int pick = choose(c, now);

			if (pick == -2)
				return;
			if (pick < 0) {
				int64_t wait = next_round_wait(c, now);

				log_loop(LOOP_SELECT, LOG_WARNING,
					 "no broker available; next round in %lld s",
					 (long long)((wait + 999) / 1000));
				for (unsigned i = 0; i < c->nbrokers; i++) {
					close_socket(c, &c->brokers[i]);
					c->brokers[i].broken_since = 0;
					set_state(c, &c->brokers[i], BS_IDLE);
				}
				c->phase = PHASE_WAIT;
				c->phase_deadline = now + wait;
				return;
			}
			c->selected = pick;
			c->phase = PHASE_ACTIVE;
			/* Those that answered, or still may within the
			 * window, stay ready. */
			for (unsigned i = 0; i < c->nbrokers; i++) {
				struct broker *o = &c->brokers[i];

				if ((int)i == pick || o->state == BS_STANDBY ||
				    (o->state == BS_GET_USAGE && now < c->phase_deadline))
					continue;
				close_socket(c, o);
				set_state(c, o, BS_IDLE);
			}
			c->candidates_until = now + T_CANDIDATES;
			broker_select(c, &c->brokers[pick], now);
			continue;
		}
		case PHASE_ACTIVE: {
			struct broker *b = &c->brokers[c->selected];

			if (b->state != BS_FAILED)
				return;
			b->reconnects++;
			if (b->was_up) {
				b->was_up = false;
				tunnel_ended(b, now);
			}
			if (have_candidates(c, now)) {
				/* On with the next one of this round. */
				set_state(c, b, BS_IDLE);
				c->selected = -1;
				c->phase = PHASE_COLLECT;
				c->phase_deadline = c->candidates_until;
				c->candidates_until = 0;
				continue;
			}
			start_round(c, now);
			continue;
		}
		case PHASE_WAIT:
			if (now < c->phase_deadline)
				return;
			start_round(c, now);
			continue;
		}
	}
}

void client_init(struct client *c, const struct client_config *cfg,
		 const struct client_ops *ops, void *ctx,
		 const struct client_broker *brokers, unsigned n)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->ops = ops;
	c->ctx = ctx;
	c->nbrokers = n < CLIENT_MAX_BROKERS ? n : CLIENT_MAX_BROKERS;
	c->selected = -1;
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		fmt_snprintf(b->host, sizeof(b->host), "%s", brokers[i].host);
		b->port = brokers[i].port;
		fmt_snprintf(b->name, sizeof(b->name),
			     strchr(b->host, ':') ? "[%s]:%u" : "%s:%u", b->host, b->port);
		b->index = (int)i;
		b->cfg = cfg;
		b->state = BS_IDLE;
		b->at.usage = UINT16_MAX;
	}
}

void client_start(struct client *c, int64_t now)
{
	start_round(c, now);
	settle(c, now);
}

void client_on_timer(struct client *c, int64_t now)
{
	/* First the round: at the end of the collection window, brokers that
	 * are about to be dropped need no more resends. */
	client_step(c, now);
	if (c->phase == PHASE_ACTIVE && c->candidates_until &&
	    now >= c->candidates_until)
		drop_candidates(c);
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		if (broker_deadline(b) <= now)
			broker_on_timer(c, b, now);
	}
	settle(c, now);
}

int64_t client_next_deadline(const struct client *c)
{
	int64_t d = NO_DEADLINE;

	if (c->phase == PHASE_STOPPED)
		return d;
	if (c->phase == PHASE_COLLECT || c->phase == PHASE_WAIT)
		d = c->phase_deadline;
	if (c->phase == PHASE_ACTIVE && c->candidates_until)
		d = c->candidates_until;
	for (unsigned i = 0; i < c->nbrokers; i++)
		d = min64(d, broker_deadline(&c->brokers[i]));
	return d;
}

void client_stop(struct client *c, uint8_t reason, int64_t now)
{
	(void)now;
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		log_loop_end(b->name);

		if (b->state == BS_KEEPALIVE || b->state == BS_GET_TUNNEL ||
		    b->state == BS_GET_COOKIE || b->tun.kernel_up || b->tun.hook_up)
			broker_abandon(c, b, reason);
		close_socket(c, b);
		set_state(c, b, BS_IDLE);
	}
	log_loop_end(LOOP_SELECT);
	c->selected = -1;
	c->phase = PHASE_STOPPED;
}

void client_reselect(struct client *c, int64_t now)
{
	if (c->phase == PHASE_ACTIVE) {
		struct broker *b = &c->brokers[c->selected];

		log_info("%s: giving up the tunnel on request", b->name);
		broker_abandon(c, b, PROTO_ERR_CLIENT_SHUTDOWN);
		b->broken_since = 0;
	}
	start_round(c, now);
	settle(c, now);
}

void client_kick(struct client *c, int64_t now)
{
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		b->retry_at = now;
		b->fail_streak = 0;
		if (b->state == BS_REINIT)
			b->timer = now;
	}
	if (c->phase == PHASE_WAIT)
		c->phase_deadline = now;
	client_on_timer(c, now);
}

void client_link(struct client *c, bool up, int64_t now)
{
	for (unsigned i = 0; i < c->nbrokers; i++) {
		struct broker *b = &c->brokers[i];

		if (b->state != BS_KEEPALIVE)
			continue;
		if (!up)
			outage_start(c, b, true, ENETDOWN, now);
		else if (b->tun.paused)
			outage_end(c, b, now);
	}
	if (up)
		client_kick(c, now); /* also runs what is due: the first probe */
	else
		settle(c, now);
}
