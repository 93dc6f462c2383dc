/* SPDX-License-Identifier: MIT */
/*
 * The netlink message layer under genl.c and linkwatch.c: a bounded
 * message writer with attribute packing, bounded walkers over received
 * messages and attributes, error-reply decoding, and raw AF_NETLINK
 * socket open, send and receive.  No library.
 *
 * Wire format (host byte order, everything 4-byte aligned):
 *
 *   nlmsghdr  u32 len | u16 type | u16 flags | u32 seq | u32 pid
 *   nlattr    u16 len | u16 type | payload | zero pad to 4
 *
 * nla_len counts header and payload but not the padding; nlmsg_len counts
 * everything and doubles as the write cursor.  Received buffers are walked
 * with explicit remaining lengths: a length field is trusted only after it
 * has been checked against what is left.  The writer and the walkers are
 * pure (bytes in, bytes or values out); only nl_socket, nl_send and
 * nl_recv do I/O.  The UAPI constants are copied here so a static build
 * needs no kernel headers.
 */
#ifndef L2TPD_NLMSG_H
#define L2TPD_NLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* linux/netlink.h */
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define NETLINK_ROUTE 0
#define NETLINK_GENERIC 16
#define NLMSG_HDRLEN 16
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define NLM_F_REQUEST 0x01
#define NLM_F_MULTI 0x02
#define NLM_F_ACK 0x04
#define NLM_F_DUMP 0x300
#define NLA_HDRLEN 4
#define NLA_TYPE_MASK 0x3fff

#define NL_BUF_SIZE 8192
#define NL_ALIGN(x) (((x) + 3u) & ~3u)

/* linux/netlink.h */
struct sockaddr_nl {
	uint16_t nl_family;
	uint16_t nl_pad;
	uint32_t nl_pid;    /* 0: the kernel */
	uint32_t nl_groups;
};

static inline void nl_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static inline void nl_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static inline uint16_t nl_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint32_t nl_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }

/*
 * A message being written into buf[cap].  Nothing is ever written past
 * cap: a part that does not fit sets `full` and every later part is
 * dropped, so nlw_finish can report -ENOSPC once at the end.
 */
struct nl_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool full;
};

/* Starts a message: nlmsghdr with type, flags, seq (pid 0). */
void nlw_start(struct nl_writer *w, uint8_t *buf, size_t cap, uint16_t type,
	       uint16_t flags, uint32_t seq);
/* Appends n zero bytes; *at points at them, or is NULL if they do not fit. */
void nlw_reserve_zero(struct nl_writer *w, size_t n, uint8_t **at);
/* Appends one attribute of len payload bytes, padded with zeros. */
void nlw_attr(struct nl_writer *w, uint16_t type, const void *data, size_t len);
void nlw_u8(struct nl_writer *w, uint16_t type, uint8_t v);
void nlw_u16(struct nl_writer *w, uint16_t type, uint16_t v);
void nlw_u32(struct nl_writer *w, uint16_t type, uint32_t v);
/* A string attribute, its NUL included. */
void nlw_str(struct nl_writer *w, uint16_t type, const char *s);
/* Writes nlmsg_len: the message length, or -ENOSPC if any part was dropped. */
ssize_t nlw_finish(struct nl_writer *w);

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

struct nla {
	uint16_t type;
	const uint8_t *val;
	size_t len;
};

/*
 * Netlink messages and attributes are both "length, type, value" records
 * padded to 4 bytes; only the width of the length field differs.  Yields the
 * next record and its checked length, or false at the end or (it->bad) when
 * a length does not fit what is left.
 */
bool tlv_next(struct nl_iter *it, size_t hdr, bool len32, const uint8_t **rec,
	      size_t *len);
/* The next message of a buffer, its body inside what was checked. */
bool nl_next(struct nl_iter *it, struct nl_msg *m);
/* The next attribute of a body, its type without the flag bits. */
bool nla_next(struct nl_iter *it, struct nla *a);

/* 1 if m is an NLMSG_ERROR and *err holds its (<= 0) code; -EBADMSG if an
 * NLMSG_ERROR is too short; 0 for anything else. */
int nl_error_code(const struct nl_msg *m, int *err);

/*
 * nl_parse_ack, pure over one recv() buffer, never reading past p + n and
 * ignoring messages whose seq is not `seq`: 0 for an ACK, -errno for an
 * error reply to seq, 1 if the buffer held nothing for seq, -EBADMSG if
 * it is malformed.
 */
int nl_parse_ack(const uint8_t *p, size_t n, uint32_t seq)
	__attribute__((warn_unused_result));

/* A non-blocking, close-on-exec netlink socket of protocol proto, bound
 * to the multicast groups given; fd or -errno. */
int nl_socket(int proto, uint32_t groups);
/* Sends one message to the kernel: 0, -errno, or -EIO if cut short. */
int nl_send(int fd, const uint8_t *msg, size_t len);
/* One datagram from the kernel within timeout_ms (others' are dropped);
 * its length, or -errno (-ETIMEDOUT; -ENOSPC if it did not fit). */
ssize_t nl_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms);

#endif
