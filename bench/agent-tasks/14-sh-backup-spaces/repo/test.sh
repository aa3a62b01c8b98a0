#!/usr/bin/env bash
# Tests for backup.sh; run with `make test`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0

echo one > plain.txt
"$here/backup.sh" plain.txt >/dev/null
cmp -s plain.txt plain.txt.bak || { echo "FAIL: plain.txt.bak"; fail=1; }

echo two > "my notes.txt"
"$here/backup.sh" "my notes.txt" >/dev/null 2>&1
cmp -s "my notes.txt" "my notes.txt.bak" || { echo "FAIL: 'my notes.txt.bak' was not made"; fail=1; }

if "$here/backup.sh" missing.txt >/dev/null 2>&1; then
  echo "FAIL: a missing file must give exit status 1"; fail=1
fi

[ $fail -eq 0 ] && echo "all tests passed"
exit $fail
