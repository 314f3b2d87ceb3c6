#!/usr/bin/env bash
# Authentication's cost (issue 10's benchmark): access-token checks per second on one core
# (bench/token_bench.cc: a new token each time, and a token checked before), and HTTP reads by
# id with authentication on and off against the same data in the same run (wrk, 2 threads, 64
# connections), alternating. Writes bench/results/auth.txt. Run by bench/run.sh; alone:
# bench/auth.sh (needs a release build). BENCH_SECONDS sets each read run's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
duration=${BENCH_SECONDS:-15}
out=bench/results/auth.txt
source bench/server.sh

build/release/bench/token_bench --benchmark_out="$work/token.json" --benchmark_out_format=json >"$work/token.txt" 2>&1
checks() { awk -v n="$1" '$1 == n {for (i = 1; i <= NF; i++) if ($i ~ /^checks\/s=/) {sub("checks/s=", "", $i); print $i}}' "$work/token.txt"; }

# The data: 1,000 Observations of one Patient, written with authentication off.
start_server --auth off
load_observations "$work/ids.txt"
stop_server
added=$("$bin" client add bench --kind backend --secret --scope 'system/*.rs' --data "$work/var" --log-level warn)
client_id=$(echo "$added" | sed -n 's/^client_id: //p')
secret=$(echo "$added" | sed -n 's/^client_secret (shown once): //p')

reads() {  # "on" or "off": requests/s and p99 of reads by id
  local mode=$1 header=()
  start_server --auth "$mode"
  if [ "$mode" = on ]; then
    local token
    token=$(curl -s -u "$client_id:$secret" -d grant_type=client_credentials "$base/auth/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    header=(-H "Authorization: Bearer $token")
  fi
  IDS_FILE="$work/ids.txt" wrk -t2 -c64 -d"${duration}s" --latency "${header[@]}" -s bench/wrk/read_by_id.lua "$base" >"$work/reads-$mode.txt"
  grep -q "Non-2xx" "$work/reads-$mode.txt" && { echo "reads with auth $mode got errors" >&2; cat "$work/reads-$mode.txt" >&2; exit 1; }
  stop_server
  awk '/Requests\/sec/ {print $2}' "$work/reads-$mode.txt"
}
off1=$(reads off); on1=$(reads on); off2=$(reads off); on2=$(reads on)
{
  echo "# Authentication's cost ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo "token checks on one core: a new token each time (ES256 verified) $(checks BM_AuthenticateNewToken); a token checked before $(checks BM_AuthenticateRememberedToken) (goal: at least 100k/s with the cache)"
  echo "HTTP reads by id (wrk, 2 threads, 64 connections, ${duration} s each, alternating): auth off ${off1}, ${off2}; auth on ${on1}, ${on2} requests/s"
  awk -v a="$off1" -v b="$off2" -v c="$on1" -v d="$on2" 'BEGIN { printf "auth on / auth off: %.1f%% (goal: auth costs at most 10%%)\n", 100 * (c + d) / (a + b) }'
} | tee "$out"
