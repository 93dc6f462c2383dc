/* SPDX-License-Identifier: MIT */
/*
 * The state of the client's state machine and its timing constants.  Only
 * client.c works on it (and its white-box tests read it); it is in a
 * header because the caller allocates struct client.  Include client.h.
 */
#ifndef L2TPD_CLIENT_STATE_H
#define L2TPD_CLIENT_STATE_H

#ifndef L2TPD_CLIENT_H
#error "include client.h"
#endif

/* Timers, in milliseconds (nominal periods, PROTOCOL.md 5.2). */
#define T_RESEND 2000
#define T_KEEPALIVE 5000
#define T_KA_EARLY 2500        /* a keepalive this close goes with a receive */
#define T_KA_ALIGN 250
#define T_LIVENESS 60000      /* the outer bound, whatever else happens */
/*
 * Dead-broker detection.  The broker sends a keepalive every 5 s (the first
 * 3-14 s after the tunnel is made), so once one was seen a silence of
 * T_SILENCE_BEAT means at least one was missed; before that, T_SILENCE.
 * Then SILENCE_PROBES small PMTUD probes (the broker's tunnel socket answers
 * them; a restarted broker's main socket ignores them) T_SILENCE_PROBE
 * apart; the broker is given up T_SILENCE_PROBE after the last one, i.e.
 * 6 + 5 * 0.8 = 10 s after the last datagram from it.
 *
 * False alarms at loss p = 5 % each way, losses independent: a live broker
 * is given up only if, after some datagram, its next keepalive is lost (p)
 * and none of the 5 probes makes the round trip (1 - 0.95^2 = 0.0975 each):
 *   0.05 * 0.0975^5 = 4.4e-7 per 5 s beat,
 *   * 518400 beats in 30 days = 0.23 false alarms per 30 days per tunnel.
 * (4 probes would make it 2.3, 3 probes 24.)  A crash right after a
 * keepalive is noticed 10 s later, one just before the next 5 s later.
 */
/*
 * Outages on our side: while the link (-I) is down, or sending fails with
 * "network unreachable", silence is no evidence against the broker, so the
 * detection above pauses.  Without a link event, a probe every
 * T_OUTAGE_PROBE finds out when sending works again.  Then RESUME_PROBES
 * probes T_RESUME_PROBE apart: an answer keeps the tunnel as it is, none
 * within RESUME_PROBES * T_RESUME_PROBE means a new one.  After an outage
 * longer than the broker's own 120 s timeout it has let the tunnel go:
 * reconnect at once.
 */
#define T_OUTAGE_PROBE 1000
#define T_RESUME_PROBE 200
#define RESUME_PROBES 5
#define T_BROKER_FORGETS 120000
#define T_SILENCE 15000
#define T_SILENCE_BEAT 6000
#define T_SILENCE_PROBE 800
#define SILENCE_PROBES 5
#define T_ESTABLISH 15000
#define T_SELECT_WINDOW 10000
#define T_NO_BROKER 5000
#define T_PMTU_BURST 1000
#define T_PMTU_COLLECT 5000
#define T_PMTU_FIRST 15000
#define T_PMTU_MAX 600000
#define T_REL_RETRY 1000
#define REL_TRIES 10
#define T_BROKEN 3600000
/* A broker that refuses (ICMP port unreachable, or it just said it shuts
 * down) is most likely restarting: ask every 200 ms +-25 % for up to 60 s,
 * then as usual. */
#define T_REFUSED_RETRY 200
#define T_REFUSED_FAST 60000
/*
 * A broker that ends every tunnel soon after making it: a tunnel it closed
 * (ERROR, other than for its shutdown) after less than T_SHORT_LIVED counts;
 * a broker that restarted or went silent does not.  From the second in a
 * row the broker is
 * left alone for 15 s, doubling up to 10 min, and after FLAP_TUNNELS such
 * tunnels within T_FLAP_WINDOW until the oldest of them is that old.
 * Meanwhile other brokers are selected.
 */
#define T_SHORT_LIVED 60000
#define T_FLAP_BASE 15000
#define T_FLAP_MAX 600000
#define FLAP_TUNNELS 4
#define T_FLAP_WINDOW 600000
#define T_BACKOFF_MIN 2000
#define T_BACKOFF_MAX 30000
#define T_COOKIE_MAX_AGE 120000
/* After a selection the others that answered (or may yet) stay ready this
 * long, so a refusal goes on with the next one without a new round. */
#define T_CANDIDATES 5000
#define PREPARES_PER_COOKIE 3
#define REFUSALS_TO_FAIL 3
/* A 4-byte TUNNEL after more than one PREPARE is ambiguous (a lost reply
 * with features, or a broker without them).  Never guessed: a broker that
 * sent features in any TUNNEL before is known to use unique ids; otherwise
 * the handshake starts over on a new port, at once, then after 1, 2 s ...,
 * at most REDOS_MAX times per selection. */
