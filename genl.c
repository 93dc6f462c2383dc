/* SPDX-License-Identifier: MIT */
/*
 * Netlink wire format (host byte order, everything 4-byte aligned):
 *
 *   nlmsghdr  u32 len | u16 type | u16 flags | u32 seq | u32 pid
 *   genlmsghdr         u8 cmd | u8 version | u16 reserved
 *   nlattr    u16 len | u16 type | payload | zero pad to 4
 *
 * nla_len counts header and payload but not the padding; nlmsg_len counts
 * everything and doubles as the write cursor.  Replies are walked with
 * explicit remaining lengths: a length field is trusted only after it has
 * been checked against what is left in the buffer.
 */
#include "genl.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define NETLINK_ROUTE 0
#define NETLINK_GENERIC 16
#define RTM_GETLINK 18

/* linux/netlink.h sockaddr_nl */
struct nl_addr {
	uint16_t family;
	uint16_t pad;
	uint32_t pid;
	uint32_t groups;
};

#define NL_ALIGN(x) (((x) + 3u) & ~3u)
#define NL_REPLY_TIMEOUT_MS 1000

struct nl_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }

static void nlw_reserve_zero(struct nl_writer *w, size_t n, uint8_t **at)
{
	*at = NULL;
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	*at = w->buf + w->len;
	memset(*at, 0, n);
	w->len += n;
}

static void nlw_start(struct nl_writer *w, uint8_t *buf, size_t cap,
		      uint16_t type, uint16_t flags, uint32_t seq)
{
	uint8_t *h;

	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->full = false;
	nlw_reserve_zero(w, NL_HDR_LEN, &h);
	if (!h)
		return;
	put16(h + 4, type);
	put16(h + 6, flags);
	put32(h + 8, seq);
}

static void nlw_genl(struct nl_writer *w, uint8_t cmd, uint8_t version)
{
	uint8_t *g;

	nlw_reserve_zero(w, GENL_HDR_LEN, &g);
	if (!g)
		return;
	g[0] = cmd;
	g[1] = version;
}

static void nlw_attr(struct nl_writer *w, uint16_t type, const void *data,
		     size_t len)
{
	uint8_t *a;

	if (len > UINT16_MAX - NLA_HDR_LEN) {
		w->full = true;
		return;
	}
	nlw_reserve_zero(w, NL_ALIGN(NLA_HDR_LEN + len), &a);
	if (!a)
		return;
	put16(a, (uint16_t)(NLA_HDR_LEN + len));
	put16(a + 2, type);
	memcpy(a + NLA_HDR_LEN, data, len);
}

static void nlw_u8(struct nl_writer *w, uint16_t type, uint8_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

static void nlw_u16(struct nl_writer *w, uint16_t type, uint16_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

static void nlw_u32(struct nl_writer *w, uint16_t type, uint32_t v)
{
	nlw_attr(w, type, &v, sizeof(v));
}

static void nlw_str(struct nl_writer *w, uint16_t type, const char *s)
{
	nlw_attr(w, type, s, strlen(s) + 1);
}

static ssize_t nlw_finish(struct nl_writer *w)
{
	if (w->full)
		return -ENOSPC;
	put32(w->buf, (uint32_t)w->len);
	return (ssize_t)w->len;
}

static void l2tp_start(struct nl_writer *w, uint8_t *buf, size_t cap,
		       uint16_t family, uint32_t seq, uint8_t cmd)
{
	nlw_start(w, buf, cap, family, NL_F_REQUEST | NL_F_ACK, seq);
	nlw_genl(w, cmd, L2TP_GENL_VERSION);
}

ssize_t genl_build_getfamily(uint8_t *buf, size_t cap, uint32_t seq,
			     const char *name)
{
	struct nl_writer w;

	nlw_start(&w, buf, cap, GENL_ID_CTRL, NL_F_REQUEST | NL_F_ACK, seq);
	nlw_genl(&w, CTRL_CMD_GETFAMILY, 1);
	nlw_str(&w, CTRL_ATTR_FAMILY_NAME, name);
	return nlw_finish(&w);
}

ssize_t l2tp_build_tunnel_create(uint8_t *buf, size_t cap, uint16_t family,
				 uint32_t seq, uint32_t tunnel_id,
				 uint32_t peer_tunnel_id, int fd)
{
	struct nl_writer w;

	if (fd < 0)
		return -EINVAL;
	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_TUNNEL_CREATE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, tunnel_id);
	nlw_u32(&w, L2TP_ATTR_PEER_CONN_ID, peer_tunnel_id);
	nlw_u8(&w, L2TP_ATTR_PROTO_VERSION, L2TP_PROTO_VERSION);
	nlw_u16(&w, L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
	nlw_u32(&w, L2TP_ATTR_FD, (uint32_t)fd);
	return nlw_finish(&w);
}

ssize_t l2tp_build_tunnel_delete(uint8_t *buf, size_t cap, uint16_t family,
				 uint32_t seq, uint32_t tunnel_id)
{
	struct nl_writer w;

	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_TUNNEL_DELETE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, tunnel_id);
	return nlw_finish(&w);
}

ssize_t l2tp_build_session_create(uint8_t *buf, size_t cap, uint16_t family,
				  uint32_t seq, uint32_t tunnel_id,
				  uint32_t session_id, uint32_t peer_session_id,
				  const char *ifname)
{
	struct nl_writer w;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_CREATE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, session_id);
	nlw_u32(&w, L2TP_ATTR_PEER_SESSION_ID, peer_session_id);
	nlw_u16(&w, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
	nlw_str(&w, L2TP_ATTR_IFNAME, ifname);
	return nlw_finish(&w);
}

ssize_t l2tp_build_session_delete(uint8_t *buf, size_t cap, uint16_t family,
				  uint32_t seq, uint32_t tunnel_id,
				  uint32_t session_id)
{
	struct nl_writer w;

	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_DELETE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, session_id);
	return nlw_finish(&w);
}

