#!/usr/bin/env bash
# backup.sh FILE...
# Copies each FILE to FILE.bak next to it and prints "backed up FILE".
# A FILE that does not exist is reported on stderr; the exit status is then 1.
set -u

status=0
for f in $@; do
  if [ ! -f $f ]; then
    echo "backup.sh: no such file: $f" >&2
    status=1
    continue
  fi
  cp $f $f.bak
  echo "backed up $f"
done
exit $status
