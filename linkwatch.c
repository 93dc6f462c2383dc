/* SPDX-License-Identifier: MIT */
/*
 * Link events over rtnetlink, on the message layer of nlmsg.c.  An
 * RTM_NEWLINK/RTM_DELLINK body is an ifinfomsg (IFINFO_HDR_LEN bytes, its
 * flags at offset 8) followed by attributes.
 */
#include "linkwatch.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#define RTM_GETLINK 18

#define IFF_UP_BIT 0x1u
#define IFF_RUNNING_BIT 0x40u

int nl_parse_link(const uint8_t *p, size_t n, const char *ifname, bool *up)
{
	struct nl_iter it = { p, n, false };
	struct nl_msg m;
	struct nla a;
	int found = 0;

	while (nl_next(&it, &m)) {
		if (m.type != RTM_NEWLINK && m.type != RTM_DELLINK)
			continue;
		if (m.body_len < IFINFO_HDR_LEN)
			return -EBADMSG;
		uint32_t flags = nl_get32(m.body + 8);
		struct nl_iter at = { m.body + IFINFO_HDR_LEN,
				      m.body_len - IFINFO_HDR_LEN, false };
		while (nla_next(&at, &a)) {
			if (a.type != IFLA_IFNAME)
				continue;
			if (a.len == 0 || a.len > IFNAMSIZ ||
			    a.val[a.len - 1] != '\0')
				return -EBADMSG;
			if (strcmp((const char *)a.val, ifname))
				break;
			found = 1;
			*up = m.type == RTM_NEWLINK &&
			      (flags & (IFF_UP_BIT | IFF_RUNNING_BIT)) ==
				      (IFF_UP_BIT | IFF_RUNNING_BIT);
			break;
		}
		if (at.bad)
			return -EBADMSG;
	}
	return it.bad ? -EBADMSG : found;
}

int link_watch_open(void)
{
	return nl_socket(NETLINK_ROUTE, RTMGRP_LINK);
}

int link_watch_query(int fd, const char *ifname)
{
	uint8_t buf[64];
	struct nl_writer w;
	uint8_t *ifi;
	ssize_t len;

	nlw_start(&w, buf, sizeof(buf), RTM_GETLINK, NLM_F_REQUEST, 1);
	nlw_reserve_zero(&w, IFINFO_HDR_LEN, &ifi);
	nlw_str(&w, IFLA_IFNAME, ifname);
	len = nlw_finish(&w);
	if (len < 0)
		return (int)len;
	return nl_send(fd, buf, (size_t)len);
}

ssize_t link_watch_read(int fd, uint8_t *buf, size_t cap)
{
	for (;;) {
		struct sockaddr_nl from = { 0 };
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return -errno;
		if (from.nl_pid == 0)
			return n;
		/* another process (with CAP_NET_ADMIN) wrote to us */
	}
}
