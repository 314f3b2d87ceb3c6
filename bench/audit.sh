#!/usr/bin/env bash
# The audit trail's cost (issue 11's benchmark): HTTP reads by id and creates with the trail on
# and off (`--audit off`, allowed with --auth off on loopback), same data, same run, alternating;
# and `audit verify` speed over a million records (bench/audit_verify_bench.cc). Writes
# bench/results/audit.txt. Run by bench/run.sh; alone: bench/audit.sh (needs a release build).
# BENCH_SECONDS sets each run's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
duration=${BENCH_SECONDS:-15}
out=bench/results/audit.txt
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'echo "audit.sh: failed at line $LINENO" >&2' ERR

start_server() {  # extra serve arguments; sets $server and $base
  "$bin" serve --listen 127.0.0.1:0 --auth off --data "$work/var" "$@" >"$work/serve.log" 2>&1 &
  server=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n1 | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
  base="http://127.0.0.1:$port"
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# The data: 1,000 Observations of one Patient.
start_server
curl -s -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' -d '{"resourceType":"Patient","id":"bench"}' "$base/fhir/Patient/bench"
for i in $(seq 1 1000); do
  echo "{\"resourceType\":\"Observation\",\"id\":\"o$i\",\"status\":\"final\",\"code\":{\"text\":\"weight\"},\"subject\":{\"reference\":\"Patient/bench\"},\"valueQuantity\":{\"value\":$i,\"unit\":\"kg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}}" \
    | curl -s -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' --data-binary @- "$base/fhir/Observation/o$i"
  echo "Observation/o$i"
done >"$work/ids.txt"
stop_server

run() {  # "reads" or "creates", then "on" or "off": requests/s
  local kind=$1 mode=$2
  start_server --audit "$mode"
  if [ "$kind" = reads ]; then
    IDS_FILE="$work/ids.txt" wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/read_by_id.lua "$base" >"$work/$kind-$mode.txt"
  else
    wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/create.lua "$base/fhir/Observation" >"$work/$kind-$mode.txt"
  fi
  grep -q "Non-2xx" "$work/$kind-$mode.txt" && { echo "$kind with audit $mode got errors" >&2; cat "$work/$kind-$mode.txt" >&2; exit 1; }
  stop_server
  awk '/Requests\/sec/ {print $2}' "$work/$kind-$mode.txt"
}
r_off1=$(run reads off); r_on1=$(run reads on); r_on2=$(run reads on); r_off2=$(run reads off)
c_off1=$(run creates off); c_on1=$(run creates on); c_on2=$(run creates on); c_off2=$(run creates off)
verify=$(build/release/bench/audit_verify_bench 1000000)
{
  echo "# The audit trail's cost ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo "HTTP reads by id (wrk, 2 threads, 64 connections, ${duration} s each, alternating): audit off ${r_off1}, ${r_off2}; on ${r_on1}, ${r_on2} requests/s"
  awk -v a="$r_off1" -v b="$r_off2" -v c="$r_on1" -v d="$r_on2" 'BEGIN { printf "reads: audit on / off %.1f%% (goal: the trail costs at most 15%%)\n", 100 * (c + d) / (a + b) }'
  echo "HTTP creates (wrk, 2 threads, 64 connections, ${duration} s each, alternating): audit off ${c_off1}, ${c_off2}; on ${c_on1}, ${c_on2} resources/s"
  awk -v a="$c_off1" -v b="$c_off2" -v c="$c_on1" -v d="$c_on2" 'BEGIN { printf "creates: audit on / off %.1f%% (goal: the trail costs at most 15%%)\n", 100 * (c + d) / (a + b) }'
  echo "$verify"
} | tee "$out"