#define REDOS_MAX 4
#define T_REDO_BACKOFF 1000
/* ERROR on PREPARE with nobody else to turn to: most likely a rate limit
 * (the broker's connection_rate_limit may be 10 s), so PREPARE again after
 * 1, 2, 4, 4 ... s within the 15 s, and do not mark the broker broken for
 * that. */
#define T_PREPARE_RETRY 1000
#define T_PREPARE_RETRY_MAX 4000

struct rel_msg {
	struct proto_msg msg;
	int64_t next;
	uint8_t tries;
};

/*
 * A broker's state is kept by lifetime: the broker itself, for the whole
 * run; the attempt, from one resolution and socket to the next (zeroed
 * when it starts); the tunnel, from TUNNEL to its end (zeroed at both).
 */
struct broker_attempt {
	uint16_t usage;
	uint8_t cookie[PROTO_COOKIE_LEN];
	int64_t cookie_at; /* 0: none */
	int64_t cookie_asked; /* last COOKIE request, if cookie_wanted */
	bool cookie_wanted;
	unsigned usage_asks; /* USAGE requests from this socket */
	unsigned prepares; /* sent with the current cookie */
	unsigned prepares_total; /* sent from this socket */
	bool offered_features;
	unsigned redos;
	unsigned prepare_refusals;
	unsigned refusals;
	int64_t establish_deadline;
};

struct broker_tunnel {
	struct tunnel_params ids;
	bool kernel_up;
	bool hook_up;
	int64_t up_since;
	uint32_t ka_seq;
	int64_t ka_next;
	int64_t last_rx;
	unsigned silence_probes;
	int64_t silence_next;
	bool beat_seen; /* a keepalive from the broker since the tunnel came up */
	/* an outage on our side */
	bool paused;
	bool paused_by_link;  /* else by send errors */
	int unsendable;       /* errno of a send that just failed: no network */
	bool resuming;        /* probing after the outage */
	int64_t paused_since;
	int64_t pause_next;   /* next probe: while paused, or resuming */
	unsigned resume_probes;

	/* path MTU */
	int64_t pmtu_next;
	int64_t pmtu_collect;
	int64_t pmtu_interval;
	uint16_t probed;
	uint16_t probe_max; /* largest probe the last burst got out */
	uint16_t pmtu;
	uint16_t peer_mtu;
	int mtu; /* applied to the interface; 0 if never */

	/* a reliable message: the LIMIT after the tunnel came up is the only
	 * one there is */
	struct rel_msg rel;
	bool rel_pending; /* sent, not acknowledged yet */
};

struct broker {
	/* the fields used most first: short offsets, smaller code */
	enum broker_state state;
	int index;
	int64_t timer; /* the state's own timer: resend, retry */
	const struct client_config *cfg;
	uint8_t slots; /* open sockets: bit k for slot k (client_ops) */
	bool refused_pending; /* a send found a refusal the socket held */
	bool unique_known; /* sent features in a TUNNEL reply, in this run */
	bool wan_down;
	unsigned fail_streak;
	int64_t refused_since; /* 0: answering, as far as we know */
	int64_t retry_at;
	int64_t broken_since; /* 0: not broken */

	struct broker_attempt at;

	/* tunnels that ended soon after they were made */
	bool was_up;           /* in the current selection */
	bool closed_by_broker; /* that tunnel: ERROR, not for a shutdown */
	int64_t up_at;
	int64_t made_at[FLAP_TUNNELS];
	unsigned made;         /* tunnels made, in made_at mod FLAP_TUNNELS */
	unsigned short_streak;
	int64_t hold_until;    /* not selected before, if others can be */
	unsigned reconnects;
	int last_error;
	uint16_t rel_seq;

	struct broker_tunnel tun;

	union sockaddr_inet addrs[BROKER_MAX_ADDRS]; /* with the port */
	unsigned naddrs;
	union sockaddr_inet addr; /* slot 0's, or the first slot's */
	uint16_t port;
	char host[256];
	char name[272]; /* host:port, for logs */
};

enum client_phase {
	PHASE_STOPPED,
	PHASE_COLLECT, /* brokers answering USAGE */
	PHASE_ACTIVE,  /* one broker selected */
	PHASE_WAIT,    /* nobody answered: pause before the next round */
};

struct client {
	const struct client_config *cfg;
	const struct client_ops *ops;
	void *ctx;
	unsigned nbrokers;
	enum client_phase phase;
	int64_t phase_deadline;
	int selected; /* -1: none */
	unsigned rounds;
	int64_t candidates_until; /* 0: the others were let go */
	struct broker brokers[CLIENT_MAX_BROKERS];
};

#endif
