/* SPDX-License-Identifier: MIT */
/*
 * A host-order netlink writer for the replies the parser tests feed to
 * genl.c, nlmsg.c and linkwatch.c: messages as the kernel sends them, built
 * independently of the code under test.  Overflowing the buffer stops the
 * run.
 */
#ifndef L2TPD_TEST_NLB_H
#define L2TPD_TEST_NLB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The family id of the reference trace. */
#define NLB_FAMILY 0x20

/* Link flags, as linux/if.h names them. */
#define IFF_UP_ 0x1u
#define IFF_BROADCAST_ 0x2u
#define IFF_RUNNING_ 0x40u
#define IFF_MULTICAST_ 0x1000u
#define IFF_LOWER_UP_ 0x10000u

struct nlb {
	uint8_t b[1024];
	size_t len;
	size_t msg;       /* start of the message being written */
	size_t nest[4];   /* starts of open nested attributes */
	int depth;
};

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

void nlb_init(struct nlb *w);
void nlb_put(struct nlb *w, const void *p, size_t n);
void nlb_align(struct nlb *w);
void nlb_msg(struct nlb *w, uint16_t type, uint16_t flags, uint32_t seq);
void nlb_end(struct nlb *w);
void nlb_attr(struct nlb *w, uint16_t type, const void *p, size_t n);
void nlb_u8(struct nlb *w, uint16_t type, uint8_t v);
void nlb_u16(struct nlb *w, uint16_t type, uint16_t v);
void nlb_u32(struct nlb *w, uint16_t type, uint32_t v);
void nlb_str(struct nlb *w, uint16_t type, const char *s);
void nlb_nest(struct nlb *w, uint16_t type);
void nlb_nest_end(struct nlb *w);
void nlb_error(struct nlb *w, uint32_t seq, int32_t err,
	       const uint8_t *req, size_t req_len);
void nlb_link(struct nlb *w, uint16_t type, const char *ifname,
	      uint32_t flags);

#endif
