/* SPDX-License-Identifier: MIT */
/*
 * The link watch (linkwatch.c): nl_parse_link over link events built by
 * the reply writer of nlb.h, whole, truncated at every length and broken
 * field by field, always from heap buffers of exactly the tested size so
 * that `make SAN=1 test-unit` reports any read past the end; and, on a
 * real NETLINK_ROUTE socket, that only the kernel's messages are read.
 */
#include "check.h"
#include "linkwatch.h"
#include "nlb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int link_exact(const uint8_t *src, size_t n, const char *ifname,
		      bool *up)
{
	uint8_t *p = test_dup(src, n);
	int r = nl_parse_link(p, n, ifname, up);

	free(p);
	return r;
}

SUITE(linkwatch_parse)
{
	struct nlb w;
	bool up;

	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0",
		 IFF_UP_ | IFF_BROADCAST_ | IFF_RUNNING_ | IFF_MULTICAST_ |
			 IFF_LOWER_UP_);
	up = false;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(up);
	/* Other names, including prefixes either way. */
	CHECK_EQ(link_exact(w.b, w.len, "eth0", &up), 0);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp", &up), 0);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp00", &up), 0);
	CHECK_EQ(link_exact(w.b, 0, "l2tp0", &up), 0);

	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_BROADCAST_);
	up = true;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(!up);
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_RUNNING_);
	up = true;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(!up);

	nlb_init(&w);
	nlb_link(&w, RTM_DELLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	up = true;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(!up);

	/* Several messages: another link first, and the last word wins. */
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "eth0", IFF_UP_ | IFF_RUNNING_);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_);
	up = true;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(!up);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(up);
	nlb_link(&w, RTM_DELLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(!up);
	/* Other message types are skipped. */
	nlb_init(&w);
	nlb_error(&w, 1, 0, NULL, 0);
	nlb_msg(&w, NLMSG_DONE, NLM_F_MULTI, 1);
	nlb_put(&w, &(int32_t){ 0 }, 4);
	nlb_end(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	up = false;
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 1);
	CHECK(up);
	/* A NEWLINK without IFLA_IFNAME mentions nobody. */
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, NULL, IFF_UP_ | IFF_RUNNING_);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), 0);
	/* The longest valid name: 15 chars + NUL. */
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "abcdefghijklmno", IFF_UP_ | IFF_RUNNING_);
	CHECK_EQ(link_exact(w.b, w.len, "abcdefghijklmno", &up), 1);
	CHECK(up);

	/* IFLA_IFNAME malformed: not NUL-terminated, empty, too long. */
	static const uint8_t ifi[IFINFO_HDR_LEN] = { 0 };
	static const struct {
		const char *bytes;
		size_t len;
	} bad_names[] = {
		{ "l2tp0", 5 },
		{ "", 0 },
		{ "abcdefghijklmnop", 17 },
		{ "abcdefghijklmnopqrstuvwxyz", 27 },
		{ "abcdefghijklmnop", 16 },
	};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		nlb_init(&w);
		nlb_msg(&w, RTM_NEWLINK, 0, 0);
		nlb_put(&w, ifi, sizeof(ifi));
		nlb_attr(&w, IFLA_IFNAME, bad_names[i].bytes, bad_names[i].len);
		nlb_end(&w);
		if (!CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG))
			printf("  at: name of %zu bytes\n", bad_names[i].len);
	}
	/* Body shorter than ifinfomsg. */
	nlb_init(&w);
	nlb_msg(&w, RTM_NEWLINK, 0, 0);
	nlb_put(&w, ifi, 12);
	nlb_end(&w);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);
	/* Broken attribute header before the name. */
	nlb_init(&w);
	nlb_msg(&w, RTM_NEWLINK, 0, 0);
	nlb_put(&w, ifi, sizeof(ifi));
	nlb_u32(&w, 4, 1446);
	nlb_str(&w, IFLA_IFNAME, "l2tp0");
	nlb_end(&w);
	wr16(w.b + NLMSG_HDRLEN + IFINFO_HDR_LEN, 2);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);
	wr16(w.b + NLMSG_HDRLEN + IFINFO_HDR_LEN, 0x100);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);
	/* nlmsg_len broken. */
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	wr32(w.b, (uint32_t)w.len + 4);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);
	wr32(w.b, 8);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);
	wr32(w.b, 0);
	CHECK_EQ(link_exact(w.b, w.len, "l2tp0", &up), -EBADMSG);

	/* Every truncation. */
	int fails = 0;
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tp0", IFF_UP_ | IFF_RUNNING_);
	nlb_link(&w, RTM_DELLINK, "l2tp1", 0);
	size_t first = rd32(w.b);
	for (size_t n = 0; n < w.len; n++) {
		int r = link_exact(w.b, n, "l2tp0", &up);
		int want = n == 0 ? 0 : n == first ? 1 : -EBADMSG;

		SWEEP_CHECK(fails, r == want, "link cut to %zu: %d", n, r);
	}
	CHECK_EQ(fails, 0);
}

/* The link watch believes the kernel only: a process that may send to
 * our netlink socket (CAP_NET_ADMIN) cannot fake a link going down. */
SUITE(linkwatch_sender)
{
	struct { uint16_t family, pad; uint32_t pid, groups; } me = { 0 };
	socklen_t ml = sizeof(me);
	int fd = link_watch_open(), forger;
	uint8_t buf[NL_BUF_SIZE];
	struct nlb w;
	ssize_t n;

	if (fd < 0) {
		printf("linkwatch_sender: SKIP, no NETLINK_ROUTE socket: %s\n",
		       strerror(-fd));
		return;
	}
	forger = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
	CHECK(forger >= 0);
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
	nlb_init(&w);
	nlb_link(&w, RTM_NEWLINK, "l2tpdfake0", 0);
	n = sendto(forger, w.b, w.len, 0, (struct sockaddr *)&me, sizeof(me));
	if (n < 0 && errno == EPERM) {
		/* without CAP_NET_ADMIN nobody can forge: nothing to drop */
		printf("linkwatch_sender: SKIP the forgery, refused without CAP_NET_ADMIN\n");
	} else {
		CHECK_EQ(n, (ssize_t)w.len);
		n = link_watch_read(fd, buf, sizeof(buf));
		CHECK_EQ(n, -EAGAIN);
	}
	/* the kernel's own answers still come through */
	CHECK_EQ(link_watch_query(fd, "lo"), 0);
	for (int i = 0; i < 100 && (n = link_watch_read(fd, buf, sizeof(buf))) == -EAGAIN; i++)
		usleep(1000);
	CHECK(n > 0);
	close(forger);
	close(fd);
}
