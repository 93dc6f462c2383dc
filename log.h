/* SPDX-License-Identifier: MIT */
/*
 * Logging to syslog (ident "l2tpd", facility daemon) and, in the foreground,
 * to stderr.  An identical line is written at most once per minute; how many
 * copies were held back is appended when it is next written.
 */
#ifndef L2TPD_LOG_H
#define L2TPD_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open(bool to_stderr, bool debug);
void log_close(void);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
