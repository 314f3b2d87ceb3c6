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

source bench/server.sh

# The data: 1,000 Observations of one Patient.
start_server --auth off
load_observations "$work/ids.txt"
stop_server

run() {  # "reads" or "creates", then "on" or "off": requests/s
  local kind=$1 mode=$2
  start_server --auth off --audit "$mode"
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
