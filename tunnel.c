/* SPDX-License-Identifier: MIT */
#include "tunnel.h"

#include <errno.h>

int tunnel_create(const struct tunnel_ops *ops, void *ctx, bool own_id,
		  const struct l2tp_parm *p, bool *replaced)
{
	int r = ops->create(ctx, p);

	*replaced = false;
	if (r != -EEXIST || !own_id)
		return r;
	r = ops->destroy(ctx, p->tunnel_id);
	if (r < 0 && r != -ENODEV)
		return r;
	*replaced = true;
	return ops->create(ctx, p);
}

bool tunnel_from_broker(const union sockaddr_inet *from, socklen_t fromlen,
			const union sockaddr_inet *broker)
{
	return fromlen == addr_len(from) && addr_equal(from, broker);
}