ssize_t l2tp_build_session_mtu(uint8_t *buf, size_t cap, uint16_t family,
			       uint32_t seq, uint32_t tunnel_id,
			       uint32_t session_id, uint16_t mtu)
{
	struct nl_writer w;

	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_MODIFY);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, session_id);
	nlw_u16(&w, L2TP_ATTR_MTU, mtu);
	return nlw_finish(&w);
}

/* Bounded walkers.  `bad` is set when a length field does not fit. */
struct nl_iter {
	const uint8_t *p;
	size_t rem;
	bool bad;
};

struct nl_msg {
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	const uint8_t *body;
	size_t body_len;
};

/*
 * Netlink messages and attributes are both "length, type, value" records
 * padded to 4 bytes; only the width of the length field differs.  Yields the
 * next record and its checked length, or false at the end or (it->bad) when
 * a length does not fit what is left.
 */
static bool tlv_next(struct nl_iter *it, size_t hdr, bool len32,
		     const uint8_t **rec, size_t *len)
{
	size_t step;

	if (it->rem == 0)
		return false;
	if (it->rem < hdr) {
		it->bad = true;
		return false;
	}
	*len = len32 ? get32(it->p) : get16(it->p);
	if (*len < hdr || *len > it->rem) {
		it->bad = true;
		return false;
	}
	*rec = it->p;
	step = NL_ALIGN(*len);
	if (step > it->rem)
		step = it->rem;
	it->p += step;
	it->rem -= step;
	return true;
}

static bool nl_next(struct nl_iter *it, struct nl_msg *m)
{
	const uint8_t *p;
	size_t len;

	if (!tlv_next(it, NL_HDR_LEN, true, &p, &len))
		return false;
	m->type = get16(p + 4);
	m->flags = get16(p + 6);
	m->seq = get32(p + 8);
	m->body = p + NL_HDR_LEN;
	m->body_len = len - NL_HDR_LEN;
	return true;
}

struct nla {
	uint16_t type;
	const uint8_t *val;
	size_t len;
};

static bool nla_next(struct nl_iter *it, struct nla *a)
{
	const uint8_t *p;
	size_t len;

	if (!tlv_next(it, NLA_HDR_LEN, false, &p, &len))
		return false;
	a->type = get16(p + 2) & NLA_TYPE_MASK;
	a->val = p + NLA_HDR_LEN;
	a->len = len - NLA_HDR_LEN;
	return true;
}

/* 1 if m is an NLMSG_ERROR and *err holds its (<= 0) code; -EBADMSG if an
 * NLMSG_ERROR is too short; 0 for anything else. */
