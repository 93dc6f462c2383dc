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

#define LOG_LINE_MAX 512
#define LOOP_REPORT_MS 60000
#define LOOP_LINES 32
#define LOOP_LINE_MAX 320

/* One line of a failing retry loop, held back while it repeats. */
struct loop_line {
	uint32_t key;  /* 0: free */
	uint32_t text;
	int64_t shown_at;
	unsigned held;
	int prio;
	char line[LOOP_LINE_MAX];
};

static bool log_opened;
static int log_fd = -1;
static bool log_stderr;
static bool log_debug_on;
static struct loop_line loops[LOOP_LINES];
static void (*capture_sink)(int prio, const char *line);
static int64_t (*capture_clock)(void);

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

	if (capture_clock)
		return capture_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h ? h : 1;
}

static void log_write(int prio, const char *line)
{
	char out[LOG_LINE_MAX + 16];
	int n;

	if (capture_sink) {
		capture_sink(prio, line);
		return;
	}
	log_syslog(prio, line);
	if (!log_stderr)
		return;
	/* one write per line, so lines from hooks do not interleave */
	n = fmt_snprintf(out, sizeof(out), "l2tpd: %s\n", line);
	if (n > 0)
		(void)!write(STDERR_FILENO, out,
			     (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
}

/* Formats the line; false if nobody wants it. */
static bool __attribute__((format(printf, 4, 0)))
log_format(int prio, char *line, size_t n, const char *fmt, va_list ap)
{
	if (!(log_opened || capture_sink) || (prio == LOG_DEBUG && !log_debug_on))
		return false;
	fmt_vsnprintf(line, n, fmt, ap);
	return true;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	bool wanted;

	va_start(ap, fmt);
	wanted = log_format(prio, line, sizeof(line), fmt, ap);
	va_end(ap);
	if (wanted)
		log_write(prio, line);
}

/* Writes the line again with the count of copies held back since it was
 * last written, and empties the slot if `drop`. */
static void loop_report(struct loop_line *l, int64_t now, bool drop)
{
	if (l->held) {
		char out[LOG_LINE_MAX];

		fmt_snprintf(out, sizeof(out), "%s (%u repeats held back)", l->line,
			 l->held);
		log_write(l->prio, out);
		l->held = 0;
		l->shown_at = now ? now : 1;
	}
	if (drop)
		l->key = 0;
}

void log_loop(const char *key, int prio, const char *fmt, ...)
{
	uint32_t k = fnv1a(key), t;
	struct loop_line *slot = NULL, *oldest = &loops[0];
	int64_t now = log_now_ms();
	char line[LOOP_LINE_MAX];
	va_list ap;
	bool wanted;

	va_start(ap, fmt);
	wanted = log_format(prio, line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!wanted)
		return;
	t = fnv1a(line);
	for (unsigned i = 0; i < LOOP_LINES; i++) {
		struct loop_line *l = &loops[i];

		if (l->key == k && l->text == t) {
			if (now - l->shown_at < LOOP_REPORT_MS) {
				l->held++;
				return;
			}
			/* a minute on: this copy goes out, with the count */
			if (l->held) {
				loop_report(l, now, false);
			} else {
				l->shown_at = now ? now : 1;
				log_write(prio, line);
			}
			return;
		}
		if (!l->key && !slot)
			slot = l;
		if (l->key && l->shown_at < oldest->shown_at)
			oldest = l;
	}
	if (!slot) {
		slot = oldest;
		loop_report(slot, now, true);
	}
	*slot = (struct loop_line){ .key = k, .text = t, .prio = prio,
				    .shown_at = now ? now : 1 };
	memcpy(slot->line, line, sizeof(line));
	log_write(prio, line);
}

void log_loop_end(const char *key)
{
	uint32_t k = fnv1a(key);
	int64_t now = log_now_ms();

	for (unsigned i = 0; i < LOOP_LINES; i++)
		if (loops[i].key == k)
			loop_report(&loops[i], now, true);
}

void log_capture(void (*sink)(int prio, const char *line),
		 int64_t (*clock)(void))
{
	capture_sink = sink;
	capture_clock = clock;
	memset(loops, 0, sizeof(loops));
}
