#!/bin/sh
# SPDX-License-Identifier: ISC
# conntrackd-notify.sh: keepalived's notify script for conntrackd, on a
# pair of ftp-proxy(8) firewalls (keepalived.conf):
#   conntrackd-notify.sh CONF CONNTRACKD primary|backup|fault
# primary: put the other node's entries into the kernel, then send
# ours; backup: ask the master for its table.
conf=$1 ctd=$2
ct() { "$ctd" -C "$conf" "$@"; }
case $3 in
primary)
	ct -c	# commit the external cache into the kernel
	ct -f	# flush both caches
	ct -R	# resync with the kernel's table
	ct -B	# send a bulk update to the backup
	;;
backup)
	ct -n	# request a resync from the master
	;;
fault)
	ct -t	# shorten the kernel's timers: the master has the table
	;;
esac
exit 0
