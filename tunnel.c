/* SPDX-License-Identifier: MIT */
#include "tunnel.h"

#include <errno.h>

int tunnel_create(const struct tunnel_ops *ops, void *ctx, bool own_id,
		  uint32_t tunnel_id, uint32_t peer_tunnel_id, int fd,
		  bool *replaced)
{
	int r = ops->create(ctx, tunnel_id, peer_tunnel_id, fd);

	*replaced = false;
	if (r != -EEXIST || !own_id)
		return r;
	r = ops->destroy(ctx, tunnel_id);
	if (r < 0 && r != -ENODEV)
		return r;
	*replaced = true;
	return ops->create(ctx, tunnel_id, peer_tunnel_id, fd);
}

bool tunnel_from_broker(const struct sockaddr_in *from, socklen_t fromlen,
			const struct sockaddr_in *broker)
{
	return fromlen == sizeof(*from) && from->sin_family == AF_INET &&
	       from->sin_addr.s_addr == broker->sin_addr.s_addr &&
	       from->sin_port == broker->sin_port;
}
