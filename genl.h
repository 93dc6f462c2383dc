/* SPDX-License-Identifier: MIT */
/*
 * The kernel side of a tunnel: generic netlink, its family lookup and the
 * family "l2tp" (tunnels and sessions), on the message layer of nlmsg.h.
 * Link state is linkwatch.h's, the interface ioctls netdev.h's.
 *
 * Message builders (genl_build_*, l2tp_build_*) and the reply parser
 * (nl_parse_family) are pure so they can be checked byte for byte; the rest
 * does the I/O.  The UAPI constants are copied here so a static build needs no
 * kernel headers.
 */
#ifndef L2TPD_GENL_H
#define L2TPD_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nlmsg.h"

/* linux/genetlink.h */
#define GENL_HDRLEN 4
#define GENL_ID_CTRL 0x10
#define CTRL_CMD_NEWFAMILY 1
#define CTRL_CMD_GETFAMILY 3
#define CTRL_ATTR_FAMILY_ID 1
#define CTRL_ATTR_FAMILY_NAME 2

/* linux/l2tp.h */
#define L2TP_GENL_NAME "l2tp"
#define L2TP_GENL_VERSION 1
enum {
	L2TP_CMD_NOOP,
	L2TP_CMD_TUNNEL_CREATE,
	L2TP_CMD_TUNNEL_DELETE,
	L2TP_CMD_TUNNEL_MODIFY,
	L2TP_CMD_TUNNEL_GET,
	L2TP_CMD_SESSION_CREATE,
	L2TP_CMD_SESSION_DELETE,
	L2TP_CMD_SESSION_MODIFY,
	L2TP_CMD_SESSION_GET,
};
enum {
	L2TP_ATTR_NONE,
	L2TP_ATTR_PW_TYPE,       /* u16 */
	L2TP_ATTR_ENCAP_TYPE,    /* u16 */
	L2TP_ATTR_OFFSET,
	L2TP_ATTR_DATA_SEQ,
	L2TP_ATTR_L2SPEC_TYPE,   /* u8 */
	L2TP_ATTR_L2SPEC_LEN,
	L2TP_ATTR_PROTO_VERSION, /* u8 */
	L2TP_ATTR_IFNAME,        /* string */
	L2TP_ATTR_CONN_ID,       /* u32 */
	L2TP_ATTR_PEER_CONN_ID,  /* u32 */
	L2TP_ATTR_SESSION_ID,    /* u32 */
	L2TP_ATTR_PEER_SESSION_ID, /* u32 */
	L2TP_ATTR_UDP_CSUM,
	L2TP_ATTR_VLAN_ID,
	L2TP_ATTR_COOKIE,
	L2TP_ATTR_PEER_COOKIE,
	L2TP_ATTR_DEBUG,
	L2TP_ATTR_RECV_SEQ,
	L2TP_ATTR_SEND_SEQ,
	L2TP_ATTR_LNS_MODE,
	L2TP_ATTR_USING_IPSEC,
	L2TP_ATTR_RECV_TIMEOUT,
	L2TP_ATTR_FD,            /* u32 */
	L2TP_ATTR_IP_SADDR,
	L2TP_ATTR_IP_DADDR,
	L2TP_ATTR_UDP_SPORT,
	L2TP_ATTR_UDP_DPORT,
	L2TP_ATTR_MTU,           /* u16 */
};
#define L2TP_PWTYPE_ETH 5
#define L2TP_ENCAPTYPE_UDP 0
#define L2TP_PROTO_VERSION 3

/*
 * What a request says about one tunnel and its session, as the kernel
 * names it: tunnel_id L2TP_ATTR_CONN_ID, peer_tunnel_id
 * L2TP_ATTR_PEER_CONN_ID, session_id L2TP_ATTR_SESSION_ID, peer_session_id
 * L2TP_ATTR_PEER_SESSION_ID.  Named fields, so that no id takes another's
 * place unnoticed; each request reads the fields it needs.
 */
struct l2tp_parm {
	uint32_t tunnel_id;
	uint32_t peer_tunnel_id;
	uint32_t session_id;
	uint32_t peer_session_id;
	int fd;             /* TUNNEL_CREATE: the connected UDP socket */
	const char *ifname; /* SESSION_CREATE */
	uint16_t mtu;       /* SESSION_MODIFY */
};

/* Pure builders: return the message length, or -ENOSPC / -EINVAL. */
ssize_t genl_build_getfamily(uint8_t *buf, size_t cap, uint32_t seq,
			     const char *name);
ssize_t l2tp_build_tunnel_create(uint8_t *buf, size_t cap, uint16_t family,
				 uint32_t seq, const struct l2tp_parm *p);
ssize_t l2tp_build_tunnel_delete(uint8_t *buf, size_t cap, uint16_t family,
				 uint32_t seq, uint32_t tunnel_id);
ssize_t l2tp_build_session_create(uint8_t *buf, size_t cap, uint16_t family,
				  uint32_t seq, const struct l2tp_parm *p);
ssize_t l2tp_build_session_delete(uint8_t *buf, size_t cap, uint16_t family,
				  uint32_t seq, const struct l2tp_parm *p);
ssize_t l2tp_build_session_mtu(uint8_t *buf, size_t cap, uint16_t family,
			       uint32_t seq, const struct l2tp_parm *p);

/*
 * nl_parse_family, the pure reply parser of the family lookup, over one
 * recv() buffer (the ACKs of requests are nlmsg.h's nl_parse_ack): never
 * reads past p + n and ignores messages whose seq is not `seq`.  0 and
 * *id, -errno from an error reply, 1 if nothing for seq, -EBADMSG if
 * malformed or the reply lacks a valid family id.
 */
int nl_parse_family(const uint8_t *p, size_t n, uint32_t seq, uint16_t *id)
	__attribute__((warn_unused_result));

struct l2tp_nl;

/* Opens the genl socket and resolves the family: -ENOENT if "l2tp" is
 * missing (modules not loaded), -EBUSY if one is open already (a process
 * has one at a time). */
int l2tp_nl_open(struct l2tp_nl **out);
void l2tp_nl_close(struct l2tp_nl *nl);
uint16_t l2tp_nl_family(const struct l2tp_nl *nl);

/* Each request waits for its ACK (bounded) and returns 0 or -errno. */
int l2tp_tunnel_create(struct l2tp_nl *nl, const struct l2tp_parm *p);
int l2tp_tunnel_delete(struct l2tp_nl *nl, uint32_t tunnel_id);
int l2tp_session_create(struct l2tp_nl *nl, const struct l2tp_parm *p);
int l2tp_session_delete(struct l2tp_nl *nl, const struct l2tp_parm *p);
int l2tp_session_set_mtu(struct l2tp_nl *nl, const struct l2tp_parm *p);

#endif
