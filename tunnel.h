/* SPDX-License-Identifier: MIT */
/*
 * Decisions about the path to a broker that need no kernel to test: which
 * received datagrams are the broker's, and when a kernel tunnel already
 * holding our id may be removed.  The netlink calls go through tunnel_ops.
 */
#ifndef L2TPD_TUNNEL_H
#define L2TPD_TUNNEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "genl.h"

struct tunnel_ops {
	int (*create)(void *ctx, const struct l2tp_parm *p);
	int (*destroy)(void *ctx, uint32_t tunnel_id);
};

/*
 * Creates kernel tunnel p->tunnel_id (to p->peer_tunnel_id over p->fd).
 * If one with that id exists (-EEXIST),
 * it is a leftover of ours only when we hold the id's lock (own_id: no
 * live l2tpd has it); then it is removed and the create tried once more,
 * and *replaced says so.  Otherwise -EEXIST, the tunnel left alone.
 * 0 or -errno.
 */
int tunnel_create(const struct tunnel_ops *ops, void *ctx, bool own_id,
		  const struct l2tp_parm *p, bool *replaced);

/* A datagram from (fromlen bytes of it, from recvfrom) is the broker's
 * only if it comes from the broker's address and port exactly (and, over
 * IPv6, the same scope), in either family. */
bool tunnel_from_broker(const union sockaddr_inet *from, socklen_t fromlen,
			const union sockaddr_inet *broker);

#endif
