/* SPDX-License-Identifier: ISC */
/*
 * log.c: logging for all three programs.  syslog(3) when daemonised,
 * stderr in the foreground.  errno is preserved across every call.
 * When stderr is the journal's stream (a systemd unit runs us with -d;
 * JOURNAL_STREAM names that stream's device and inode, systemd.exec(5)),
 * a line is "<priority>message", as sd-daemon(3) describes: journald
 * records the priority, the writer's pid (_PID, from the stream's
 * credentials) and the unit's process name.  A process that the unit's
 * one started (pfhelper beside a front end: its pid is not
 * SYSTEMD_EXEC_PID) names itself after the priority, without its pid:
 * `journalctl -o short' shows "ftp-proxy[39]: pfhelper: ...".  Not sd_journal_print(3): it opens a socket in /run at the
 * first call, which a process in its chroot and seccomp filter cannot;
 * the inherited stream needs only write(2).  Every line of a message
 * carries the prefix, and a message is one write(2), so that two
 * processes on one stream never mix their lines.
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
static int		 log_fmt = LOG_FMT_STDERR;	/* on stderr */
static int		 log_level = LOG_NOTICE;
static const char	*log_procname;

/* One decimal number (digits only) up to c; its end in *end. */
static int
parse_dec(const char *s, char c, unsigned long long *v, const char **end)
{
	char	*e;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno != 0 || *e != c)
		return (-1);
	*end = e;
	return (0);
}

/* Whether JOURNAL_STREAM's value s ("device:inode") names dev, ino. */
int
log_journal_match(const char *s, unsigned long long dev,
    unsigned long long ino)
{
	unsigned long long	 d, i;
	const char		*e;

	if (s == NULL || parse_dec(s, ':', &d, &e) == -1 ||
	    parse_dec(e + 1, '\0', &i, &e) == -1)
		return (0);
	return (d == dev && i == ino);
}

/* Whether JOURNAL_STREAM names our stderr. */
static int
stderr_is_journal(void)
{
	struct stat	st;
	int		saved_errno = errno, r;

	r = fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_match(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
	errno = saved_errno;
	return (r);
}

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;
	const char	*e;

	log_debug_mode = n_debug;
	log_fmt = LOG_FMT_STDERR;
	if (n_debug && stderr_is_journal()) {
		e = getenv("SYSTEMD_EXEC_PID");
		log_fmt = e != NULL && strtonum(e, 1, INT_MAX, NULL) ==
		    getpid() ? LOG_FMT_JOURNAL : LOG_FMT_JOURNAL_NAMED;
	}
	log_procname = __progname;
	if (!log_debug_mode)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

/* Append the prefix of one line for format fmt. */
static size_t
line_prefix(char *buf, size_t len, size_t off, int fmt, int pri,
    const char *name, long pid)
{
	int	n = 0;

	if (off >= len)
		return (off);
	switch (fmt) {
	case LOG_FMT_JOURNAL:
		n = snprintf(buf + off, len - off, "<%d>", LOG_PRI(pri));
		break;
	case LOG_FMT_JOURNAL_NAMED:
		n = snprintf(buf + off, len - off, "<%d>%s: ", LOG_PRI(pri),
		    name);
		break;
	default:
		n = snprintf(buf + off, len - off, "%s[%ld]: ", name, pid);
		break;
	}
	return (n < 0 ? off : off + (size_t)n);
}

/*
 * The text that goes to stderr for message msg: each of its lines with
 * the prefix of format fmt (LOG_FMT_*), each ending in a newline.  At
 * most len - 1 bytes, NUL-terminated; cut short, the first line still
 * ends in a newline, and a later one that does not fit is left out.
 * Returns the length.  len must be at least 1.
 */
size_t
log_format(char *buf, size_t len, int fmt, int pri, const char *name,
    long pid, const char *msg)
{
	size_t	off = 0, start;

	for (;;) {
		start = off;
		off = line_prefix(buf, len, off, fmt, pri, name, pid);
		while (off < len - 1 && *msg != '\0' && *msg != '\n')
			buf[off++] = *msg++;
		if (off >= len - 1 && start > 0) {
			off = start;	/* the lines before, whole */
			break;
		}
		if (off >= len - 1) {
			off = len - 1;
			if (off > 0)
				buf[off - 1] = '\n';
			break;
		}
		buf[off++] = '\n';
		if (*msg == '\0' || *++msg == '\0')
			break;
	}
	buf[off] = '\0';
	return (off);
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

/* All of p on fd, or as much as it takes (a log line is best effort). */
static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	msg[LOG_LINE_MAX], out[LOG_LINE_MAX + 256];
	size_t	n;
	int	saved_errno = errno;

	if (pri > log_level) {
		errno = saved_errno;
		return;
	}
	if (!log_debug_mode) {
		vsyslog(pri, fmt, ap);
		errno = saved_errno;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = log_format(out, sizeof(out), log_fmt, pri, log_procname,
	    (long)getpid(), msg);
	write_all(STDERR_FILENO, out, n);
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
