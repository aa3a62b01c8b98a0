#!/usr/bin/env bash
# todo.sh: a tiny to-do list kept in ./todo.txt (or $TODO_FILE), one item a line.
#   todo.sh add TEXT   append an item
#   todo.sh list       print the items as "N. TEXT", numbered from 1
#   todo.sh done N     remove item number N (the number shown by list)
set -eu
file=${TODO_FILE:-todo.txt}
touch "$file"

case "${1:-}" in
  add)
    shift
    echo "$*" >>"$file"
    ;;
  list)
    awk '{ printf "%d. %s\n", NR - 1, $0 }' "$file"
    ;;
  done)
    n=${2:?usage: todo.sh done N}
    sed -i "${n}d" "$file"
    ;;
  *)
    echo "usage: todo.sh add TEXT | list | done N" >&2
    exit 2
    ;;
esac
