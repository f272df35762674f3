/* SPDX-License-Identifier: ISC */
/*
 * log.h: the OpenBSD daemon logging API.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

void	log_init(int, int);
void	log_procinit(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
__dead void fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
__dead void fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
char	*log_escape(const void *, size_t, char *, size_t);

/* A line on stderr: "name[pid]: ", "<pri>" (the journal's stream) or
 * "<pri>name: " (the journal's, for a process the unit's started). */
#define LOG_FMT_STDERR		0
#define LOG_FMT_JOURNAL		1
#define LOG_FMT_JOURNAL_NAMED	2
size_t	log_format(char *, size_t, int, int, const char *, long,
	    const char *);
int	log_journal_match(const char *, unsigned long long,
	    unsigned long long);

#define LOG_ESCAPE_MAX	(4 * 512 + 1)
#define LOG_LINE_MAX	8192

#endif /* LOG_H */
