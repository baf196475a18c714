// SPDX-License-Identifier: GPL-2.0-or-later
/* Message output for daemon and CLI: stderr, or syslog once daemonised. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

bool cow_log_debug;
static bool use_syslog;

void cow_log_to_syslog(void)
{
	openlog("cowfs", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

static void emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	fprintf(stderr, "cowfs: %s", tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cow_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, "", fmt, ap);
	va_end(ap);
}

void cow_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void cow_dbg_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}
