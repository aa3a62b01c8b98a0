#!/usr/bin/env bash
# Tests for todo.sh; run with `make test`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export TODO_FILE=$(mktemp)
trap 'rm -f "$TODO_FILE"' EXIT
fail=0

"$here/todo.sh" add buy milk
"$here/todo.sh" add call mum
"$here/todo.sh" done 1
[ "$(cat "$TODO_FILE")" = "call mum" ] || { echo "FAIL: done 1 should remove the first item"; fail=1; }

if "$here/todo.sh" frobnicate 2>/dev/null; then
  echo "FAIL: an unknown command must fail"; fail=1
fi

[ $fail -eq 0 ] && echo "all tests passed"
exit $fail
