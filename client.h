/* SPDX-License-Identifier: MIT */
/*
 * The client's protocol logic: one state machine per broker and the broker
 * selection around them.  Nothing here touches a socket or a clock: time is
 * passed in (monotonic milliseconds), datagrams arrive decoded, and every
 * effect (send, open a socket, create the kernel tunnel, run a hook) goes
 * through struct client_ops.  The caller sleeps until client_next_deadline().
 *
 * Per broker:
 *
 *   REINIT -> RESOLVING -> GET_USAGE -> STANDBY
 *                                          | selected
 *                                          v
 *             FAILED <- KEEPALIVE <- GET_TUNNEL <- GET_COOKIE
 *
 * Any failure after selection ends in FAILED.  Before its tunnel is up,
 * the others that answered in this round (kept ready for T_CANDIDATES) are
 * tried next; otherwise a new selection round starts.  An abandoned tunnel
 * or attempt is always announced to the broker with an ERROR so it does not
 * linger there.
 */
#ifndef L2TPD_CLIENT_H
#define L2TPD_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "proto.h"

#define CLIENT_MAX_BROKERS 64
#define BROKER_MAX_ADDRS 8

enum broker_state {
	BS_REINIT,
	BS_RESOLVING,
	BS_GET_USAGE,
	BS_STANDBY,
	BS_GET_COOKIE,
	BS_GET_TUNNEL,
	BS_KEEPALIVE,
	BS_FAILED,
	BS_IDLE, /* not taking part in this round */
};

enum select_strategy {
	SELECT_FIRST,  /* -g: first to answer, in command-line order */
	SELECT_USAGE,  /* -a: least usage */
	SELECT_RANDOM, /* -r: uniform among the ready ones */
};

struct client_config {
	const char *uuid;
	const char *ifname;
	uint32_t tunnel_id;
	uint32_t limit_kbps; /* 0: no LIMIT */
	uint32_t features;   /* offered */
	enum select_strategy strategy;
};

/* A broker as given on the command line. */
struct client_broker {
	const char *host;
	uint16_t port;
};

/* The ids of our kernel tunnel and session: tunnel_id is ours (-t),
 * session_id ours within it, the peer ids the broker's. */
struct tunnel_params {
	uint32_t tunnel_id;
	uint32_t peer_tunnel_id;
	uint32_t session_id;
	uint32_t peer_session_id;
};

/* The facts of one broker at an event, for hooks and the status file. */
struct client_event {
	unsigned broker;
	const char *name; /* host:port */
	uint16_t port;
	enum broker_state state;
	/* the broker that matters: the selected one, or any while nothing
	 * is selected */
	bool current;
	union sockaddr_inet addr; /* the one connected to, or the last */
	bool addr_known;          /* a socket is open or a tunnel is up */
	struct tunnel_params ids; /* all 0 unless the tunnel is up */
	int mtu;                  /* on the interface; 0 if never set */
	int64_t up_since;         /* 0: no tunnel */
	unsigned reconnects;
	int last_error;           /* errno, 0 if none */
};

/*
 * Every effect of the state machine.  ctx is what the caller gave
 * client_init(); broker is an index into client_init()'s brokers.
 */
struct client_ops {
	/* >0: that many addresses written to addrs (max of them); 0: pending,
	 * the answer comes through client_on_resolved(); <0: -errno. */
	int (*resolve)(void *ctx, unsigned broker, const char *host,
		       union sockaddr_inet *addrs, unsigned max);
	void (*resolve_cancel)(void *ctx, unsigned broker);
	/*
	 * A broker's sockets, by slot.  It has one, slot 0, except while it
	 * is asked for USAGE: then every address of its name is asked at
	 * once, slot k being the socket to the k-th address resolve() gave.
	 * The first to hear back is adopted and becomes slot 0; the client
	 * closes the others before.
	 */
	/* Open a fresh UDP socket connected to `to` (new source port). */
	int (*open)(void *ctx, unsigned broker, unsigned slot,
		    const union sockaddr_inet *to);
	void (*close)(void *ctx, unsigned broker, unsigned slot);
	/* 0 or -errno; -ECONNREFUSED: the datagram was not sent because the
	 * socket held a refusal (ICMP port unreachable) from before. */
	int (*send)(void *ctx, unsigned broker, unsigned slot, const uint8_t *p,
		    size_t n);
	/* Slot (not 0) becomes slot 0, which is closed. */
	void (*adopt)(void *ctx, unsigned broker, unsigned slot);
	/* Create the kernel tunnel and session over the broker's socket;
	 * 0 or -errno. */
	int (*tunnel_create)(void *ctx, unsigned broker,
			     const struct tunnel_params *t);
	void (*tunnel_delete)(void *ctx, unsigned broker,
			      const struct tunnel_params *t);
	int (*set_mtu)(void *ctx, unsigned broker, const struct tunnel_params *t,
		       int mtu);
	void (*hook)(void *ctx, const struct client_event *e, const char *event);
	/* The state or the tunnel's facts changed (optional). */
	void (*changed)(void *ctx, const struct client_event *e);
	/* Uniform random 32 bits, for selection and jitter. */
	uint32_t (*random)(void *ctx);
};

/* The state machine's constants and state, client.c's own: the caller only
 * allocates a struct client and hands it to the functions below. */
#include "client_state.h"

/* n brokers (at most CLIENT_MAX_BROKERS), in command-line order.  Every
 * `unsigned broker` below is an index into them, below n. */
void client_init(struct client *c, const struct client_config *cfg,
		 const struct client_ops *ops, void *ctx,
		 const struct client_broker *brokers, unsigned n);
void client_start(struct client *c, int64_t now);
/* Stop everything: ERROR(reason) to the broker if a tunnel or attempt
 * exists, hook session.down, kernel objects deleted, sockets closed. */
void client_stop(struct client *c, uint8_t reason, int64_t now);
/* SIGHUP: give up the current tunnel and select again. */
void client_reselect(struct client *c, int64_t now);
/* The network may be back: retry waiting brokers now. */
void client_kick(struct client *c, int64_t now);
/* The link to the brokers went down or came up (-I). */
void client_link(struct client *c, bool up, int64_t now);

void client_on_timer(struct client *c, int64_t now);
int64_t client_next_deadline(const struct client *c);
/* A datagram, or an error (ICMP, send failure), on one of the broker's
 * sockets (slot, see client_ops). */
void client_on_msg(struct client *c, unsigned broker, unsigned slot,
		   const struct proto_msg *m, int64_t now);
void client_on_sock_error(struct client *c, unsigned broker, unsigned slot,
			  int err, int64_t now);
/* The answer to a pending resolve: n > 0 addresses, or n = -errno
 * (-ETIMEDOUT: the resolver gave up).  The client has no timeout of its
 * own for a pending resolve: the resolver's schedule is the only one. */
void client_on_resolved(struct client *c, unsigned broker,
			const union sockaddr_inet *addrs, int n, int64_t now);

const char *broker_state_name(enum broker_state s);
#endif