static int nl_error_code(const struct nl_msg *m, int *err)
{
	int32_t e;

	if (m->type != NL_MSG_ERROR)
		return 0;
	if (m->body_len < sizeof(e))
		return -EBADMSG;
	memcpy(&e, m->body, sizeof(e));
	if (e > 0 || e < -4095)
		return -EBADMSG;
	*err = e;
	return 1;
}

int nl_parse_ack(const uint8_t *p, size_t n, uint32_t seq)
{
	struct nl_iter it = { p, n, false };
	struct nl_msg m;
	int err = 0, r;

	while (nl_next(&it, &m)) {
		if (m.seq != seq)
			continue;
		r = nl_error_code(&m, &err);
		if (r)
			return r < 0 ? r : err;
	}
	return it.bad ? -EBADMSG : 1;
}

int nl_parse_family(const uint8_t *p, size_t n, uint32_t seq, uint16_t *id)
{
	struct nl_iter it = { p, n, false };
	struct nl_msg m;
	struct nla a;
	int err = 0, r;

	while (nl_next(&it, &m)) {
		if (m.seq != seq)
			continue;
		r = nl_error_code(&m, &err);
		if (r < 0)
			return r;
		if (r) {
			if (err)
				return err;
			continue; /* the ACK that follows the reply */
		}
		if (m.type != GENL_ID_CTRL || m.body_len < GENL_HDR_LEN ||
		    m.body[0] != CTRL_CMD_NEWFAMILY)
			continue;
		struct nl_iter at = { m.body + GENL_HDR_LEN,
				      m.body_len - GENL_HDR_LEN, false };
		while (nla_next(&at, &a)) {
			if (a.type != CTRL_ATTR_FAMILY_ID)
				continue;
			if (a.len != sizeof(uint16_t))
				return -EBADMSG;
			*id = get16(a.val);
			return *id ? 0 : -EBADMSG;
		}
		return -EBADMSG;
	}
	return it.bad ? -EBADMSG : 1;
}

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
		uint32_t flags = get32(m.body + 8);
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

struct l2tp_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint8_t buf[NL_BUF_SIZE];
};

