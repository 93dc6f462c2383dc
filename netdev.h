/* SPDX-License-Identifier: MIT */
/*
 * The interface ioctls: MTU and the up flag of a network device, on any
 * AF_INET socket.  The only kernel calls that are not netlink.
 */
#ifndef L2TPD_NETDEV_H
#define L2TPD_NETDEV_H

#include <stdbool.h>

/* 0 or -errno (-EINVAL: not a valid interface name). */
int netdev_set_mtu(int sock, const char *ifname, int mtu);
int netdev_set_up(int sock, const char *ifname, bool up);

#endif
