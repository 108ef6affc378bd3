#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print the URL to reach it.
#
#   eval "$(scripts/test-postgres.sh start DIR)"   # exports MILTON_TEST_POSTGRES_URL, MILTON_TEST_POSTGRES_DIR
#   scripts/test-postgres.sh stop DIR
#
# The cluster lives in DIR (created, and removed by stop), listens only on 127.0.0.1 on a
# free port, and asks for a password (scram-sha-256), so the tests exercise a real login.
# PostgreSQL refuses to run as root: as root the server runs as the "postgres" user (the
# Debian package creates it) or "nobody".
set -euo pipefail

find_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  echo "PostgreSQL's $name was not found: install the postgresql package (scripts/setup.sh --dev)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

owner() {
  if [ "$(id -u)" = 0 ]; then id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody; else id -un; fi
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

case "$cmd" in
start)
  INITDB=$(find_bin initdb); PG_CTL=$(find_bin pg_ctl)
  rm -rf "$dir"; mkdir -p "$dir"
  password="milton-test-$RANDOM$RANDOM"
  printf '%s\n' "$password" >"$dir/pwfile"
  chown -R "$(owner)" "$dir" 2>/dev/null || true
  chmod 700 "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$INITDB" -D "$dir/data" -U milton --pwfile="$dir/pwfile" --auth=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  # fsync off: a test cluster is thrown away, and the suite runs much faster without it
  as_owner "$PG_CTL" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "export MILTON_TEST_POSTGRES_URL='postgresql://milton:$password@127.0.0.1:$port/postgres'"
  echo "export MILTON_TEST_POSTGRES_DIR='$dir'"
  ;;
stop)
  PG_CTL=$(find_bin pg_ctl)
  [ -d "$dir/data" ] && as_owner "$PG_CTL" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
