/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing, a drop-in for the options of the tunneldigger client
 * so existing init scripts keep working.  Pure: no output, no exit.
 */
#ifndef L2TPD_CLI_H
#define L2TPD_CLI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"

#define CLI_HOST_MAX 253
#define CLI_IFNAME_MAX 15

struct broker_spec {
	char host[CLI_HOST_MAX + 1];
	uint16_t port;
};

struct options {
	const char *uuid;
	const char *ifname;
	const char *bind_iface;
	const char *hook;
	struct in_addr local_ip; /* INADDR_ANY unless -l */
	uint32_t tunnel_id;
	uint32_t limit_kbps;
	enum select_strategy strategy;
	bool foreground;
	bool debug;
	bool help;
	bool version;
	bool ignored_p;
	struct broker_spec brokers[CLIENT_MAX_BROKERS];
	unsigned nbrokers;
};

/*
 * Fills o from argv.  Returns 0 on success, or -1 with a one-line reason
 * naming the flag and value in err.  -h and -V set o->help / o->version and
 * return 0 without checking required options.
 */
int cli_parse(int argc, char *const argv[], struct options *o, char *err,
	      size_t errlen);
void cli_usage(int fd);

#endif
