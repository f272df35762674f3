/* SPDX-License-Identifier: ISC */
/*
 * helper_path.c: the pfhelper a front end starts, fixed at build time.
 * The installed front ends take PFHELPER_PATH and nothing else: a root
 * process must not exec what its environment names.  The build tree's
 * (bin/, for the tests and the demo) are built with PFHELPER_ENV and
 * take the environment variable PFHELPER first (the Makefile).
 */
#include "compat.h"

#include <stdlib.h>

#include "helper.h"

const char *
helper_path(void)
{
#ifdef PFHELPER_ENV
	const char	*p = getenv("PFHELPER");

	if (p != NULL && *p != '\0')
		return (p);
#endif
	return (PFHELPER_PATH);
}
