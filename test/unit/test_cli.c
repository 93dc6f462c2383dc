/* SPDX-License-Identifier: MIT */
/*
 * cli_parse(): the tunneldigger-compatible command line, its defaults, and
 * an error naming the flag and the value for every bad input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"

static struct options opt;
static char err[256];

/* argv as main() gets it: program name first, NULL last. */
static int parse_argv(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(err, 'Z', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return cli_parse(argc, argv, &opt, err, sizeof(err));
}

#define PARSE(...) parse_argv((char *[]){ "l2tpd", __VA_ARGS__, NULL })
/* The minimal valid line plus more. */
#define PARSE_OK(...) \
	PARSE("-u", "id", "-i", "l2tp0", "-b", "b.example:8942", __VA_ARGS__)

/* rc is -1 and the message mentions both the flag and the value. */
static void bad(int rc, const char *flag, const char *value)
{
	CHECK_EQ(rc, -1);
	if (!CHECK(strstr(err, flag) != NULL) ||
	    (value && !CHECK(strstr(err, value) != NULL)))
		printf("  message: %s\n", err);
	CHECK(strlen(err) > 0 && strlen(err) < sizeof(err) - 1);
	CHECK(!strchr(err, '\n'));
}

SUITE(cli_valid)
{
	char *argv[] = { "l2tpd", "-u", "abc", "-i", "l2tp0", "-b",
			 "broker.example.net:8942", NULL };

	/* the minimal line, and every default */
	CHECK_EQ(parse_argv(argv), 0);
	CHECK_EQ(err[0], '\0');
	CHECK(opt.uuid == argv[2]);
	CHECK(!strcmp(opt.ifname, "l2tp0"));
	CHECK_EQ(opt.nbrokers, 1);
	CHECK(!strcmp(opt.brokers[0].host, "broker.example.net"));
	CHECK_EQ(opt.brokers[0].port, 8942);
	CHECK_EQ(opt.tunnel_id, 1);
	CHECK_EQ(opt.strategy, SELECT_FIRST);
	CHECK_EQ(opt.limit_kbps, 0);
	CHECK_EQ(opt.local.sa.sa_family, AF_UNSPEC);
	CHECK(opt.bind_iface == NULL && opt.hook == NULL);
	CHECK(!opt.foreground && !opt.debug && !opt.help && !opt.version &&
	      !opt.ignored_p);

	/* everything set */
	CHECK_EQ(PARSE("-u", "x", "-i", "tun-1", "-b", "10.0.0.1:53", "-b",
		       "b2.example:123", "-l", "192.0.2.7", "-I", "eth0", "-s",
		       "/etc/l2tpd/hook", "-t", "4294967295", "-L", "102400", "-a",
		       "-f", "-v"),
		 0);
	CHECK_EQ(opt.nbrokers, 2);
	CHECK(!strcmp(opt.brokers[0].host, "10.0.0.1"));
	CHECK_EQ(opt.brokers[0].port, 53);
	CHECK(!strcmp(opt.brokers[1].host, "b2.example"));
	CHECK_EQ(opt.brokers[1].port, 123);
	CHECK_EQ(ntohl(opt.local.in.sin_addr.s_addr), 0xC0000207u);
	CHECK(!strcmp(opt.bind_iface, "eth0"));
	CHECK(!strcmp(opt.hook, "/etc/l2tpd/hook"));
	CHECK_EQ(opt.tunnel_id, 4294967295u);
	CHECK_EQ(opt.limit_kbps, 102400);
	CHECK_EQ(opt.strategy, SELECT_USAGE);
	CHECK(opt.foreground && opt.debug);

	/* bundled flags */
	CHECK_EQ(PARSE_OK("-fa"), 0);
	CHECK(opt.foreground);
	CHECK_EQ(opt.strategy, SELECT_USAGE);
	CHECK_EQ(PARSE_OK("-vrf"), 0);
	CHECK(opt.foreground && opt.debug);
	CHECK_EQ(opt.strategy, SELECT_RANDOM);
	CHECK_EQ(PARSE_OK("-ra", "-g"), 0); /* the last one wins */
	CHECK_EQ(opt.strategy, SELECT_FIRST);
	CHECK_EQ(PARSE_OK("-ar"), 0);
	CHECK_EQ(opt.strategy, SELECT_RANDOM);

	/* attached values, also after bundled flags */
	CHECK_EQ(PARSE("-uXYZ", "-il2tp9", "-bhost:7", "-t42", "-L5", "-l10.1.2.3"), 0);
	CHECK(!strcmp(opt.uuid, "XYZ"));
	CHECK(!strcmp(opt.ifname, "l2tp9"));
	CHECK(!strcmp(opt.brokers[0].host, "host"));
	CHECK_EQ(opt.brokers[0].port, 7);
	CHECK_EQ(opt.tunnel_id, 42);
	CHECK_EQ(opt.limit_kbps, 5);
	CHECK_EQ(ntohl(opt.local.in.sin_addr.s_addr), 0x0A010203u);
	CHECK_EQ(PARSE("-fuXYZ", "-i", "a", "-b", "h:1"), 0);
	CHECK(opt.foreground);
	CHECK(!strcmp(opt.uuid, "XYZ"));
	/* a value that looks like a flag is still the value */
	CHECK_EQ(PARSE("-u", "-i", "-i", "x", "-b", "h:1"), 0);
	CHECK(!strcmp(opt.uuid, "-i"));
	CHECK(!strcmp(opt.ifname, "x"));

	/* repeated options: the last one counts, brokers add up */
	CHECK_EQ(PARSE_OK("-u", "second", "-t", "3", "-t", "9"), 0);
	CHECK(!strcmp(opt.uuid, "second"));
	CHECK_EQ(opt.tunnel_id, 9);

	/* "--" ends the options */
	CHECK_EQ(PARSE_OK("--"), 0);

	/* -p VALUE of the old client: accepted, noted, ignored */
	CHECK_EQ(PARSE_OK("-p", "8942"), 0);
	CHECK(opt.ignored_p);
	CHECK_EQ(PARSE_OK("-pX"), 0);
	CHECK(opt.ignored_p);

	/* -h and -V need nothing else */
	CHECK_EQ(PARSE("-h"), 0);
	CHECK(opt.help);
	CHECK_EQ(PARSE("-V"), 0);
	CHECK(opt.version && !opt.help);
	CHECK_EQ(PARSE("-fh"), 0);
	CHECK(opt.help);
	CHECK_EQ(PARSE_OK("-V"), 0);
	CHECK(opt.version);

	/* limits that are fine */
	CHECK_EQ(PARSE_OK("-L", "0"), 0);
	CHECK_EQ(opt.limit_kbps, 0);
	CHECK_EQ(PARSE_OK("-L", "4294967295"), 0);
	CHECK_EQ(opt.limit_kbps, 4294967295u);
	CHECK_EQ(PARSE_OK("-t", "1"), 0);
	CHECK_EQ(PARSE_OK("-t", "007"), 0);
	CHECK_EQ(opt.tunnel_id, 7);
	CHECK_EQ(PARSE_OK("-l", "0.0.0.0"), 0);
	CHECK_EQ(PARSE_OK("-l", "255.255.255.255"), 0);
	CHECK_EQ(PARSE_OK("-b", "h:65535", "-b", "h:1"), 0);
	CHECK_EQ(opt.brokers[1].port, 65535);
	CHECK_EQ(opt.brokers[2].port, 1);

	/* UTF-8 UUIDs */
	CHECK_EQ(PARSE("-u", "gr\xc3\xbc\xc3\x9f-\xe2\x82\xac-\xf0\x9f\x98\x80", "-i",
		       "a", "-b", "h:1"),
		 0);
	CHECK_EQ(strlen(opt.uuid), 15);
}

SUITE(cli_lengths)
{
	static char uuid[PROTO_UUID_MAX + 2];
	static char host[CLI_HOST_MAX + 2 + 6];
	char *argv[2 * CLIENT_MAX_BROKERS + 8];
	static char specs[CLIENT_MAX_BROKERS + 1][48];
	int n;

	/* UUID: 238 bytes fit the PREPARE, 239 do not */
	memset(uuid, 'u', PROTO_UUID_MAX);
	uuid[PROTO_UUID_MAX] = '\0';
	CHECK_EQ(PARSE("-u", uuid, "-i", "a", "-b", "h:1"), 0);
	CHECK_EQ(strlen(opt.uuid), 238);
	uuid[PROTO_UUID_MAX] = 'v';
	uuid[PROTO_UUID_MAX + 1] = '\0';
	bad(PARSE("-u", uuid, "-i", "a", "-b", "h:1"), "-u", "uuuuuuuuuuuuuuuuuuuu");
	CHECK(strstr(err, "238") != NULL);

	/* interface names: 15 bytes at most */
	CHECK_EQ(PARSE("-u", "x", "-i", "abcdefghijklmno", "-b", "h:1"), 0);
	bad(PARSE("-u", "x", "-i", "abcdefghijklmnop", "-b", "h:1"), "-i",
	    "abcdefghijklmnop");
	CHECK_EQ(PARSE_OK("-I", "abcdefghijklmno"), 0);
	bad(PARSE_OK("-I", "abcdefghijklmnop"), "-I", "abcdefghijklmnop");

	/* host names: 253 bytes at most, in labels of 63 */
	for (int i = 0; i < CLI_HOST_MAX + 1; i++)
		host[i] = i % 64 == 63 ? '.' : 'h';
	strcpy(host + CLI_HOST_MAX, ":8942");
	CHECK_EQ(PARSE_OK("-b", host), 0);
	CHECK_EQ(strlen(opt.brokers[1].host), CLI_HOST_MAX);
	strcpy(host + CLI_HOST_MAX + 1, ":8942");
	bad(PARSE_OK("-b", host), "-b", "hhhhhhhhhhhhhhhhhhhh");

	/* brokers: up to 64 */
	argv[0] = "l2tpd";
	argv[1] = "-u";
	argv[2] = "x";
	argv[3] = "-i";
	argv[4] = "a";
	n = 5;
	for (int i = 0; i <= CLIENT_MAX_BROKERS; i++) {
		snprintf(specs[i], sizeof(specs[i]), "b%d.example:%d", i, 1000 + i);
		argv[n++] = "-b";
		argv[n++] = specs[i];
	}
	argv[n] = NULL;
	CHECK_EQ(parse_argv(argv), -1); /* 65 */
	bad(-1, "-b", "b64.example:1064");
	CHECK(strstr(err, "64") != NULL);
	argv[n - 2] = NULL; /* 64 */
	CHECK_EQ(parse_argv(argv), 0);
	CHECK_EQ(opt.nbrokers, CLIENT_MAX_BROKERS);
	CHECK(!strcmp(opt.brokers[63].host, "b63.example"));
	CHECK_EQ(opt.brokers[63].port, 1063);
	CHECK(!strcmp(opt.brokers[0].host, "b0.example"));
	argv[9] = NULL; /* 2 */
	CHECK_EQ(parse_argv(argv), 0);
	CHECK_EQ(opt.nbrokers, 2);
	CHECK_EQ(opt.brokers[1].port, 1001);
}

SUITE(cli_errors)
{
	const char svc[] = "domain 53/udp\ntunneldigger 8942/udp\ntcponly 99/tcp\n";
	char services[] = "/tmp/l2tpd-test-services-XXXXXX";
	int fd;

	/* required options */
	bad(PARSE("-i", "a", "-b", "h:1"), "-u", NULL);
	bad(PARSE("-u", "x", "-b", "h:1"), "-i", NULL);
	bad(PARSE("-u", "x", "-i", "a"), "-b", NULL);
	CHECK_EQ(parse_argv((char *[]){ "l2tpd", NULL }), -1);

	/* UUID */
	bad(PARSE("-u", "", "-i", "a", "-b", "h:1"), "-u", NULL);
	bad(PARSE("-u", "ab\xff", "-i", "a", "-b", "h:1"), "-u", "ab\\xff");
	CHECK(!strchr(err, '\xff'));
	bad(PARSE_OK("-u", "\xc0\xaf"), "-u", "\\xc0\\xaf");     /* overlong '/' */
	bad(PARSE_OK("-u", "a\xe0\x80\xaf"), "-u", "a\\xe0");    /* overlong */
	bad(PARSE_OK("-u", "\xed\xa0\x80"), "-u", "\\xed\\xa0"); /* surrogate */
	bad(PARSE_OK("-u", "\xf4\x90\x80\x80"), "-u", "\\xf4");  /* > U+10FFFF */
	bad(PARSE_OK("-u", "x\xe2\x82"), "-u", "x\\xe2\\x82");   /* cut short */
	bad(PARSE_OK("-u", "\x80"), "-u", "\\x80");              /* lone continuation */
	bad(PARSE_OK("-u", "\xf8\x88\x80\x80\x80"), "-u", "\\xf8");

	/* interface names */
	bad(PARSE("-u", "x", "-i", "", "-b", "h:1"), "-i", NULL);
	bad(PARSE_OK("-i", "a/b"), "-i", "a/b");
	bad(PARSE_OK("-i", "a b"), "-i", "a b");
	bad(PARSE_OK("-i", ".."), "-i", "..");
	bad(PARSE_OK("-I", ""), "-I", NULL);

	/* brokers */
	bad(PARSE_OK("-b", "nohost"), "-b", "nohost");
	bad(PARSE_OK("-b", ":53"), "-b", ":53");
	bad(PARSE_OK("-b", "h:"), "-b", "h:");
	bad(PARSE_OK("-b", "h:0"), "-b", "h:0");
	bad(PARSE_OK("-b", "h:65536"), "-b", "h:65536");
	bad(PARSE_OK("-b", "h:99999999999999999999999"), "-b", "h:99999999999999999999999");
	bad(PARSE_OK("-b", "h:53x"), "-b", "h:53x");
	bad(PARSE_OK("-b", "h:-53"), "-b", "h:-53");
	bad(PARSE_OK("-b", "h:no-such-service-l2tpd-test"), "-b",
	    "no-such-service-l2tpd-test");
	bad(PARSE_OK("-b", "::1:53"), "-b", "::1:53");
	/* service names come from the services file */
	fd = mkstemp(services);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, svc, sizeof(svc) - 1) == (ssize_t)sizeof(svc) - 1);
	close(fd);
	setenv("L2TPD_SERVICES", services, 1);
	CHECK_EQ(PARSE_OK("-b", "dns.example:domain"), 0);
	CHECK(!strcmp(opt.brokers[1].host, "dns.example"));
	CHECK_EQ(opt.brokers[1].port, 53);
	CHECK_EQ(PARSE_OK("-b", "b.example:tunneldigger"), 0);
	CHECK_EQ(opt.brokers[1].port, 8942);
	bad(PARSE_OK("-b", "h:tcponly"), "-b", "tcponly");
	unsetenv("L2TPD_SERVICES");
	unlink(services);

	/* tunnel id */
	bad(PARSE_OK("-t", "0"), "-t", "0");
	bad(PARSE_OK("-t", "abc"), "-t", "abc");
	bad(PARSE_OK("-t", "-1"), "-t", "-1");
	bad(PARSE_OK("-t", "4294967296"), "-t", "4294967296");
	bad(PARSE_OK("-t", "18446744073709551617"), "-t", "18446744073709551617");
	bad(PARSE_OK("-t", ""), "-t", NULL);
	bad(PARSE_OK("-t", " 5"), "-t", " 5");
	bad(PARSE_OK("-t", "+5"), "-t", "+5");
	bad(PARSE_OK("-t", "5x"), "-t", "5x");
	bad(PARSE_OK("-t", "0x10"), "-t", "0x10");

	/* bandwidth limit */
	bad(PARSE_OK("-L", "-5"), "-L", "-5");
	bad(PARSE_OK("-L", "abc"), "-L", "abc");
	bad(PARSE_OK("-L", "4294967296"), "-L", "4294967296");
	bad(PARSE_OK("-L", "1.5"), "-L", "1.5");

	/* local address */
	bad(PARSE_OK("-l", "300.1.1.1"), "-l", "300.1.1.1");
	bad(PARSE_OK("-l", "abc"), "-l", "abc");
	bad(PARSE_OK("-l", "1.2.3"), "-l", "1.2.3");
	bad(PARSE_OK("-l", "::1%0"), "-l", "::1%0");
	bad(PARSE_OK("-l", ""), "-l", NULL);

	/* hook */
	bad(PARSE_OK("-s", ""), "-s", NULL);

	/* unknown options and stray words */
	bad(PARSE_OK("-x"), "-x", NULL);
	bad(PARSE_OK("-fx"), "-x", NULL);
	bad(PARSE_OK("-d"), "-d", NULL);
	bad(PARSE_OK("stray"), "stray", NULL);
	bad(PARSE_OK("-"), "'-'", NULL);
	bad(PARSE_OK("--", "more"), "more", NULL);
	bad(PARSE_OK("--long"), "--", NULL);

	/* a value missing at the end */
	bad(PARSE("-i", "a", "-b", "h:1", "-u"), "-u", NULL);
	CHECK(strstr(err, "missing") != NULL);
	bad(PARSE_OK("-b"), "-b", NULL);
	bad(PARSE_OK("-t"), "-t", NULL);
	bad(PARSE_OK("-L"), "-L", NULL);
	bad(PARSE_OK("-l"), "-l", NULL);
	bad(PARSE_OK("-p"), "-p", NULL);
	bad(PARSE_OK("-fs"), "-s", NULL);

	/* the first error wins, later options are not looked at */
	bad(PARSE("-t", "0", "-x"), "-t", "0");
	/* -h does not hide a bad option before it */
	bad(PARSE("-x", "-h"), "-x", NULL);
}

