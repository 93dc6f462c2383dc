/* SPDX-License-Identifier: MIT */
/* The DNS reply parser, and the hosts and resolv.conf parsers on the same
 * bytes read as text. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in_addr out[8];
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	int r;

	r = dns_parse_reply(data, size, id, "broker.example.net", out, 8);
	assert(r <= 8 && r != 0);
	r = dns_hosts_lookup((const char *)data, size, "broker.example.net", out, 8);
	assert(r >= 0 && r <= 8);
	r = dns_resolv_parse((const char *)data, size, out, DNS_MAX_SERVERS);
	assert(r >= 0 && r <= DNS_MAX_SERVERS);
	return 0;
}
