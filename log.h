/* SPDX-License-Identifier: MIT */
/*
 * Logging to syslog (ident "l2tpd", facility daemon) and, in the foreground,
 * to stderr.  Every line is written, except repeats of a failing retry loop:
 * log_loop() lines with the same key (the loop, e.g. a broker) and the same
 * text are held back; the count goes out with the line once a minute, and
 * when log_loop_end() says the loop is over.
 */
#ifndef L2TPD_LOG_H
#define L2TPD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void log_open(bool to_stderr, bool debug);
void log_close(void);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_loop(const char *key, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_loop_end(const char *key);
/* Lines go to `sink` instead, with `clock` as the time (monotonic ms), so
 * the holding back can be seen at work; NULL, NULL ends that. */
void log_capture(void (*sink)(int prio, const char *line),
		 int64_t (*clock)(void));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
