/* SPDX-License-Identifier: MIT */
/* The DNS reply parser for both question types, the hosts and resolv.conf
 * parsers on the same bytes read as text, and the address literal parser
 * with the formatter behind it. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any scope name is interface 3, so scoped entries get through. */
static unsigned any_ifindex(const char *ifname)
{
	assert(strlen(ifname) <= ADDR_IFNAME_MAX);
	return 3;
}

static void check_addrs(const union sockaddr_inet *a, int n)
{
	for (int i = 0; i < n; i++) {
		char s[ADDR_STRLEN];

		assert(a[i].sa.sa_family == AF_INET ||
		       a[i].sa.sa_family == AF_INET6);
		assert(addr_port(&a[i]) == 0);
		assert(addr_format(&a[i], true, s, sizeof(s)) > 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	const char *text = (const char *)data;
	union sockaddr_inet out[8], a, b;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	int r;

	for (int t = 0; t < 2; t++) {
		r = dns_parse_reply(data, size, id, "broker.example.net",
				    types[t], out, 8);
		assert(r <= 8 && r != 0);
		check_addrs(out, r);
		for (int i = 0; i < r; i++)
			assert(out[i].sa.sa_family ==
			       (types[t] == DNS_TYPE_A ? AF_INET : AF_INET6));
	}
	r = dns_hosts_lookup(text, size, "broker.example.net", out, 8,
			     any_ifindex);
	assert(r >= 0 && r <= 8);
	check_addrs(out, r);
	r = dns_resolv_parse(text, size, out, DNS_MAX_SERVERS, any_ifindex);
	assert(r >= 0 && r <= DNS_MAX_SERVERS);
	check_addrs(out, r);

	/* a literal that parses formats to text that parses to the same */
	if (!addr_parse_ip(text, size, &a, any_ifindex)) {
		char s[ADDR_STRLEN];
		int n = addr_format(&a, false, s, sizeof(s));

		assert(n > 0);
		assert(!addr_parse_ip(s, (size_t)n, &b, NULL));
		assert(addr_equal(&a, &b));
	}
	return 0;
}
