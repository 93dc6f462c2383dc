/* SPDX-License-Identifier: MIT */
/*
 * Tunneldigger control protocol: pure encode/decode, no I/O.
 *
 * Every control datagram starts with a 6-byte header:
 *
 *   0      1      2      3      4      5      6
 *   +------+------+------+------+------+------+---------------+---------+
 *   | 0x80 | 0x73 | 0xA7 | 0x01 | type | len  | payload (len) | padding |
 *   +------+------+------+------+------+------+---------------+---------+
 *
 * 0x8073 read as an L2TP header has the control bit set and version 3, so
 * the kernel's L2TP receive hook hands these datagrams up to the socket that
 * also carries the tunnel's data frames.  Non-probe datagrams are padded with
 * zeros to at least 12 bytes because some firewalls on port 53 drop shorter
 * UDP payloads.  Multi-byte fields are big-endian.
 */
#ifndef L2TPD_PROTO_H
#define L2TPD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_HDR_LEN 6
#define PROTO_MIN_DGRAM 12
#define PROTO_MAX_CTRL (PROTO_HDR_LEN + 255)
#define PROTO_MAX_DGRAM 2048 /* receive buffer size of both peers */
#define PROTO_COOKIE_LEN 8
#define PROTO_UUID_MAX 238 /* 17 + N must fit the length byte */

/* IPv4 20 + UDP 8 */
#define PROTO_PROBE_OVERHEAD 28
/* IPv4 20 + UDP 8 + L2TPv3 header 8 + default sublayer 4 + Ethernet 14 */
#define PROTO_TUNNEL_OVERHEAD 54
#define PROTO_MTU_FLOOR 1280

#define PROTO_FEATURE_UNIQUE_SESSION_ID 0x1u
#define PROTO_FEATURES_KNOWN PROTO_FEATURE_UNIQUE_SESSION_ID

enum proto_type {
	PROTO_COOKIE = 0x01,
	PROTO_PREPARE = 0x02,
	PROTO_ERROR = 0x03,
	PROTO_TUNNEL = 0x04,
	PROTO_KEEPALIVE = 0x05,
	PROTO_PMTUD = 0x06,
	PROTO_PMTUD_ACK = 0x07,
	PROTO_REL_ACK = 0x08,
	PROTO_PMTU_NTFY = 0x09,
	PROTO_USAGE = 0x0A,
	PROTO_LIMIT = 0x80, /* reliable: payload starts with a u16 seqno */
};

#define PROTO_RELIABLE 0x80

/* ERROR reason byte: high nibble is the sender, low nibble its own code. */
enum proto_error_reason {
	PROTO_ERR_BROKER_OTHER_REQUEST = 0x01,
	PROTO_ERR_BROKER_SHUTDOWN = 0x02,
	PROTO_ERR_BROKER_TIMEOUT = 0x03,
	PROTO_ERR_BROKER_FAILURE = 0x04,
	PROTO_ERR_BROKER_UNDEFINED = 0x05,
	PROTO_ERR_CLIENT_OTHER_REQUEST = 0x10,
	PROTO_ERR_CLIENT_SHUTDOWN = 0x11,
	PROTO_ERR_CLIENT_TIMEOUT = 0x12,
	PROTO_ERR_CLIENT_FAILURE = 0x13,
};

#define PROTO_LIMIT_BANDWIDTH_DOWN 0x01

/* Several types have a different layout per direction, so both encode and
 * decode need to know who sent the datagram. */
enum proto_role {
	PROTO_FROM_CLIENT,
	PROTO_FROM_BROKER,
};

/*
 * A decoded or to-be-encoded message.  Only the fields of its type matter:
 *
 *   COOKIE     cookie (reply only; requests carry 8 filler bytes)
 *   USAGE      request: features, has_features; reply: usage
 *   PREPARE    cookie, uuid/uuid_len, tunnel_id, features
 *              (has_tunnel_id/has_features: optional fields present)
 *   TUNNEL     tunnel_id, features, has_features
 *   ERROR      reason, has_reason
 *   KEEPALIVE  seq (u32 from a client, u16 from a broker)
 *   PMTUD      probe_len: the whole datagram length
 *   PMTUD_ACK  value: acknowledged datagram length
 *   PMTU_NTFY  value: sender's tunnel MTU
 *   REL_ACK    seq: acknowledged reliable seqno
 *   LIMIT      seq, limit_type, bandwidth (kbit/s), has_bandwidth
 */
struct proto_msg {
	uint8_t type;
	bool has_features;
	bool has_tunnel_id;
	bool has_reason;
	bool has_bandwidth;
	uint8_t reason;
	uint8_t limit_type;
	uint8_t uuid_len;
	uint16_t usage;
	uint16_t value;
	uint16_t probe_len;
	uint32_t seq;
	uint32_t tunnel_id;
	uint32_t features;
	uint32_t bandwidth;
	uint8_t cookie[PROTO_COOKIE_LEN];
	char uuid[PROTO_UUID_MAX + 1]; /* NUL-terminated copy */
};

/*
 * Decode one datagram of n bytes sent by `from`.  Never reads past p + n.
 * Returns 0, or:
 *   -EBADMSG  not a control datagram (short, wrong magic or version)
 *   -EMSGSIZE the length byte or the payload size is wrong for the type
 *   -ENOMSG   a well-formed datagram of a type this role never sends
 */
int proto_decode(const uint8_t *p, size_t n, enum proto_role from,
		 struct proto_msg *m) __attribute__((warn_unused_result));

/*
 * Encode m as sent by `from` into buf.  Returns the datagram length, or
 * -ENOSPC if cap is too small, -EINVAL if m cannot be represented.
 */
ssize_t proto_encode(uint8_t *buf, size_t cap, enum proto_role from,
		     const struct proto_msg *m) __attribute__((warn_unused_result));

/* The six IPv4 packet sizes a client probes, ascending. */
#define PROTO_PROBE_COUNT 6
extern const uint16_t proto_probe_sizes[PROTO_PROBE_COUNT];

const char *proto_type_name(uint8_t type);

#endif
