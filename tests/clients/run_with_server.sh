#!/usr/bin/env bash
# Starts `chartkeeper serve` on a free port with a fresh data folder, runs the given command with
# the server's base URL appended, and stops the server. Usage: run_with_server.sh BINARY CMD...
set -euo pipefail
binary=$1
shift
data=$(mktemp -d)
log="$data/server.log"
"$binary" serve --auth off --listen 127.0.0.1:0 --data "$data/var" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  base=$(grep -o 'listening on http://[0-9.:]*/fhir' "$log" | head -n1 | cut -d' ' -f3 || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { cat "$log"; echo "server did not start" >&2; exit 1; }
"$@" "$base"
