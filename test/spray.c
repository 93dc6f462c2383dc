/* SPDX-License-Identifier: MIT */
/*
 * Hostile input for a running l2tpd.
 *
 *   spray udp SRC_IP[:PORT] DST_IP:PORT COUNT [GAP_US]
 *   spray netlink PROTOCOL PORTID COUNT [IFNAME]
 *
 * udp: COUNT datagrams from SRC_IP (and PORT, shared with whoever has it
 * bound through SO_REUSEADDR/SO_REUSEPORT, as the broker does), GAP_US
 * microseconds apart.  Every datagram is one the control protocol's decoder
 * must reject, built so by construction: bad magic or version, a length
 * byte past the end, unknown types, types a broker never sends, and wrong
 * payload sizes.  None is a message a broker may send, so a client that
 * acts on any of them has a defect.
 *
 * netlink: COUNT messages to the netlink socket PORTID of PROTOCOL (0 route,
 * 16 generic): random bytes, headers whose lengths lie, and link messages
 * with broken attributes.  With IFNAME, every 16th message is a well-formed
 * RTM_NEWLINK saying that IFNAME is down, which only the kernel may say.
 * The kernel lets only CAP_NET_ADMIN send to another process's socket.
 *
 * Prints "sent N", N the datagrams the kernel accepted, and the error of
 * the first one it refused on stderr.
 */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HDR 6

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 16);
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		p[k] = (unsigned char)rnd();
}

static int parse_addr(const char *s, struct sockaddr_in *sa, int need_port)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);

	if (hl >= sizeof(host) || (need_port && !colon))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = colon ? htons((unsigned short)atoi(colon + 1)) : 0;
	return 0;
}

/* Payload lengths a broker's message of this type never has. */
static size_t bad_len(unsigned char type)
{
	static const unsigned char cookie[] = { 0, 7, 9, 16 };
	static const unsigned char tunnel[] = { 0, 3, 5, 7, 9 };
	static const unsigned char two[] = { 0, 1, 3, 4 };

	switch (type) {
	case 0x01: /* COOKIE: exactly 8 */
		return cookie[rnd() % sizeof(cookie)];
	case 0x03: /* ERROR: 0 or 1 */
		return 2 + rnd() % 10;
	case 0x04: /* TUNNEL: 4 or 8 */
		return tunnel[rnd() % sizeof(tunnel)];
	case 0x06: /* PMTUD: length byte 0 */
		return 1 + rnd() % 20;
	default: /* USAGE, PMTUD_ACK, REL_ACK, PMTU_NTFY: exactly 2 */
		return two[rnd() % sizeof(two)];
	}
}

/* One datagram the decoder must reject, into buf; returns its length. */
static size_t hostile_dgram(unsigned char *buf, size_t cap, unsigned i)
{
	static const unsigned char sized[] = { 0x01, 0x03, 0x04, 0x06, 0x07,
					       0x08, 0x09, 0x0a };
	size_t len, l;

	memcpy(buf, "\x80\x73\xA7\x01", 4);
	switch (i % 6) {
	case 0: /* random bytes, wrong first byte */
		len = rnd() % cap;
		fill(buf, len);
		if (len)
			buf[0] = (unsigned char)(buf[0] == 0x80 ? 0x00 : buf[0]);
		return len;
	case 1: /* right magic, wrong version */
		len = HDR + rnd() % 32;
		fill(buf + 3, len - 3);
		buf[3] = (unsigned char)(2 + rnd() % 254);
		return len;
	case 2: /* a length byte past the end of the datagram */
		buf[4] = (unsigned char)(1 + rnd() % 10);
		l = 1 + rnd() % 255;
		len = HDR + rnd() % l;
		buf[5] = (unsigned char)l;
		fill(buf + HDR, len - HDR);
		return len;
	case 3: /* a type nobody sends */
		do
			buf[4] = (unsigned char)rnd();
		while ((buf[4] >= 0x01 && buf[4] <= 0x0a) || buf[4] == 0x80);
		break;
	case 4: /* types only a client sends: PREPARE, LIMIT */
		buf[4] = rnd() % 2 ? 0x02 : 0x80;
		break;
	default: /* a size the type never has */
		buf[4] = sized[rnd() % sizeof(sized)];
		l = bad_len(buf[4]);
		buf[5] = (unsigned char)l;
		len = HDR + l;
		fill(buf + HDR, len - HDR);
		/* zero padding up to 12 bytes, as senders pad */
		for (; len < 12; len++)
			buf[len] = 0;
		return len;
	}
	l = rnd() % 40;
	buf[5] = (unsigned char)l;
	len = HDR + l + rnd() % 8;
	fill(buf + HDR, len - HDR);
	return len;
}

