/* SPDX-License-Identifier: MIT */
/*
 * Generic netlink and the family "l2tp" over nlmsg.c's message layer.  A
 * request is an nlmsghdr whose type is the family id, then
 *
 *   genlmsghdr  u8 cmd | u8 version | u16 reserved
 *
 * then the command's attributes.
 */
#include "genl.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#define NL_REPLY_TIMEOUT_MS 1000

static void nlw_genl(struct nl_writer *w, uint8_t cmd, uint8_t version)
{
	uint8_t *g;

	nlw_reserve_zero(w, GENL_HDRLEN, &g);
	if (!g)
		return;
	g[0] = cmd;
	g[1] = version;
}

static void l2tp_start(struct nl_writer *w, uint8_t *buf, size_t cap,
		       uint16_t family, uint32_t seq, uint8_t cmd)
{
	nlw_start(w, buf, cap, family, NLM_F_REQUEST | NLM_F_ACK, seq);
	nlw_genl(w, cmd, L2TP_GENL_VERSION);
}

ssize_t genl_build_getfamily(uint8_t *buf, size_t cap, uint32_t seq,
			     const char *name)
{
	struct nl_writer w;

	nlw_start(&w, buf, cap, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, seq);
	nlw_genl(&w, CTRL_CMD_GETFAMILY, 1);
	nlw_str(&w, CTRL_ATTR_FAMILY_NAME, name);
	return nlw_finish(&w);
}

ssize_t l2tp_build_tunnel_create(uint8_t *buf, size_t cap, uint16_t family,
				 uint32_t seq, const struct l2tp_parm *p)
{
	struct nl_writer w;

	if (p->fd < 0)
		return -EINVAL;
	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_TUNNEL_CREATE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, p->tunnel_id);
	nlw_u32(&w, L2TP_ATTR_PEER_CONN_ID, p->peer_tunnel_id);
	nlw_u8(&w, L2TP_ATTR_PROTO_VERSION, L2TP_PROTO_VERSION);
	nlw_u16(&w, L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
	nlw_u32(&w, L2TP_ATTR_FD, (uint32_t)p->fd);
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
				  uint32_t seq, const struct l2tp_parm *p)
{
	struct nl_writer w;

	if (!p->ifname || !p->ifname[0] || strlen(p->ifname) >= IFNAMSIZ)
		return -EINVAL;
	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_CREATE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, p->tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, p->session_id);
	nlw_u32(&w, L2TP_ATTR_PEER_SESSION_ID, p->peer_session_id);
	nlw_u16(&w, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
	nlw_str(&w, L2TP_ATTR_IFNAME, p->ifname);
	return nlw_finish(&w);
}

ssize_t l2tp_build_session_delete(uint8_t *buf, size_t cap, uint16_t family,
				  uint32_t seq, const struct l2tp_parm *p)
{
	struct nl_writer w;

	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_DELETE);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, p->tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, p->session_id);
	return nlw_finish(&w);
}

ssize_t l2tp_build_session_mtu(uint8_t *buf, size_t cap, uint16_t family,
			       uint32_t seq, const struct l2tp_parm *p)
{
	struct nl_writer w;

	l2tp_start(&w, buf, cap, family, seq, L2TP_CMD_SESSION_MODIFY);
	nlw_u32(&w, L2TP_ATTR_CONN_ID, p->tunnel_id);
	nlw_u32(&w, L2TP_ATTR_SESSION_ID, p->session_id);
	nlw_u16(&w, L2TP_ATTR_MTU, p->mtu);
	return nlw_finish(&w);
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
		if (m.type != GENL_ID_CTRL || m.body_len < GENL_HDRLEN ||
		    m.body[0] != CTRL_CMD_NEWFAMILY)
			continue;
		struct nl_iter at = { m.body + GENL_HDRLEN,
				      m.body_len - GENL_HDRLEN, false };
		while (nla_next(&at, &a)) {
			if (a.type != CTRL_ATTR_FAMILY_ID)
				continue;
			if (a.len != sizeof(uint16_t))
				return -EBADMSG;
			*id = nl_get16(a.val);
			return *id ? 0 : -EBADMSG;
		}
		return -EBADMSG;
	}
	return it.bad ? -EBADMSG : 1;
}

struct l2tp_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint8_t buf[NL_BUF_SIZE];
};

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
	nl_put16(nl->buf + 4, nl->family);  /* nlmsg_type */
	nl_put32(nl->buf + 8, ++nl->seq);   /* nlmsg_seq */
	return nl_transact(nl, len, parse_ack_cb, NULL);
}

int l2tp_tunnel_create(struct l2tp_nl *nl, const struct l2tp_parm *p)
{
	return l2tp_request(nl, l2tp_build_tunnel_create(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, p));
}

int l2tp_tunnel_delete(struct l2tp_nl *nl, uint32_t tunnel_id)
{
	return l2tp_request(nl, l2tp_build_tunnel_delete(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, tunnel_id));
}

int l2tp_session_create(struct l2tp_nl *nl, const struct l2tp_parm *p)
{
	return l2tp_request(nl, l2tp_build_session_create(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, p));
}

int l2tp_session_delete(struct l2tp_nl *nl, const struct l2tp_parm *p)
{
	return l2tp_request(nl, l2tp_build_session_delete(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, p));
}

int l2tp_session_set_mtu(struct l2tp_nl *nl, const struct l2tp_parm *p)
{
	return l2tp_request(nl, l2tp_build_session_mtu(
		nl->buf, sizeof(nl->buf), nl->family, ++nl->seq, p));
}
