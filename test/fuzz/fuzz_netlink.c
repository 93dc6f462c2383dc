/* SPDX-License-Identifier: MIT */
/* The netlink reply parsers: acks, the family lookup, link events. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>

#include "genl.h"
#include "linkwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t id;
	bool up;
	uint32_t seq = size >= 12 ? (uint32_t)data[8] | (uint32_t)data[9] << 8 : 1;

	int r = nl_parse_ack(data, size, seq);

	assert(r == 1 || (r <= 0 && r >= -4095));
	r = nl_parse_family(data, size, seq, &id);
	assert(r != 0 || id != 0);
	r = nl_parse_link(data, size, "eth0", &up);
	assert(r >= -EBADMSG && r <= 1);
	return 0;
}
