#!/usr/bin/env bash
# Chartkeeper's benchmark driver: one command (`make bench`), results in bench/results/.
#   1. JSON codec throughput on Synthea resources (Google Benchmark)  -> json_codec.json
#   1c. validation per phase (structure, bindings, invariants, profiles) -> validation.json
#   1d. search index extraction per resource                          -> search.json
#   2. `chartkeeper import` of the whole Synthea sample, with full validation and with the
#      structure checks only (--import-validation structure), alternating in one run -> import.txt
#   3. HTTP read by id with wrk (64 connections, 2 threads) next to a trivial handler on the
#      same HTTP server code, as a ratio                              -> http.txt
#   4. HTTP create with 64 concurrent clients: resources/s and resources per fsync
#   5. search at scale: the sample scaled to about 1 M resources, imported, and the first page of
#      the issue's searches with 16 clients (bench/search_scale.sh)    -> search_scale.txt
#   6. the Synthea Bundles posted as transactions with 1, 4 and 16 clients, and small
#      transactions with 64 (bench/transactions.sh)                    -> transactions.txt
#   7. authentication's cost: token checks per second, reads with auth on and off (bench/auth.sh)
#                                                                      -> auth.txt
#   8. the audit trail's cost: reads and creates with the trail on and off, and audit verify
#      speed (bench/audit.sh)                                          -> audit.txt
#   9. encryption at rest's cost: import, creates and reads on encrypted and clear folders
#      (bench/encryption.sh)                                           -> encryption.txt
# summary.md collects the headline numbers. Requires a release build (build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
bench_bin=build/release/bench
results=bench/results
synthea=../shared/testdata/synthea
duration=${BENCH_SECONDS:-15}
mkdir -p "$results"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Starts a server command in the background (remembered for cleanup) and sets $server_port from
# its "listening on" line. Not for use inside $(...): the pid must reach this shell.
start_server() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  server_port=""
  for _ in $(seq 1 100); do
    server_port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | head -n1 | grep -o '[0-9]*$' || true)
    [ -n "$server_port" ] && return
    sleep 0.1
  done
  echo "server did not start: $log" >&2
  exit 1
}

# wrk's "Requests/sec" and the 99th percentile latency in ms.
wrk_rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_p99_ms() {
  awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' "$1"
}

echo "== machine: $(nproc) cores, $(uname -r)"

echo "== 1. JSON codec"
"$bench_bin/json_codec_bench" --benchmark_counters_tabular=false --benchmark_out="$results/json_codec.json" --benchmark_out_format=json | tee "$work/json.txt"

echo "== 1b. FHIRPath"
"$bench_bin/fhirpath_bench" --benchmark_out="$results/fhirpath.json" --benchmark_out_format=json | tee "$work/fhirpath.txt"

echo "== 1c. validation, per phase"
"$bench_bin/validation_bench" --benchmark_out="$results/validation.json" --benchmark_out_format=json | tee "$work/validation.txt"

echo "== 1d. search index extraction"
"$bench_bin/search_bench" --benchmark_out="$results/search.json" --benchmark_out_format=json | tee "$work/search.txt"

