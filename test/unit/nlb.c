/* SPDX-License-Identifier: MIT */
/* The test reply writer of nlb.h. */
#include "nlb.h"

#include <stdio.h>
#include <stdlib.h>

#include "linkwatch.h"

void nlb_put(struct nlb *w, const void *p, size_t n)
{
	if (n > sizeof(w->b) - w->len) {
		fprintf(stderr, "test reply buffer overflow\n");
		exit(2);
	}
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void nlb_align(struct nlb *w)
{
	static const uint8_t zero[3];

	nlb_put(w, zero, (4 - w->len % 4) % 4);
}

void nlb_msg(struct nlb *w, uint16_t type, uint16_t flags, uint32_t seq)
{
	uint8_t h[NLMSG_HDRLEN] = { 0 };

	nlb_align(w);
	w->msg = w->len;
	wr16(h + 4, type);
	wr16(h + 6, flags);
	wr32(h + 8, seq);
	nlb_put(w, h, sizeof(h));
}

void nlb_end(struct nlb *w)
{
	nlb_align(w);
	wr32(w->b + w->msg, (uint32_t)(w->len - w->msg));
}

void nlb_attr(struct nlb *w, uint16_t type, const void *p, size_t n)
{
	uint8_t h[NLA_HDRLEN];

	wr16(h, (uint16_t)(NLA_HDRLEN + n));
	wr16(h + 2, type);
	nlb_put(w, h, sizeof(h));
	nlb_put(w, p, n);
	nlb_align(w);
}

void nlb_u8(struct nlb *w, uint16_t type, uint8_t v)
{
	nlb_attr(w, type, &v, sizeof(v));
}

void nlb_u16(struct nlb *w, uint16_t type, uint16_t v)
{
	nlb_attr(w, type, &v, sizeof(v));
}

void nlb_u32(struct nlb *w, uint16_t type, uint32_t v)
{
	nlb_attr(w, type, &v, sizeof(v));
}

void nlb_str(struct nlb *w, uint16_t type, const char *s)
{
	nlb_attr(w, type, s, strlen(s) + 1);
}

#define NLA_F_NESTED 0x8000

void nlb_nest(struct nlb *w, uint16_t type)
{
	uint8_t h[NLA_HDRLEN] = { 0 };

	w->nest[w->depth++] = w->len;
	wr16(h + 2, type | NLA_F_NESTED);
	nlb_put(w, h, sizeof(h));
}

void nlb_nest_end(struct nlb *w)
{
	size_t at = w->nest[--w->depth];

	wr16(w->b + at, (uint16_t)(w->len - at));
}

/* NLMSG_ERROR for seq: error code, then the request's header (an ACK is
 * capped to the header; an error carries the whole request). */
void nlb_error(struct nlb *w, uint32_t seq, int32_t err,
	       const uint8_t *req, size_t req_len)
{
	uint8_t h[NLMSG_HDRLEN] = { 0 };

	nlb_msg(w, NLMSG_ERROR, err ? 0 : 0x100 /* NLM_F_CAPPED */, seq);
	nlb_put(w, &err, sizeof(err));
	if (req && req_len) {
		nlb_put(w, req, err ? req_len : NLMSG_HDRLEN);
	} else {
		wr32(h, 36);
		wr16(h + 4, NLB_FAMILY);
		wr16(h + 6, NLM_F_REQUEST | NLM_F_ACK);
		wr32(h + 8, seq);
		nlb_put(w, h, sizeof(h));
	}
	nlb_end(w);
}

void nlb_link(struct nlb *w, uint16_t type, const char *ifname,
	      uint32_t flags)
{
	uint8_t ifi[IFINFO_HDR_LEN] = { 0 };

	nlb_msg(w, type, 0, 0);
	wr16(ifi + 2, 1 /* ARPHRD_ETHER */);
	wr32(ifi + 4, 7 /* ifindex */);
	wr32(ifi + 8, flags);
	wr32(ifi + 12, 0xffffffff);
	nlb_put(w, ifi, sizeof(ifi));
	if (ifname)
		nlb_str(w, IFLA_IFNAME, ifname);
	nlb_u32(w, 4 /* IFLA_MTU */, 1446);
	nlb_u8(w, 16 /* IFLA_OPERSTATE */, 6);
	nlb_end(w);
}

void nlb_init(struct nlb *w)
{
	memset(w, 0, sizeof(*w));
}
