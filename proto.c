/* SPDX-License-Identifier: MIT */
#include "proto.h"

#include <errno.h>
#include <string.h>

const uint16_t proto_probe_sizes[PROTO_PROBE_COUNT] = {
	1334, 1400, 1450, 1476, 1492, 1500,
};

static const uint8_t proto_magic[4] = { 0x80, 0x73, 0xA7, 0x01 };

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *proto_type_name(uint8_t type)
{
	switch (type) {
	case PROTO_COOKIE: return "COOKIE";
	case PROTO_PREPARE: return "PREPARE";
	case PROTO_ERROR: return "ERROR";
	case PROTO_TUNNEL: return "TUNNEL";
	case PROTO_KEEPALIVE: return "KEEPALIVE";
	case PROTO_PMTUD: return "PMTUD";
	case PROTO_PMTUD_ACK: return "PMTUD_ACK";
	case PROTO_REL_ACK: return "REL_ACK";
	case PROTO_PMTU_NTFY: return "PMTU_NTFY";
	case PROTO_USAGE: return "USAGE";
	case PROTO_LIMIT: return "LIMIT";
	}
	return "UNKNOWN";
}

static int decode_prepare(const uint8_t *pl, size_t len, struct proto_msg *m)
{
	size_t n;

	if (len < PROTO_COOKIE_LEN + 1)
		return -EMSGSIZE;
	memcpy(m->cookie, pl, PROTO_COOKIE_LEN);
	n = pl[PROTO_COOKIE_LEN];
	if (n > PROTO_UUID_MAX || len < PROTO_COOKIE_LEN + 1 + n)
		return -EMSGSIZE;
	m->uuid_len = (uint8_t)n;
	memcpy(m->uuid, pl + PROTO_COOKIE_LEN + 1, n);
	m->uuid[n] = '\0';
	pl += PROTO_COOKIE_LEN + 1 + n;
	len -= PROTO_COOKIE_LEN + 1 + n;
	/* Optional trailing fields; a partial one is malformed. */
	if (len != 0 && len != 4 && len != 8)
		return -EMSGSIZE;
	if (len >= 4) {
		m->has_tunnel_id = true;
		m->tunnel_id = get_u32(pl);
	}
	if (len == 8) {
		m->has_features = true;
		m->features = get_u32(pl + 4);
	}
	return 0;
}

static int decode_limit(const uint8_t *pl, size_t len, struct proto_msg *m)
{
	if (len < 4)
		return -EMSGSIZE;
	m->seq = get_u16(pl);
	m->limit_type = pl[2];
	if (pl[3] != len - 4)
		return -EMSGSIZE;
	if (pl[3] == 4) {
		m->has_bandwidth = true;
		m->bandwidth = get_u32(pl + 4);
	}
	return 0;
}

static int decode_from_client(const uint8_t *pl, size_t len, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_COOKIE:
		return len >= 8 ? 0 : -EMSGSIZE;
	case PROTO_USAGE:
		if (len != 8 && len != 12)
			return -EMSGSIZE;
		if (len == 12) {
			m->has_features = true;
			m->features = get_u32(pl + 8);
		}
		return 0;
	case PROTO_PREPARE:
		return decode_prepare(pl, len, m);
	case PROTO_LIMIT:
		return decode_limit(pl, len, m);
	}
	return -ENOMSG;
}

static int decode_from_broker(const uint8_t *pl, size_t len, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_COOKIE:
		if (len != PROTO_COOKIE_LEN)
			return -EMSGSIZE;
		memcpy(m->cookie, pl, PROTO_COOKIE_LEN);
		return 0;
	case PROTO_USAGE:
		if (len != 2)
			return -EMSGSIZE;
		m->usage = get_u16(pl);
		return 0;
	case PROTO_TUNNEL:
		if (len != 4 && len != 8)
			return -EMSGSIZE;
		m->tunnel_id = get_u32(pl);
		if (len == 8) {
			m->has_features = true;
			m->features = get_u32(pl + 4);
		}
		return 0;
	case PROTO_REL_ACK:
		if (len != 2)
			return -EMSGSIZE;
		m->seq = get_u16(pl);
		return 0;
	}
	return -ENOMSG;
}

int proto_decode(const uint8_t *p, size_t n, enum proto_role from,
		 struct proto_msg *m)
{
	const uint8_t *pl;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (n < PROTO_HDR_LEN || memcmp(p, proto_magic, sizeof(proto_magic)))
		return -EBADMSG;
	m->type = p[4];
	len = p[5];
	if (len > n - PROTO_HDR_LEN)
		return -EMSGSIZE;
	pl = p + PROTO_HDR_LEN;

