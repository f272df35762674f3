#!/bin/sh
# SPDX-License-Identifier: ISC
# Every manual page passes mandoc -Tlint -Wwarning with no output.
top=$(cd "$(dirname "$0")/.." && pwd)
p=0
f=0
for m in "$top"/man/*.8; do
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
	if [ -z "$out" ]; then
		echo "ok $(basename "$m")"
		p=$((p + 1))
	else
		echo "$out"
		echo "FAIL $(basename "$m")"
		f=$((f + 1))
	fi
done
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
