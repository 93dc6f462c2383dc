/* SPDX-License-Identifier: MIT */
/* The control-message decoder, from both sides, plus the encoder: whatever
 * decodes must encode again and decode to the same message. */
#include <assert.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size, enum proto_role from)
{
	struct proto_msg m, again;
	uint8_t buf[PROTO_MAX_DGRAM];
	ssize_t n;

	if (proto_decode(data, size, from, &m) < 0)
		return;
	n = proto_encode(buf, sizeof(buf), from, &m);
	if (n < 0)
		return; /* e.g. a PMTUD longer than any datagram we build */
	assert(proto_decode(buf, (size_t)n, from, &again) == 0);
	assert(again.type == m.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, PROTO_FROM_BROKER);
	round_trip(data, size, PROTO_FROM_CLIENT);
	return 0;
}
