/* SPDX-License-Identifier: MIT */
#include "log.h"
#include "fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_REPEAT_MS 60000
#define LOG_RECENT 32

struct recent_line {
	uint32_t hash;
	int64_t at_ms;
	unsigned held;
};

static bool log_opened;
static int log_fd = -1;
static bool log_stderr;
static bool log_debug_on;
static struct recent_line recent[LOG_RECENT];
static unsigned recent_next;

/*
 * syslog(3) would pull the time-zone and date-formatting code into the
 * static binary only to stamp a time the log daemon stamps anyway on
 * receipt, so lines go to /dev/log directly as "<PRI>l2tpd[PID]: text".
 */
static void log_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };

	if (log_fd < 0)
		log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (log_fd >= 0 && connect(log_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(log_fd);
		log_fd = -1;
	}
}

static void log_syslog(int prio, const char *line)
{
	char msg[600];
	int n;

	n = fmt_snprintf(msg, sizeof(msg), "<%d>l2tpd[%d]: %s", LOG_DAEMON | prio,
		     (int)getpid(), line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (log_fd < 0)
		log_connect();
	/* A restarted log daemon has a new socket: reconnect once. */
	if (log_fd >= 0 && send(log_fd, msg, (size_t)n, MSG_NOSIGNAL) < 0 &&
	    (errno == ECONNREFUSED || errno == ENOTCONN)) {
		close(log_fd);
		log_fd = -1;
		log_connect();
		if (log_fd >= 0)
			(void)send(log_fd, msg, (size_t)n, MSG_NOSIGNAL);
	}
}

void log_open(bool to_stderr, bool debug)
{
	log_stderr = to_stderr;
	log_debug_on = debug;
	log_connect();
	log_opened = true;
}

void log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_opened = false;
}

static int64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Returns how many copies were held back before this one, or -1 to drop it. */
static long log_admit(const char *line)
{
	uint32_t h = fnv1a(line);
	int64_t now = log_now_ms();
	unsigned held;

	for (unsigned i = 0; i < LOG_RECENT; i++) {
		struct recent_line *r = &recent[i];

		if (r->at_ms == 0 || r->hash != h)
			continue;
		if (now - r->at_ms < LOG_REPEAT_MS) {
			r->held++;
			return -1;
		}
		held = r->held;
		r->at_ms = now;
		r->held = 0;
		return held;
	}
	recent[recent_next] = (struct recent_line){ h, now ? now : 1, 0 };
	recent_next = (recent_next + 1) % LOG_RECENT;
	return 0;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	long held;

	if (!log_opened || (prio == LOG_DEBUG && !log_debug_on))
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	held = log_admit(line);
	if (held < 0)
		return;
	if (held > 0) {
		size_t k = strlen(line);

		fmt_snprintf(line + k, sizeof(line) - k, " (%ld repeats held back)", held);
	}
	log_syslog(prio, line);
	if (log_stderr) {
		char out[sizeof(line) + 16];
		int n = fmt_snprintf(out, sizeof(out), "l2tpd: %s\n", line);

		/* one write per line, so lines from hooks do not interleave */
		if (n > 0)
			(void)!write(STDERR_FILENO, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
	}
}