static int nl_socket(int proto, uint32_t groups)
{
	struct nl_addr sa = { .family = AF_NETLINK, .groups = groups };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int nl_send(int fd, const uint8_t *msg, size_t len)
{
	struct nl_addr kernel = { .family = AF_NETLINK };
	ssize_t r;

	r = sendto(fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

/* One datagram from the kernel; length, or -errno (-ETIMEDOUT). */
static ssize_t nl_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct nl_addr from = { 0 };
	socklen_t fl;
	ssize_t r;

	for (;;) {
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		fl = sizeof(from);
		r = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (from.pid != 0)
			continue; /* only the kernel may answer */
		if ((size_t)r > cap)
			return -ENOSPC;
		return r;
	}
}

typedef int (*nl_reply_fn)(const uint8_t *p, size_t n, uint32_t seq, void *arg);

static int nl_transact(struct l2tp_nl *nl, ssize_t len, nl_reply_fn parse,
		       void *arg)
{
	int r;

	if (len < 0)
		return (int)len;
	r = nl_send(nl->fd, nl->buf, (size_t)len);
	if (r)
		return r;
	for (;;) {
		ssize_t n = nl_recv(nl->fd, nl->buf, sizeof(nl->buf),
				    NL_REPLY_TIMEOUT_MS);
		if (n < 0)
			return (int)n;
		r = parse(nl->buf, (size_t)n, nl->seq, arg);
		if (r <= 0)
			return r;
	}
}

static int parse_ack_cb(const uint8_t *p, size_t n, uint32_t seq, void *arg)
{
	(void)arg;
	return nl_parse_ack(p, n, seq);
}

static int parse_family_cb(const uint8_t *p, size_t n, uint32_t seq, void *arg)
{
	return nl_parse_family(p, n, seq, arg);
}

/* A process needs one: fixed storage, no allocator in the binary. */
static struct l2tp_nl nl_slot;
static bool nl_slot_used;

static int resolve_family(struct l2tp_nl *nl)
{
	return nl_transact(nl, genl_build_getfamily(nl->buf, sizeof(nl->buf),
						    ++nl->seq, L2TP_GENL_NAME),
			   parse_family_cb, &nl->family);
}

int l2tp_nl_open(struct l2tp_nl **out)
{
	struct l2tp_nl *nl = &nl_slot;
	int r;

	if (nl_slot_used)
		return -EBUSY;
	memset(nl, 0, sizeof(*nl));
	nl->fd = nl_socket(NETLINK_GENERIC, 0);
	if (nl->fd < 0)
		return nl->fd;
	nl_slot_used = true;
	nl->seq = (uint32_t)getpid() << 8;
	r = resolve_family(nl);
	if (r) {
		l2tp_nl_close(nl);
		return r;
	}
	*out = nl;
	return 0;
}

void l2tp_nl_close(struct l2tp_nl *nl)
{
	if (!nl)
		return;
	close(nl->fd);
	nl_slot_used = false;
}

uint16_t l2tp_nl_family(const struct l2tp_nl *nl)
{
	return nl->family;
}

/* Requests are small; a copy survives the family lookup in nl->buf. */
#define NL_REQUEST_MAX 256

/*
 * l2tp_netlink unloaded and loaded again registers under a new family id,
 * and genetlink answers a request to the old one with ENOENT (which the
 * l2tp commands themselves never return: theirs is ENODEV).  Then the id
 * is looked up again and the same request sent once more under it.
 */
static int l2tp_request(struct l2tp_nl *nl, ssize_t len)
{
	uint8_t req[NL_REQUEST_MAX];
	uint16_t old = nl->family;
	int r;

	if (len < 0)
		return (int)len;
	if ((size_t)len > sizeof(req))
		return -EMSGSIZE;
	memcpy(req, nl->buf, (size_t)len);
	r = nl_transact(nl, len, parse_ack_cb, NULL);
	if (r != -ENOENT)
		return r;
	if (resolve_family(nl) < 0 || nl->family == old) {
		nl->family = old;
		return r;
	}
	memcpy(nl->buf, req, (size_t)len);
	put16(nl->buf + 4, nl->family);  /* nlmsg_type */
	put32(nl->buf + 8, ++nl->seq);   /* nlmsg_seq */
	return nl_transact(nl, len, parse_ack_cb, NULL);
}

int l2tp_tunnel_create(struct l2tp_nl *nl, uint32_t tunnel_id,
		       uint32_t peer_tunnel_id, int fd)
{
	return l2tp_request(nl, l2tp_build_tunnel_create(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id,
		peer_tunnel_id, fd));
}

int l2tp_tunnel_delete(struct l2tp_nl *nl, uint32_t tunnel_id)
{
	return l2tp_request(nl, l2tp_build_tunnel_delete(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id));
}

int l2tp_session_create(struct l2tp_nl *nl, uint32_t tunnel_id,
			uint32_t session_id, uint32_t peer_session_id,
			const char *ifname)
{
	return l2tp_request(nl, l2tp_build_session_create(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id,
		session_id, peer_session_id, ifname));
}

int l2tp_session_delete(struct l2tp_nl *nl, uint32_t tunnel_id,
			uint32_t session_id)
{
	return l2tp_request(nl, l2tp_build_session_delete(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id,
		session_id));
}

int l2tp_session_set_mtu(struct l2tp_nl *nl, uint32_t tunnel_id,
			 uint32_t session_id, uint16_t mtu)
{
	return l2tp_request(nl, l2tp_build_session_mtu(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id,
		session_id, mtu));
}

static int ifreq_for(struct ifreq *ifr, const char *ifname)
{
	size_t n = strlen(ifname);

	if (n == 0 || n >= sizeof(ifr->ifr_name))
		return -EINVAL;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, n);
	return 0;
}

int netdev_set_mtu(int sock, const char *ifname, int mtu)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname))
		return -EINVAL;
	ifr.ifr_mtu = mtu;
	return ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
}

int netdev_set_up(int sock, const char *ifname, bool up)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname))
		return -EINVAL;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
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

	nlw_start(&w, buf, sizeof(buf), RTM_GETLINK, NL_F_REQUEST, 1);
	nlw_reserve_zero(&w, IFINFO_HDR_LEN, &ifi);
	nlw_str(&w, IFLA_IFNAME, ifname);
	len = nlw_finish(&w);
	if (len < 0)
		return (int)len;
	return nl_send(fd, buf, (size_t)len);
}
