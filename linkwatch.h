/* SPDX-License-Identifier: MIT */
/*
 * Link state over rtnetlink: a NETLINK_ROUTE socket subscribed to link
 * events, a query for one interface, and a pure parser of what comes back
 * (the interface ioctls are in netdev.h).  Only the kernel's messages are
 * believed.
 */
#ifndef L2TPD_LINKWATCH_H
#define L2TPD_LINKWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nlmsg.h"

/* linux/rtnetlink.h, linux/if_link.h */
#define RTM_NEWLINK 16
#define RTM_DELLINK 17
#define RTMGRP_LINK 1
#define IFLA_IFNAME 3
#define IFINFO_HDR_LEN 16

/*
 * nl_parse_link: scans an rtnetlink buffer for RTM_NEWLINK/RTM_DELLINK of
 * ifname, never reading past p + n.  Returns 1 if found (*up = IFF_UP and
 * IFF_RUNNING, false when deleted), 0 if not mentioned, -EBADMSG if
 * malformed.
 */
int nl_parse_link(const uint8_t *p, size_t n, const char *ifname, bool *up)
	__attribute__((warn_unused_result));

/* A NETLINK_ROUTE socket subscribed to link events; fd or -errno. */
int link_watch_open(void);
/* Asks for a dump of ifname's link state; answered through link_watch. */
int link_watch_query(int fd, const char *ifname);
/* One message for the link watch: its length, or -errno (-EAGAIN: none
 * waiting; -ENOBUFS: events were lost, ask again).  Only the kernel's
 * messages count: any other sender's are dropped unread. */
ssize_t link_watch_read(int fd, uint8_t *buf, size_t cap);

#endif
