#!/usr/bin/env bash
# Re-record every transcript from a private redis-server 7.0 on a free port:
#   tests/conformance/record-all.sh [script-name ...]     (default: all scripts)
# Writes tests/StreamServer.IntegrationTests/Transcripts/<family>.txt for scripts/<family>.cmds.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../StreamServer.IntegrationTests/Transcripts"
server="${REDIS_SERVER:-redis-server}"

version="$("$server" --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
case "$version" in
  7.0.*) ;;
  *) echo "record-all: transcripts are recorded from redis-server 7.0, found '$version'" >&2; exit 1 ;;
esac

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
dir="$(mktemp -d)"
"$server" --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" --daemonize no &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

for _ in $(seq 50); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done

if [ "$#" -gt 0 ]; then scripts=("$@"); else scripts=("$here"/scripts/*.cmds); fi
for s in "${scripts[@]}"; do
  case "$s" in */*) ;; *) s="$here/scripts/$s.cmds" ;; esac
  name="$(basename "$s" .cmds)"
  python3 "$here/record.py" --host 127.0.0.1 --port "$port" "$s" "$out/$name.txt"
done