/* Values that reach the status file and the hook environment: no line
 * breaks or other control characters get through. */
SUITE(cli_hostile_values)
{
	static char label[80], host[300];

	/* UUID: control characters anywhere, UTF-8 still fine */
	bad(PARSE_OK("-u", "evil\nstate=keepalive"), "-u", "evil\\x0astate");
	bad(PARSE_OK("-u", "a\tb"), "-u", "a\\x09b");
	bad(PARSE_OK("-u", "a\rb"), "-u", "a\\x0db");
	bad(PARSE_OK("-u", "\x1b[31m"), "-u", "\\x1b[31m");
	bad(PARSE_OK("-u", "del\x7f"), "-u", "del\\x7f");
	CHECK_EQ(PARSE_OK("-u", "caf\xc3\xa9 node-1"), 0);

	/* -b host: RFC 1123 names or an address literal only */
	bad(PARSE_OK("-b", "evil\nstate=keepalive:53:8942"), "-b", "evil\\x0astate");
	bad(PARSE_OK("-b", "a b:8942"), "-b", "a b:8942");
	bad(PARSE_OK("-b", "a_b.example:8942"), "-b", "a_b.example");
	bad(PARSE_OK("-b", "-lead.example:8942"), "-b", "-lead.example");
	bad(PARSE_OK("-b", "trail-.example:8942"), "-b", "trail-.example");
	bad(PARSE_OK("-b", "a..b:8942"), "-b", "a..b");
	bad(PARSE_OK("-b", ".a:8942"), "-b", ".a");
	bad(PARSE_OK("-b", "caf\xc3\xa9.example:8942"), "-b", "caf\\xc3\\xa9");
	bad(PARSE_OK("-b", "h%2e:8942"), "-b", "h%2e");
	memset(label, 'l', 64);
	label[64] = '\0';
	snprintf(host, sizeof(host), "%s.example:1", label);
	bad(PARSE_OK("-b", host), "-b", "llllllllll");
	label[63] = '\0';
	snprintf(host, sizeof(host), "%s.example:1", label);
	CHECK_EQ(PARSE_OK("-b", host), 0);
	CHECK_EQ(PARSE_OK("-b", "Broker-2.Example.NET.:8942"), 0);
	CHECK(!strcmp(opt.brokers[1].host, "Broker-2.Example.NET."));
	CHECK_EQ(PARSE_OK("-b", "192.0.2.1:8942"), 0);
	CHECK(!strcmp(opt.brokers[1].host, "192.0.2.1"));
	CHECK_EQ(PARSE_OK("-b", "4tier.example:8942"), 0);

	/* interface names: the kernel's rule (dev_valid_name) */
	bad(PARSE_OK("-i", "mesh:vpn"), "-i", "mesh:vpn");
	bad(PARSE_OK("-I", "eth0:1"), "-I", "eth0:1");
	bad(PARSE_OK("-i", "."), "-i", NULL);
	bad(PARSE_OK("-I", ".."), "-I", "..");
	bad(PARSE_OK("-I", "a/b"), "-I", "a/b");
	bad(PARSE_OK("-i", "a\tb"), "-i", "a\\x09b");
	bad(PARSE_OK("-i", "a\nb"), "-i", "a\\x0ab");
	bad(PARSE_OK("-i", "a\vb"), "-i", "a\\x0bb");
	bad(PARSE_OK("-I", "a\fb"), "-I", "a\\x0cb");
	bad(PARSE_OK("-i", "x\x7f"), "-i", "x\\x7f");
	bad(PARSE_OK("-i", "x\x01"), "-i", "x\\x01");
	CHECK_EQ(PARSE("-u", "x", "-i", "mesh-vpn.1", "-b", "h:1"), 0);
	CHECK(!strcmp(opt.ifname, "mesh-vpn.1"));
	CHECK_EQ(PARSE("-u", "x", "-i", "...", "-b", "h:1"), 0);
	CHECK_EQ(PARSE("-u", "x", "-i", "t\xc3\xa9", "-b", "h:1"), 0);
}

