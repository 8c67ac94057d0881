/* Logging to stderr, one line per message, tagged with the process name. Under systemd the
 * journal adds time and unit; in a terminal the level prefix is enough to read. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_proc = "picsec";
static enum log_level log_verbosity = LOG_LEVEL_INFO;

void
log_init(const char *tag, enum log_level level)
{
	if (tag != NULL)
		log_proc = tag;
	log_verbosity = level;
}

void
log_set_level(enum log_level level)
{
	log_verbosity = level;
}

enum log_level
log_get_level(void)
{
	return log_verbosity;
}

const char *
log_tag(void)
{
	return log_proc;
}

static void __attribute__((format(printf, 2, 0)))
log_vemit(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char line[1024];
	int n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One write per line keeps lines whole when several processes share a terminal. */
	if (suffix != NULL)
		dprintf(STDERR_FILENO, "%s[%d]: %s%s: %s\n", log_proc, (int)getpid(), prefix, line,
		    suffix);
	else
		dprintf(STDERR_FILENO, "%s[%d]: %s%s\n", log_proc, (int)getpid(), prefix, line);
}

void
log_warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warning: ", fmt, ap, strerror(saved_errno));
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warning: ", fmt, ap, NULL);
	va_end(ap);
	errno = saved_errno;
}

void
log_info(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (log_verbosity < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vemit("", fmt, ap, NULL);
	va_end(ap);
	errno = saved_errno;
}

void
log_debug(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (log_verbosity < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vemit("debug: ", fmt, ap, NULL);
	va_end(ap);
	errno = saved_errno;
}

void
fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal: ", fmt, ap, strerror(saved_errno));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
