/* SPDX-License-Identifier: ISC */
/*
 * notify.h: tell the service manager that start-up is complete.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

void	notify_ready(const char *);

#endif /* NOTIFY_H */