	switch (m->type) {
	case PROTO_ERROR:
		if (len > 1)
			return -EMSGSIZE;
		m->has_reason = len == 1;
		m->reason = len == 1 ? pl[0] : 0;
		return 0;
	case PROTO_KEEPALIVE:
		/* Content only makes consecutive datagrams differ. */
		if (len >= 4)
			m->seq = get_u32(pl);
		else if (len >= 2)
			m->seq = get_u16(pl);
		return 0;
	case PROTO_PMTUD:
		if (len != 0 || n > UINT16_MAX)
			return -EMSGSIZE;
		m->probe_len = (uint16_t)n;
		return 0;
	case PROTO_PMTUD_ACK:
	case PROTO_PMTU_NTFY:
		if (len != 2)
			return -EMSGSIZE;
		m->value = get_u16(pl);
		return 0;
	}
	if (from == PROTO_FROM_CLIENT)
		return decode_from_client(pl, len, m);
	return decode_from_broker(pl, len, m);
}

/* Writes the payload after the header; returns its length or -errno. */
static ssize_t encode_payload(uint8_t *pl, enum proto_role from,
			      const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_COOKIE:
		if (from == PROTO_FROM_BROKER) {
			memcpy(pl, m->cookie, PROTO_COOKIE_LEN);
			return PROTO_COOKIE_LEN;
		}
		/* Request as large as the reply: no amplification. */
		memset(pl, 'X', 8);
		return 8;
	case PROTO_USAGE:
		if (from == PROTO_FROM_BROKER) {
			put_u16(pl, m->usage);
			return 2;
		}
		memset(pl, 'U', 8);
		if (!m->has_features)
			return 8;
		put_u32(pl + 8, m->features);
		return 12;
	case PROTO_PREPARE:
		if (from != PROTO_FROM_CLIENT || m->uuid_len > PROTO_UUID_MAX)
			return -EINVAL;
		memcpy(pl, m->cookie, PROTO_COOKIE_LEN);
		pl[8] = m->uuid_len;
		memcpy(pl + 9, m->uuid, m->uuid_len);
		put_u32(pl + 9 + m->uuid_len, m->tunnel_id);
		put_u32(pl + 13 + m->uuid_len, m->features);
		return 17 + m->uuid_len;
	case PROTO_ERROR:
		if (!m->has_reason)
			return 0;
		pl[0] = m->reason;
		return 1;
	case PROTO_TUNNEL:
		if (from != PROTO_FROM_BROKER)
			return -EINVAL;
		put_u32(pl, m->tunnel_id);
		if (!m->features)
			return 4;
		put_u32(pl + 4, m->features);
		return 8;
	case PROTO_KEEPALIVE:
		if (from == PROTO_FROM_BROKER) {
			put_u16(pl, (uint16_t)m->seq);
			return 2;
		}
		put_u32(pl, m->seq);
		return 4;
	case PROTO_PMTUD_ACK:
	case PROTO_PMTU_NTFY:
		put_u16(pl, m->value);
		return 2;
	case PROTO_REL_ACK:
		if (from != PROTO_FROM_BROKER)
			return -EINVAL;
		put_u16(pl, (uint16_t)m->seq);
		return 2;
	case PROTO_LIMIT:
		if (from != PROTO_FROM_CLIENT)
			return -EINVAL;
		put_u16(pl, (uint16_t)m->seq);
		pl[2] = m->limit_type;
		pl[3] = 4;
		put_u32(pl + 4, m->bandwidth);
		return 8;
	}
	return -EINVAL;
}

ssize_t proto_encode(uint8_t *buf, size_t cap, enum proto_role from,
		     const struct proto_msg *m)
{
	uint8_t tmp[PROTO_MAX_CTRL];
	ssize_t len;
	size_t total;

	if (m->type == PROTO_PMTUD) {
		/* A probe is exactly probe_len bytes: header, zero filler. */
		if (m->probe_len < PROTO_HDR_LEN)
			return -EINVAL;
		if (cap < m->probe_len)
			return -ENOSPC;
		memset(buf, 0, m->probe_len);
		memcpy(buf, proto_magic, sizeof(proto_magic));
		buf[4] = PROTO_PMTUD;
		return m->probe_len;
	}
	len = encode_payload(tmp + PROTO_HDR_LEN, from, m);
	if (len < 0)
		return len;
	total = PROTO_HDR_LEN + (size_t)len;
	if (total < PROTO_MIN_DGRAM)
		total = PROTO_MIN_DGRAM;
	if (cap < total)
		return -ENOSPC;
	memset(buf, 0, total);
	memcpy(buf, proto_magic, sizeof(proto_magic));
	buf[4] = m->type;
	buf[5] = (uint8_t)len;
	memcpy(buf + PROTO_HDR_LEN, tmp + PROTO_HDR_LEN, (size_t)len);
	return (ssize_t)total;
}
