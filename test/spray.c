/* SPDX-License-Identifier: MIT */
/*
 * spray SRC_IP DST_IP:PORT COUNT: sends COUNT hostile datagrams from SRC_IP
 * to DST_IP:PORT: random bytes of random length, valid headers with lying
 * length bytes, every message type with odd payload sizes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 16);
}

int main(int argc, char **argv)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned char buf[2048];
	char host[64], *colon;
	long count;
	int fd;

	if (argc != 4 || strlen(argv[2]) >= sizeof(host)) {
		fprintf(stderr, "usage: spray SRC_IP DST_IP:PORT COUNT\n");
		return 2;
	}
	strcpy(host, argv[2]);
	colon = strchr(host, ':');
	if (!colon)
		return 2;
	*colon = '\0';
	if (inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		return 2;
	dst.sin_port = htons((unsigned short)atoi(colon + 1));
	count = atol(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("spray");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t k = 0; k < len; k++)
			buf[k] = (unsigned char)rnd();
		if (i % 2 && len >= 6) {
			/* a valid header: only the rest can be wrong */
			memcpy(buf, "\x80\x73\xA7\x01", 4);
			buf[4] = (unsigned char)(i % 3 ? rnd() % 12 : rnd());
			len = 6 + rnd() % 16;
		}
		sendto(fd, buf, len, 0, (struct sockaddr *)&dst, sizeof(dst));
		if (i % 64 == 63)
			usleep(1000);
	}
	close(fd);
	return 0;
}
