#!/usr/bin/env bash
# Encryption at rest's cost (issue 12's benchmark): `chartkeeper import` of the Synthea sample,
# HTTP creates, and HTTP reads by id (with the default caches, and with the version cache off
# so that reads go to the database), each on an encrypted and an unencrypted data folder in the
# same run, alternating. Writes bench/results/encryption.txt. Run by bench/run.sh; alone:
# bench/encryption.sh (needs a release build). BENCH_SECONDS sets each wrk run's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
duration=${BENCH_SECONDS:-15}
synthea=../shared/testdata/synthea
out=bench/results/encryption.txt

source bench/server.sh

mode_args() { [ "$1" = on ] && echo "--encryption on" || echo "--encryption off"; }

synthea_files=("$synthea"/0-*.json.bz2 $(ls "$synthea"/*.json.bz2 | grep -v '/0-'))
import_rate() {  # "on" or "off": resources/s of a whole import into a new folder
  rm -rf "$work/import-$1" "$work/import-$1-encryption-key" "$work/import-$1-audit-key.pem"
  "$bin" import --data "$work/import-$1" $(mode_args "$1") --log-level warn "${synthea_files[@]}" 2>&1 | tail -n 1 \
    | grep -o '([0-9]* resources/s)' | grep -o '[0-9]*'
}
i_on1=$(import_rate on); i_off1=$(import_rate off); i_off2=$(import_rate off); i_on2=$(import_rate on)

# The read data: 1,000 Observations of one Patient in each folder.
for mode in on off; do
  data_dir="$work/var-$mode" start_server --auth off $(mode_args $mode)
  load_observations "$work/ids.txt"
  stop_server
done

run() {  # "reads", "uncached-reads" or "creates", then "on" or "off": requests/s
  local kind=$1 mode=$2 extra=""
  [ "$kind" = uncached-reads ] && extra="--cache-mb 0 --page-cache-mb 1"
  data_dir="$work/var-$mode" start_server --auth off $(mode_args "$mode") $extra
  if [ "$kind" = creates ]; then
    wrk -t2 -c64 -d"${duration}s" -s bench/wrk/create.lua "$base/fhir/Observation" >"$work/wrk.txt"
  else
    IDS_FILE="$work/ids.txt" wrk -t2 -c64 -d"${duration}s" -s bench/wrk/read_by_id.lua "$base" >"$work/wrk.txt"
  fi
  grep -q "Non-2xx" "$work/wrk.txt" && { echo "$kind with encryption $mode got errors" >&2; cat "$work/wrk.txt" >&2; exit 1; }
  stop_server
  awk '/Requests\/sec/ {print $2}' "$work/wrk.txt"
}
declare -A rate
for kind in reads uncached-reads creates; do
  rate[$kind-on1]=$(run $kind on); rate[$kind-off1]=$(run $kind off); rate[$kind-off2]=$(run $kind off); rate[$kind-on2]=$(run $kind on)
done

ratio() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "%.1f", 100 * (a + b) / (c + d) }'; }
{
  echo "# Encryption at rest's cost ($(date -u +%Y-%m-%d), $(nproc) cores): encrypted (on) and unencrypted (off) folders, same run, alternating"
  echo "import of the Synthea sample: on ${i_on1}, ${i_on2}; off ${i_off1}, ${i_off2} resources/s: on / off $(ratio "$i_on1" "$i_on2" "$i_off1" "$i_off2")% (goal: encryption costs at most 15% on ingest)"
  echo "HTTP creates (wrk, 64 connections, ${duration} s): on ${rate[creates-on1]}, ${rate[creates-on2]}; off ${rate[creates-off1]}, ${rate[creates-off2]} resources/s: on / off $(ratio "${rate[creates-on1]}" "${rate[creates-on2]}" "${rate[creates-off1]}" "${rate[creates-off2]}")% (goal: at most 15%)"
  echo "HTTP reads by id (default caches): on ${rate[reads-on1]}, ${rate[reads-on2]}; off ${rate[reads-off1]}, ${rate[reads-off2]} requests/s: on / off $(ratio "${rate[reads-on1]}" "${rate[reads-on2]}" "${rate[reads-off1]}" "${rate[reads-off2]}")% (goal: at most 10% on reads)"
  echo "HTTP reads by id (version cache off, 1 MiB page cache: every read from the database): on ${rate[uncached-reads-on1]}, ${rate[uncached-reads-on2]}; off ${rate[uncached-reads-off1]}, ${rate[uncached-reads-off2]} requests/s: on / off $(ratio "${rate[uncached-reads-on1]}" "${rate[uncached-reads-on2]}" "${rate[uncached-reads-off1]}" "${rate[uncached-reads-off2]}")%"
} | tee "$out"
