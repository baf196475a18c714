/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Daemon and CLI messages. Errors and warnings always go out; debug lines
 * only when cow_log_debug is set (-d). Before daemonising messages go to
 * stderr, afterwards to syslog.
 */
#ifndef COW_LOG_H
#define COW_LOG_H

#include <stdbool.h>

extern bool cow_log_debug;

void cow_log_to_syslog(void);
void cow_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cow_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cow_dbg_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define cow_dbg(...)                                                           \
	do {                                                                   \
		if (cow_log_debug)                                             \
			cow_dbg_(__VA_ARGS__);                                 \
	} while (0)

#endif
