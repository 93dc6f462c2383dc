/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_REPEAT_MS 60000
#define LOG_RECENT 32

struct recent_line {
	uint32_t hash;
	int64_t at_ms;
	unsigned held;
};

static bool log_opened;
static bool log_stderr;
static bool log_debug_on;
static struct recent_line recent[LOG_RECENT];
static unsigned recent_next;

void log_open(bool to_stderr, bool debug)
{
	log_stderr = to_stderr;
	log_debug_on = debug;
	openlog("l2tpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_opened = true;
}

void log_close(void)
{
	if (log_opened)
		closelog();
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
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	held = log_admit(line);
	if (held < 0)
		return;
	if (held > 0)
		syslog(prio, "%s (%ld repeats held back)", line, held);
	else
		syslog(prio, "%s", line);
	if (log_stderr) {
		if (held > 0)
			fprintf(stderr, "l2tpd: %s (%ld repeats held back)\n", line, held);
		else
			fprintf(stderr, "l2tpd: %s\n", line);
	}
}
