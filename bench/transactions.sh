#!/usr/bin/env bash
# Transactions over HTTP (issue 9's benchmark). The Synthea sample as a hospital would send it:
# the organization and practitioner batches (conditional creates), then every patient's
# transaction Bundle (with conditional references to those), posted by 1, 4 and 16 concurrent
# clients, a new database each time, every search parameter indexed: resources/s, transactions
# per fsync and the p99 time per Bundle. Then small transactions (one Patient and one
# Observation referring to it) from 64 clients (wrk): transactions/s and per fsync. Writes
# bench/results/transactions.txt. Run by bench/run.sh; alone: bench/transactions.sh (needs a
# release build). BENCH_SECONDS sets the small transactions' duration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
synthea=../shared/testdata/synthea
duration=${BENCH_SECONDS:-15}
out=bench/results/transactions.txt
source bench/server.sh

mkdir -p "$work/bundles"
for file in "$synthea"/*.json.bz2; do bzcat "$file" >"$work/bundles/$(basename "$file" .bz2)"; done
ls "$work"/bundles/0-*.json >"$work/batches"
ls "$work"/bundles/*.json | grep -v '/0-' >"$work/patients"
resources=$(cat $(cat "$work/patients") | grep -o '"request"' | wc -l)
bundles=$(wc -l <"$work/patients")

fresh_server() { rm -rf "$work/var"; start_server --auth off; }  # a new database
metric() { curl -s "$base/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
post() {  # file: prints "<status> <seconds>"
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/fhir+json' -H 'Prefer: return=minimal' \
    --data-binary "@$1" "$base/fhir"
}
export -f post

{
  echo "# Transactions over HTTP ($(date -u +%Y-%m-%d), $(nproc) cores): $bundles Synthea patient Bundles, $resources resources"
  for clients in 1 4 16; do
    fresh_server
    export base
    while read -r batch; do [ "$(post "$batch" | cut -d' ' -f1)" = 200 ] || { echo "batch $batch failed" >&2; exit 1; }; done <"$work/batches"
    writes_before=$(metric chartkeeper_store_writes_total)
    commits_before=$(metric chartkeeper_store_commits_total)
    started=$(date +%s.%N)
    xargs -P "$clients" -I{} bash -c 'post "$1"' _ {} <"$work/patients" >"$work/times"
    ended=$(date +%s.%N)
    failed=$(awk '$1 != 200' "$work/times" | wc -l)
    [ "$failed" = 0 ] || { echo "$failed transactions failed" >&2; exit 1; }
    writes=$(( $(metric chartkeeper_store_writes_total) - writes_before ))
    commits=$(( $(metric chartkeeper_store_commits_total) - commits_before ))
    p99=$(cut -d' ' -f2 "$work/times" | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.0f", v[i] * 1000 }')
    awk -v n="$resources" -v s="$started" -v e="$ended" -v c="$clients" -v w="$writes" -v k="$commits" -v p="$p99" \
      'BEGIN { printf "patient transactions, %d clients: %.0f resources/s, %.2f transactions per fsync, p99 %d ms per Bundle\n", c, n / (e - s), k ? w / k : 0, p }'
    stop_server
  done
  fresh_server
  cat >"$work/small.json" <<'BUNDLE'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:3f0c1a52-9d7e-4b8a-8c61-2e5f4d7a9b10","resource":{"resourceType":"Patient","name":[{"family":"Bench"}],"gender":"female"},"request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"subject":{"reference":"urn:uuid:3f0c1a52-9d7e-4b8a-8c61-2e5f4d7a9b10"},
  "valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}},"request":{"method":"POST","url":"Observation"}}]}
BUNDLE
  writes_before=$(metric chartkeeper_store_writes_total)
  commits_before=$(metric chartkeeper_store_commits_total)
  BODY_FILE="$work/small.json" wrk -t2 -c64 -d"${duration}s" --latency -s bench/wrk/post_file.lua "$base/fhir" >"$work/small.wrk"
  writes=$(( $(metric chartkeeper_store_writes_total) - writes_before ))
  commits=$(( $(metric chartkeeper_store_commits_total) - commits_before ))
  awk -v w="$writes" -v k="$commits" '/Requests\/sec/ { rate = $2 } $1 == "99%" { p99 = $2 } /Non-2xx/ { bad = $NF }
    END { printf "small transactions (Patient + Observation), 64 clients: %.0f transactions/s, %.1f per fsync, p99 %s%s\n", rate, k ? w / k : 0, p99, bad ? ", " bad " non-2xx answers" : "" }' "$work/small.wrk"
} | tee "$out"
