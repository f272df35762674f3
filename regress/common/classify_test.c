/* SPDX-License-Identifier: ISC */
/*
 * classify_test: the -T label and -q class options parse as ftp-proxy
 * and pfhelper document them, and print back as nft prints them.
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "classify.h"

static const struct {
	const char	*in;
	int		 ok;
	int		 want;
} labels[] = {
	{ "0", 1, 0 }, { "5", 1, 5 }, { "127", 1, 127 },
	{ "128", 0, 0 }, { "-1", 0, 0 }, { "", 0, 0 }, { "05", 0, 0 },
	{ "5x", 0, 0 }, { " 5", 0, 0 }, { "1000", 0, 0 }, { "tag", 0, 0 },
	{ "0x5", 0, 0 },
};

static const struct {
	const char	*in;
	int		 ok;
	uint32_t	 want;
	const char	*text;
} classes[] = {
	{ "1:2", 1, 0x00010002, "1:2" },
	{ "1:20", 1, 0x00010020, "1:20" },
	{ "ffff:1", 1, 0xffff0001, "ffff:1" },
	{ "0:1", 1, 0x00000001, "0:1" },
	{ "1:0", 1, 0x00010000, "1:0" },
	{ "0001:0002", 1, 0x00010002, "1:2" },
	{ "A:b", 1, 0x000a000b, "a:b" },
	{ "0:0", 0, 0, NULL },
	{ "ffff:ffff", 0, 0, NULL },
	{ "1", 0, 0, NULL },
	{ ":1", 0, 0, NULL },
	{ "1:", 0, 0, NULL },
	{ "10000:1", 0, 0, NULL },
	{ "1:2:3", 0, 0, NULL },
	{ "g:1", 0, 0, NULL },
	{ "1: 2", 0, 0, NULL },
	{ "", 0, 0, NULL },
};

int
main(void)
{
	char		buf[16];
	uint32_t	prio;
	size_t		i;
	int		label, rc;

	for (i = 0; i < nitems(labels); i++) {
		label = -7;
		rc = ct_label_parse(labels[i].in, &label);
		check(labels[i].ok ? rc == 0 && label == labels[i].want :
		    rc == -1 && label == -7, labels[i].in);
	}
	for (i = 0; i < nitems(classes); i++) {
		prio = 7;
		rc = tc_class_parse(classes[i].in, &prio);
		if (!classes[i].ok) {
			check(rc == -1 && prio == 7, classes[i].in);
			continue;
		}
		check(rc == 0 && prio == classes[i].want, classes[i].in);
		tc_class_str(prio, buf, sizeof(buf));
		check(strcmp(buf, classes[i].text) == 0, classes[i].text);
	}
	return (check_summary());
}