SUITE(cli_ipv6)
{
	static char *const bracket_errors[] = {
		"[2001:db8::1]", "[2001:db8::1]8942", "[2001:db8::1:8942",
		"[]:8942", "[192.0.2.1]:8942", "[2001:db8:::1]:8942",
		"[fe80::1%]:8942", "[fe80::1%a/b]:8942", "[fe80::1%0]:8942",
		"[fe80::1%0123456789abcdef]:8942", "[2001:db8::1]:",
		"[2001:db8::1]:0", "[2001:db8::1]:65536", "[2001:db8::1]:1:2",
		"[2001:db8::1]:no-such-service-l2tpd-test", "[[2001:db8::1]]:1",
		"[ 2001:db8::1]:1", "[2001:db8::1 ]:1", "[broker.example]:1",
		"[2001:db8::1]]:1", "[2001:db8::1%eth0%1]:1",
	};
	unsigned lo = if_nametoindex("lo");
	char buf[CLI_HOST_MAX + 9];

	REQUIRE(lo > 0);
	/* brokers: bracketed literals keep their text, without brackets */
	CHECK_EQ(PARSE_OK("-b", "[2001:db8::1]:8942", "-b", "[fe80::1%eth0]:8943",
			  "-b", "[::ffff:192.0.2.1]:1", "-b", "[FE80::2%3]:65535",
			  "-b", "192.0.2.1:8942"), 0);
	CHECK_EQ(opt.nbrokers, 6);
	CHECK(!strcmp(opt.brokers[1].host, "2001:db8::1"));
	CHECK_EQ(opt.brokers[1].port, 8942);
	CHECK(!strcmp(opt.brokers[2].host, "fe80::1%eth0"));
	CHECK_EQ(opt.brokers[2].port, 8943);
	CHECK(!strcmp(opt.brokers[3].host, "::ffff:192.0.2.1"));
	CHECK(!strcmp(opt.brokers[4].host, "FE80::2%3"));
	CHECK_EQ(opt.brokers[4].port, 65535);
	CHECK(!strcmp(opt.brokers[5].host, "192.0.2.1"));
	/* the scope's interface need not exist yet */
	CHECK_EQ(PARSE_OK("-b", "[fe80::1%no-such-if0]:1"), 0);
	CHECK(!strcmp(opt.brokers[1].host, "fe80::1%no-such-if0"));

	/* an IPv6 literal without brackets: one line that says to use them */
	bad(PARSE_OK("-b", "2001:db8::1:8942"), "-b", "2001:db8::1:8942");
	CHECK(strstr(err, "[ADDRESS]:PORT") != NULL);
	bad(PARSE_OK("-b", "2001:db8::1"), "-b", "brackets");
	bad(PARSE_OK("-b", "fe80::1%eth0:8942"), "-b", "brackets");
	bad(PARSE_OK("-b", "::ffff:192.0.2.1:8942"), "-b", "brackets");
	for (size_t i = 0; i < sizeof(bracket_errors) / sizeof(bracket_errors[0]); i++)
		bad(PARSE_OK("-b", bracket_errors[i]), "-b",
		    bracket_errors[i]);

	/* -l: either family, a scope name looked up at once */
	CHECK_EQ(PARSE_OK("-f"), 0);
	CHECK_EQ(opt.local.sa.sa_family, AF_UNSPEC);
	CHECK_EQ(PARSE_OK("-l", "192.0.2.7"), 0);
	CHECK(test_is_addr(&opt.local, "192.0.2.7", 0));
	CHECK_EQ(PARSE_OK("-l", "2001:DB8::2"), 0);
	CHECK(test_is_addr(&opt.local, "2001:db8::2", 0));
	CHECK_EQ(PARSE_OK("-l", "fe80::2%lo"), 0);
	CHECK(test_is_addr(&opt.local, "fe80::2", lo));
	CHECK_EQ(PARSE_OK("-l", "fe80::2%5"), 0);
	CHECK(test_is_addr(&opt.local, "fe80::2", 5));
	/* an IPv4-mapped address is IPv4 on the wire: brokers of that family */
	CHECK_EQ(PARSE_OK("-l", "::ffff:192.0.2.9"), 0);
	CHECK_EQ(opt.local.sa.sa_family, AF_INET);
	CHECK(test_is_addr(&opt.local, "192.0.2.9", 0));
	bad(PARSE_OK("-l", "fe80::2%no-such-if0"), "-l", "no such interface");
	bad(PARSE_OK("-l", "[::1]"), "-l", "[::1]");
	bad(PARSE_OK("-l", "::1:"), "-l", "::1:");
	bad(PARSE_OK("-l", "192.0.2.7%1"), "-l", "192.0.2.7%1");
	bad(PARSE_OK("-l", "1::2::3"), "-l", "IPv6");
	bad(PARSE_OK("-l", "fe80::1%a\nb"), "-l", "fe80::1%a\\x0ab");

	/* how a broker is named again */
	CHECK_EQ(PARSE_OK("-b", "[2001:db8::1]:8942", "-b", "192.0.2.1:1"), 0);
	CHECK_EQ(cli_format_broker(&opt.brokers[0], buf, sizeof(buf)), 14);
	CHECK(!strcmp(buf, "b.example:8942"));
	CHECK_EQ(cli_format_broker(&opt.brokers[1], buf, sizeof(buf)), 18);
	CHECK(!strcmp(buf, "[2001:db8::1]:8942"));
	CHECK_EQ(cli_format_broker(&opt.brokers[2], buf, sizeof(buf)), 11);
	CHECK(!strcmp(buf, "192.0.2.1:1"));
	CHECK_EQ(cli_format_broker(&opt.brokers[1], buf, 18), -ENOSPC);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(cli_format_broker(&opt.brokers[1], buf, 19), 18);
}
