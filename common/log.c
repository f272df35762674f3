/* SPDX-License-Identifier: ISC */
/*
 * log.c: logging for all three programs.  syslog(3) when daemonised,
 * stderr in the foreground.  errno is preserved across every call.
 * When stderr is the journal's stream (a systemd unit runs us with -d;
 * JOURNAL_STREAM names that stream's device and inode), a line is
 * "<priority>message", as sd-daemon(3) describes: journald records the
 * priority and adds the name and pid of the unit's process itself.  A
 * process that the unit's one started (pfhelper beside a front end: its
 * pid is not SYSTEMD_EXEC_PID) names itself after the priority.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <vis.h>

#include "log.h"

static int		 log_debug_mode;	/* 1: stderr, 0: syslog */
static int		 log_journal;	/* stderr is the journal's stream */
static int		 log_named;	/* ... and we are not the unit's process */
static int		 log_level = LOG_NOTICE;
static const char	*log_procname;

/* Whether JOURNAL_STREAM ("device:inode", decimal) names our stderr. */
static int
stderr_is_journal(void)
{
	const char		*e = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;
	char			 extra;

	if (e == NULL ||
	    sscanf(e, "%llu:%llu%c", &dev, &ino, &extra) != 2)
		return (0);
	if (fstat(STDERR_FILENO, &st) == -1)
		return (0);
	return (st.st_dev == dev && st.st_ino == ino);
}

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;
	const char	*e;

	log_debug_mode = n_debug;
	log_journal = n_debug && stderr_is_journal();
	e = getenv("SYSTEMD_EXEC_PID");
	log_named = e == NULL || strtonum(e, 1, INT_MAX, NULL) != getpid();
	log_procname = __progname;
	if (!log_debug_mode)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int level)
{
	if (level < LOG_EMERG)
		level = LOG_EMERG;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level = level;
}

int
log_getverbose(void)
{
	return (log_level);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	int	saved_errno = errno;

	if (pri > log_level) {
		errno = saved_errno;
		return;
	}
	if (log_journal) {
		fprintf(stderr, "<%d>", LOG_PRI(pri));
		if (log_named)
			fprintf(stderr, "%s[%d]: ", log_procname,
			    (int)getpid());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	} else if (log_debug_mode) {
		fprintf(stderr, "%s[%d]: ", log_procname, (int)getpid());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	} else
		vsyslog(pri, fmt, ap);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char	buf[1024];
	int	saved_errno = errno;

	if (fmt == NULL) {
		logit(pri, "%s", strerror(saved_errno));
	} else {
		vsnprintf(buf, sizeof(buf), fmt, ap);
		logit(pri, "%s: %s", buf, strerror(saved_errno));
	}
	errno = saved_errno;
}

void
log_warn(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog_errno(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_warnx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_DEBUG, emsg, ap);
	va_end(ap);
}

static __dead void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 buf[1024];

	if (emsg != NULL)
		vsnprintf(buf, sizeof(buf), emsg, ap);
	else
		buf[0] = '\0';
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s", log_procname, buf,
		    buf[0] ? ": " : "", strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s: %s", log_procname, buf);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}

/*
 * Escape untrusted protocol text for a log line.  At most len bytes of
 * src are used; dst gets a NUL-terminated, printable string, cut short
 * (never overflowed) if dstlen is too small.
 */
char *
log_escape(const void *src, size_t len, char *dst, size_t dstlen)
{
	char	tmp[LOG_ESCAPE_MAX];

	if (dstlen == 0)
		return (dst);
	if (len > (sizeof(tmp) - 1) / 4)
		len = (sizeof(tmp) - 1) / 4;
	strvisx(tmp, src, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL);
	strlcpy(dst, tmp, dstlen);
	return (dst);
}
