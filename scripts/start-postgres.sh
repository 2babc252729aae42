#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (service/test/store.test.ts, CI).
#
#   scripts/start-postgres.sh [start] [--db NAME] [--no-install]
#       initdb into a new temporary folder, start the server on a free port of 127.0.0.1 (unix
#       socket in that folder too), create database NAME (default aic_test) and print, on stdout
#       and nothing else:
#           DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/NAME
#           AIC_PG_DIR=/tmp/aic-pg.XXXXXX
#       so that `eval "$(scripts/start-postgres.sh)"` sets both. Progress goes to stderr.
#   scripts/start-postgres.sh stop DIR
#       stop the cluster started in DIR and delete DIR (only a folder this script made).
#
# Authentication is `trust`, for connections from this machine only: the server listens on
# 127.0.0.1 and its own socket folder, and pg_hba.conf has no other line. Durability is off
# (fsync, synchronous_commit, full_page_writes): it is for tests, never for data.
#
# The server binaries come from $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else
# `pg_config --bindir`; when none is found Debian's `postgresql` is installed with apt-get (as
# root; --no-install, or AIC_PG_NO_INSTALL=1, makes that an error instead: exit 3).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` OS user
# (created by Debian's package; made here as a system user when absent).
set -euo pipefail

log() { echo "start-postgres: $*" >&2; }

find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/postgres" ]; then echo "$PG_BIN"; return 0; fi
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] || continue
    if [ -z "$best" ] || [ "$(basename "$(dirname "$d")")" -gt "$(basename "$(dirname "$best")")" ] 2>/dev/null; then best="$d"; fi
  done
  if [ -n "$best" ]; then echo "$best"; return 0; fi
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$d" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  fi
  return 1
}

# Runs a command as the cluster's owner (the postgres OS user when we are root).
as_owner() {
  if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; return; fi
  local q="" a
  for a in "$@"; do q="$q $(printf '%q' "$a")"; done
  su -s /bin/sh postgres -c "$q"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_cluster() {
  local dir="${1:-}"
  if [ -z "$dir" ] || [ ! -f "$dir/.aic-start-postgres" ]; then
    log "usage: $0 stop DIR, with DIR a folder this script made (it holds .aic-start-postgres)"
    exit 2
  fi
  local bin
  bin="$(cat "$dir/.aic-start-postgres")"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || log "pg_ctl stop failed (already stopped?)"
  fi
  rm -rf -- "$dir"
  log "stopped and removed $dir"
}

start_cluster() {
  local db="aic_test" install=1
  [ "${AIC_PG_NO_INSTALL:-}" = "1" ] && install=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --db) db="$2"; shift 2 ;;
      --no-install) install=0; shift ;;
      *) log "unknown argument: $1"; exit 2 ;;
    esac
  done
  if ! [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then log "--db must be a plain lower-case identifier"; exit 2; fi

  local bin
  if ! bin="$(find_bin)"; then
    if [ "$install" -eq 0 ]; then log "no PostgreSQL server binaries found (install Debian's postgresql)"; exit 3; fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      log "no PostgreSQL server binaries found, and apt-get as root is not available to install them"; exit 3
    fi
    log "installing postgresql with apt-get"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bin="$(find_bin)" || { log "postgresql installed but no server binaries found"; exit 3; }
  fi

  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    log "creating the postgres OS user"
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/aic-pg.XXXXXX")"
  echo "$bin" >"$dir/.aic-start-postgres"
  mkdir -p "$dir/sock"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  # From here on a failure removes the folder again.
  trap 'stop_cluster "$dir" >/dev/null 2>&1 || true' ERR

  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; log "initdb failed"; false; }
  # Local connections only: the socket in $dir/sock and 127.0.0.1.
  cat >"$dir/data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/data/pg_hba.conf"

  local port="" try
  for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_in_use "$port" && continue
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2; then
      break
    fi
    log "start on port $port failed (try $try):"; tail -n 5 "$dir/server.log" >&2 || true
    port=""
  done
  [ -n "$port" ] || { log "could not start the server"; false; }

  as_owner "$bin/psql" -h "$dir/sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE $db" >&2
  trap - ERR
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir (stop: $0 stop $dir)"
  echo "DATABASE_URL=postgresql://postgres@127.0.0.1:$port/$db"
  echo "AIC_PG_DIR=$dir"
}

case "${1:-start}" in
  stop) shift; stop_cluster "${1:-}" ;;
  start) [ $# -gt 0 ] && shift; start_cluster "$@" ;;
  --*) start_cluster "$@" ;;
  *) log "usage: $0 [start] [--db NAME] [--no-install] | $0 stop DIR"; exit 2 ;;
esac