echo "== 2. import of the Synthea sample: full validation and structure checks only, alternating"
synthea_files=("$synthea"/0-*.json.bz2 $(ls "$synthea"/*.json.bz2 | grep -v '/0-'))
import_once() {  # data folder, then import flags; prints the summary line
  local data=$1
  shift
  rm -rf "$data"
  "$bin" import --data "$data" --log-level warn "$@" "${synthea_files[@]}" 2>&1 | tail -n 1
}
: >"$results/import.txt"
for round in 1 2; do
  if [ "$round" = 1 ]; then order="full structure"; else order="structure full"; fi
  for mode in $order; do
    if [ "$mode" = full ]; then line=$(import_once "$work/var"); else line=$(import_once "$work/var-structure" --import-validation structure); fi
    echo "$mode: $line" | tee -a "$results/import.txt"
  done
done
mean_rate() { grep "^$1:" "$results/import.txt" | grep -o '([0-9]* resources/s)' | grep -o '[0-9]*' | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
import_rate=$(mean_rate full)
structure_rate=$(mean_rate structure)
validation_cost=$(awk -v f="$import_rate" -v s="$structure_rate" 'BEGIN { printf "%.1f", 100 * (1 - f / s) }')
echo "# mean: full validation ${import_rate} resources/s, structure only ${structure_rate} resources/s: validation costs ${validation_cost}% of import throughput" | tee -a "$results/import.txt"
rm -rf "$work/var-structure"
db_bytes=$(du -cb "$work"/var/chartkeeper.db* | tail -n1 | cut -f1)

echo "== 3. HTTP read by id (wrk: 2 threads, 64 connections, ${duration}s)"
start_server "$work/serve.log" "$bin" serve --auth off --listen 127.0.0.1:0 --data "$work/var"
port=$server_port
curl -s "http://127.0.0.1:$port/fhir/Observation/_history?_count=1000" | grep -o '"fullUrl":"[^"]*"' | sed 's|.*/fhir/||; s|"$||' >"$work/ids.txt"
echo "ids for reads: $(wc -l <"$work/ids.txt")"
# History pages by cursor: the first page and one 200 pages (10,000 versions) deep cost the same.
history_ms() { curl -s -o /dev/null -w '%{time_total}' "$1" | awk '{ printf "%.1f", $1 * 1000 }'; }
history_url="http://127.0.0.1:$port/fhir/_history?_count=50"
history_first_ms=$(history_ms "$history_url")
for _ in $(seq 1 200); do
  history_url=$(curl -s "$history_url" | grep -o '"relation":"next","url":"[^"]*"' | sed 's/.*"url":"//; s/"$//')
done
history_deep_ms=$(history_ms "$history_url")
echo "system history page: first ${history_first_ms} ms, 200 pages deep ${history_deep_ms} ms" | tee "$work/history.txt"
IDS_FILE="$work/ids.txt" wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/read_by_id.lua "http://127.0.0.1:$port" | tee "$work/read.txt"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
echo "-- the same reads with the current-version cache off (every read goes to SQLite and zstd)"
start_server "$work/serve-nocache.log" "$bin" serve --auth off --listen 127.0.0.1:0 --data "$work/var" --cache-mb 0
IDS_FILE="$work/ids.txt" wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/read_by_id.lua "http://127.0.0.1:$server_port" | tee "$work/read-nocache.txt"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
start_server "$work/serve.log" "$bin" serve --auth off --listen 127.0.0.1:0 --data "$work/var"
port=$server_port
start_server "$work/trivial.log" "$bench_bin/trivial_http_server"
trivial_port=$server_port
wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$trivial_port/" | tee "$work/trivial.txt"

echo "== 4. HTTP create (wrk: 2 threads, 64 connections, ${duration}s)"
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# The Observations refer to Patient/bench: it must exist (referential integrity).
curl -s -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' -d '{"resourceType":"Patient","id":"bench"}' "http://127.0.0.1:$port/fhir/Patient/bench"
writes_before=$(metric chartkeeper_store_writes_total)
commits_before=$(metric chartkeeper_store_commits_total)
wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/create.lua "http://127.0.0.1:$port/fhir/Observation" | tee "$work/create.txt"
writes=$(( $(metric chartkeeper_store_writes_total) - writes_before ))
commits=$(( $(metric chartkeeper_store_commits_total) - commits_before ))
cat "$work/read.txt" "$work/read-nocache.txt" "$work/trivial.txt" "$work/create.txt" >"$results/http.txt"

read_rate=$(wrk_rate "$work/read.txt")
read_nocache_rate=$(wrk_rate "$work/read-nocache.txt")
trivial_rate=$(wrk_rate "$work/trivial.txt")
create_rate=$(wrk_rate "$work/create.txt")
ratio=$(awk -v a="$read_rate" -v b="$trivial_rate" 'BEGIN { printf "%.0f", 100 * a / b }')
ratio_nocache=$(awk -v a="$read_nocache_rate" -v b="$trivial_rate" 'BEGIN { printf "%.0f", 100 * a / b }')
per_fsync=$(awk -v w="$writes" -v c="$commits" 'BEGIN { printf "%.1f", c ? w / c : 0 }')
json_read=$(awk '/BM_ReadResource/ {for (i = 1; i <= NF; i++) if ($i ~ /^bytes_per_second=/) {sub("bytes_per_second=", "", $i); print $i}}' "$work/json.txt")
json_write=$(awk '/BM_WriteJson/ {for (i = 1; i <= NF; i++) if ($i ~ /^bytes_per_second=/) {sub("bytes_per_second=", "", $i); print $i}}' "$work/json.txt")
body_ratio=$(awk '/BM_EncodeBody/ {for (i = 1; i <= NF; i++) if ($i ~ /^stored\/json=/) {sub("stored/json=", "", $i); print $i}}' "$work/json.txt")
fhirpath_rate() { awk -v n="$1" '$0 ~ n && /BM_Evaluate/ {for (i = 1; i <= NF; i++) if ($i ~ /^evaluations\/s=/) {sub("evaluations/s=", "", $i); print $i}}' "$work/fhirpath.txt"; }
fhirpath_compile() { awk -v n="$1" '$0 ~ n && /BM_Compile/ {print $2 " " $3}' "$work/fhirpath.txt"; }
json_sax=$(awk '/BM_RapidJsonSaxOnly/ {for (i = 1; i <= NF; i++) if ($i ~ /^bytes_per_second=/) {sub("bytes_per_second=", "", $i); print $i}}' "$work/json.txt")

cat >"$results/summary.md" <<SUMMARY
# Benchmark results ($(date -u +%Y-%m-%d), $(nproc) cores)

| measure | result |
| --- | --- |
| JSON read (parse + bind + validate), Synthea resources | ${json_read} (RapidJSON SAX pass alone: ${json_sax}) |
| JSON write | ${json_write} |
| stored body size / JSON size (zstd level 3 when it saves 1/8) | ${body_ratio} |
| \`chartkeeper import\` of the Synthea sample, full validation | ${import_rate} resources/s (database ${db_bytes} bytes) |
| the same with the structure checks only (\`--import-validation structure\`), same run | ${structure_rate} resources/s: full validation costs ${validation_cost}% of import throughput |
| search index extraction (every applicable R4 parameter), Synthea resources | $(awk '/BM_ExtractIndex/ {for (i = 1; i <= NF; i++) if ($i ~ /^resources\/s=/) {sub("resources/s=", "", $i); print $i}}' "$work/search.txt") resources/s, $(awk '/BM_ExtractIndex/ {for (i = 1; i <= NF; i++) if ($i ~ /^entries\/resource=/) {sub("entries/resource=", "", $i); print $i}}' "$work/search.txt") entries per resource |
| FHIRPath \`Patient.name.given\`, compiled once | $(fhirpath_rate simple_path) (evaluations) |
| FHIRPath \`patient\` search parameter on an Observation | $(fhirpath_rate patient_search_parameter) (evaluations) |
| FHIRPath invariant obs-6 on an Observation | $(fhirpath_rate invariant_obs_6) (evaluations) |
| FHIRPath \`250 'mg/dL' = 2.5 'g/L'\` (two UCUM parses and a conversion) | $(fhirpath_rate ucum_comparison) (evaluations) |
| FHIRPath compile (parse + type check): path / search parameter / invariant | $(fhirpath_compile simple_path) / $(fhirpath_compile patient_search_parameter) / $(fhirpath_compile invariant_obs_6) |
| HTTP read by id, wrk 2 threads 64 connections, 1,000 Observations (cache warm) | ${read_rate} requests/s, p99 $(wrk_p99_ms "$work/read.txt") ms |
| the same with the cache off (\`--cache-mb 0\`) | ${read_nocache_rate} requests/s, p99 $(wrk_p99_ms "$work/read-nocache.txt") ms |
| trivial handler on the same server, same load | ${trivial_rate} requests/s, p99 $(wrk_p99_ms "$work/trivial.txt") ms |
| read / trivial | ${ratio}% (cache off: ${ratio_nocache}%) |
| system \`_history\` page of 50 (cursor paging): first page / 200 pages deep | ${history_first_ms} ms / ${history_deep_ms} ms |
| HTTP create, 64 concurrent clients | ${create_rate} resources/s, p99 $(wrk_p99_ms "$work/create.txt") ms |
| resources per fsync (group commit) | ${per_fsync} (${writes} writes in ${commits} commits) |
SUMMARY
echo "== 5. search at scale"
bench/search_scale.sh
{
  echo
  echo '## Search at scale (`search_scale.txt`)'
  echo
  sed 's/^/    /' "$results/search_scale.txt"
} >>"$results/summary.md"
echo "== 6. transactions over HTTP"
bench/transactions.sh
{
  echo
  echo '## Transactions over HTTP (`transactions.txt`)'
  echo
  sed 's/^/    /' "$results/transactions.txt"
} >>"$results/summary.md"
echo "== 7. authentication"
bench/auth.sh
{
  echo
  echo '## Authentication (`auth.txt`)'
  echo
  sed 's/^/    /' "$results/auth.txt"
} >>"$results/summary.md"
echo "== 8. audit trail"
bench/audit.sh
{
  echo
  echo '## Audit trail (`audit.txt`)'
  echo
  sed 's/^/    /' "$results/audit.txt"
} >>"$results/summary.md"

echo "== 9. encryption at rest"
bench/encryption.sh
{
  echo
  echo '## Encryption at rest (`encryption.txt`)'
  echo
  sed 's/^/    /' "$results/encryption.txt"
} >>"$results/summary.md"
cat "$results/summary.md"