static int spray_udp(int argc, char **argv)
{
	struct sockaddr_in src, dst;
	unsigned char buf[2048];
	long count, gap, sent = 0, refused = 0;
	int one = 1, fd;

	if (argc < 5 || parse_addr(argv[2], &src, 0) ||
	    parse_addr(argv[3], &dst, 1))
		return 2;
	count = atol(argv[4]);
	gap = argc > 5 ? atol(argv[5]) : 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("spray: socket");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		size_t len = hostile_dgram(buf, sizeof(buf), (unsigned)i);

		if (sendto(fd, buf, len, 0, (struct sockaddr *)&dst,
			   sizeof(dst)) == (ssize_t)len)
			sent++;
		else if (!refused++)
			perror("spray: sendto");
		if (gap)
			usleep((useconds_t)gap);
		else if (i % 64 == 63)
			usleep(1000);
	}
	close(fd);
	printf("sent %ld\n", sent);
	return 0;
}

static void put16(unsigned char *p, unsigned v)
{
	memcpy(p, &(unsigned short){ (unsigned short)v }, 2);
}

static void put32(unsigned char *p, unsigned v)
{
	memcpy(p, &v, 4);
}

/* A well-formed RTM_NEWLINK: IFNAME, flags 0 (down). */
static size_t forged_link_down(unsigned char *buf, const char *ifname)
{
	size_t nl = strlen(ifname) + 1, alen = 4 + nl;
	size_t len = NLMSG_HDRLEN + 16 + NLMSG_ALIGN(alen);

	memset(buf, 0, len);
	put32(buf, (unsigned)len);
	put16(buf + 4, 16); /* RTM_NEWLINK */
	put32(buf + 8, rnd());
	/* ifinfomsg: family, type, index, flags 0, change */
	put16(buf + NLMSG_HDRLEN + 16, (unsigned)alen);
	put16(buf + NLMSG_HDRLEN + 18, 3); /* IFLA_IFNAME */
	memcpy(buf + NLMSG_HDRLEN + 20, ifname, nl);
	return len;
}

/* A netlink message that lies about its lengths; returns its size. */
static size_t hostile_nlmsg(unsigned char *buf, size_t cap, unsigned i)
{
	size_t len = 4 + rnd() % 200;
	unsigned type = i % 2 ? 16 : rnd() % 40; /* RTM_NEWLINK or any */

	if (len > cap)
		len = cap;
	fill(buf, len);
	switch (i % 4) {
	case 0: /* random bytes */
		break;
	case 1: /* nlmsg_len past the end, or below the header */
		put32(buf, i % 8 == 1 ? (unsigned)(len + 1 + rnd() % 4096)
				      : rnd() % NLMSG_HDRLEN);
		if (len >= 6)
			put16(buf + 4, type);
		break;
	default: /* a link message whose attributes lie */
		if (len < NLMSG_HDRLEN + 16 + 4)
			len = NLMSG_HDRLEN + 16 + 4;
		put32(buf, (unsigned)len);
		put16(buf + 4, type);
		put16(buf + NLMSG_HDRLEN + 16, 4 + rnd() % 1024);
		put16(buf + NLMSG_HDRLEN + 18, i % 8 < 4 ? 3 : rnd() % 64);
		break;
	}
	return len;
}

static int spray_netlink(int argc, char **argv)
{
	struct sockaddr_nl dst = { .nl_family = AF_NETLINK };
	unsigned char buf[512];
	const char *ifname;
	long count, sent = 0, refused = 0;
	int fd;

	if (argc < 5)
		return 2;
	dst.nl_pid = (unsigned)strtoul(argv[3], NULL, 0);
	count = atol(argv[4]);
	ifname = argc > 5 ? argv[5] : NULL;
	if (ifname && strlen(ifname) > 15)
		return 2;
	fd = socket(AF_NETLINK, SOCK_RAW, atoi(argv[2]));
	if (fd < 0) {
		perror("spray: netlink");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		size_t len = ifname && i % 16 == 15
				     ? forged_link_down(buf, ifname)
				     : hostile_nlmsg(buf, sizeof(buf), (unsigned)i);

		/* never wait: a socket nobody reads fills up */
		if (sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&dst,
			   sizeof(dst)) == (ssize_t)len)
			sent++;
		else if (!refused++)
			perror("spray: sendto");
		usleep(500);
	}
	close(fd);
	printf("sent %ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	if (argc > 1 && !strcmp(argv[1], "udp"))
		r = spray_udp(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "netlink"))
		r = spray_netlink(argc, argv);
	if (r == 2)
		fprintf(stderr,
			"usage: spray udp SRC_IP[:PORT] DST_IP:PORT COUNT [GAP_US]\n"
			"       spray netlink PROTOCOL PORTID COUNT [IFNAME]\n");
	return r;
}
