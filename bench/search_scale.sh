#!/usr/bin/env bash
# Search at scale (issues 8 and 13's benchmarks): the Synthea sample scaled to about 1,000,000 resources
# (bench/scale_synthea.cc: 13 copies with new ids and shifted dates), imported once with every
# search parameter indexed, then the first page of each search the issue names, 16 concurrent
# clients (wrk, 2 threads), p50 and p99; then whole $everything walks (16 walkers) and the reindex
# of a custom parameter on every resource. Writes bench/results/search_scale.txt. Run by
# bench/run.sh; alone: bench/search_scale.sh (needs a release build). BENCH_SCALE_COPIES sets
# the copies (13 by default), BENCH_SECONDS each search's duration.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/src/cli/chartkeeper
copies=${BENCH_SCALE_COPIES:-13}
duration=${BENCH_SECONDS:-15}
out=bench/results/search_scale.txt
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'echo "search_scale.sh: failed at line $LINENO" >&2' ERR

build/release/bench/scale_synthea "$copies" "$work/bundles"
echo "== import of $copies copies of the Synthea sample (uncompressed bundles)"
# A folder in the clear, so that sqlite3 can measure the index (encryption's cost is
# bench/encryption.sh's).
/usr/bin/time -v "$bin" import --encryption off --data "$work/var" --log-level warn "$work"/bundles/shared-*.json "$work"/bundles/copy*.json \
  >"$work/import.log" 2>&1
import_line=$(grep "import finished" "$work/import.log")
import_rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/import.log")
echo "$import_line (peak RSS $((import_rss_kb / 1024)) MiB)"
rm -rf "$work/bundles"
resources=$(echo "$import_line" | grep -o 'finished: [0-9]*' | grep -o '[0-9]*')
db_bytes=$(du -cb "$work"/var/chartkeeper.db* | tail -n1 | cut -f1)
index_bytes=$(sqlite3 "$work/var/chartkeeper.db" "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search\_%' ESCAPE '\\'")
text_bytes=$(sqlite3 "$work/var/chartkeeper.db" "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fulltext%'")

"$bin" serve --auth off --encryption off --listen 127.0.0.1:0 --data "$work/var" >"$work/serve.log" 2>&1 &
server=$!
port=""
started=$(date +%s)
until [ -n "$port" ]; do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n1 | grep -o '[0-9]*$' || true)
  if [ -z "$port" ] && { ! kill -0 "$server" 2>/dev/null || [ $(($(date +%s) - started)) -gt 1800 ]; }; then
    echo "the server did not start:" >&2
    tail -n 20 "$work/serve.log" >&2
    exit 1
  fi
  sleep 1
done
echo "server ready in $(($(date +%s) - started)) s"
base="http://127.0.0.1:$port"
# Patients, and family-name prefixes, drawn from the data.
curl -s "$base/fhir/Patient?_count=1000&_elements=id,name" >"$work/patients.json"
# (sed, not head: head would stop reading and, under pipefail, fail the pipeline with SIGPIPE.)
grep -o '"resourceType":"Patient","id":"[^"]*"' "$work/patients.json" | cut -d'"' -f8 | sed -n '1,500p' >"$work/patient_ids"
grep -o '"family":"[^"]*"' "$work/patients.json" | cut -d'"' -f4 | cut -c1-3 | grep -E '^[A-Za-z]{3}$' | sort -u | sed -n '1,200p' >"$work/prefixes"
height='http://loinc.org%7C8302-2'
make_paths() {  # name, then a template where @P is a patient id and @F a family prefix
  local name=$1 template=$2
  : >"$work/$name.paths"
  paste -d' ' "$work/patient_ids" <(shuf -r -n "$(wc -l <"$work/patient_ids")" "$work/prefixes") | while read -r id prefix; do
    local path=${template//@P/$id}
    echo "${path//@F/$prefix}" >>"$work/$name.paths"
  done
}
make_paths patient_code "/fhir/Observation?patient=@P&code=$height"
make_paths code_date "/fhir/Observation?code=$height&date=ge2010-01-01&date=lt2011-01-01"
make_paths code_value "/fhir/Observation?code=$height&value-quantity=gt180"
make_paths family_prefix "/fhir/Patient?family=@F"
make_paths sort_date "/fhir/Observation?patient=@P&_sort=-date"
make_paths include_subject "/fhir/Observation?patient=@P&code=$height&_include=Observation:subject"
make_paths revinclude_subject "/fhir/Patient?family=@F&_count=10&_revinclude=Observation:subject"
make_paths count_code "/fhir/Observation?code=$height&_summary=count"
# Search part 2 (issue 13): a chain, a reverse chain, full text of a common and a rare word.
make_paths chain_family "/fhir/Observation?subject:Patient.family=@F&code=$height"
make_paths has_condition "/fhir/Patient?_has:Condition:patient:code=44054006&family=@F"
make_paths content_common "/fhir/DocumentReference?_content=patient"
make_paths content_rare "/fhir/DocumentReference?_content=fibrillation"
count_matches=$(curl -s "$base/fhir/Observation?code=$height&_summary=count" | grep -o '"total":[0-9]*' | cut -d: -f2)

# $everything of a patient, the whole walk (every page, _count=1000), 16 walkers at once over the
# first 200 patients: p50 and p99 of a walk, and the resources a walk returns on average. The
# walkers find the next link and count the entries without parsing the JSON, as wrk does not
# parse what it fetches: 16 Python threads parsing 2 MB pages under one interpreter lock, on the
# server's 2 cores, measured the client more than the server.
everything_walks() {
  python3 - "$base" "$work/patient_ids" <<'PY'
import re, sys, threading, time, urllib.request
base, ids = sys.argv[1], [line.strip() for line in open(sys.argv[2]) if line.strip()][:200]
walks, lock = [], threading.Lock()
next_link = re.compile(rb'"relation":"next","url":"([^"]*)"')
def walker(mine):
    for pid in mine:
        url, found, started = f"{base}/fhir/Patient/{pid}/$everything?_count=1000", 0, time.monotonic()
        while url:
            with urllib.request.urlopen(url) as response:
                page = response.read()
            found += page.count(b'{"fullUrl":')
            entries = page.find(b'"entry":')  # the links come before the entries
            link = next_link.search(page, 0, entries if entries >= 0 else len(page))
            url = link.group(1).decode() if link else None
        with lock:
            walks.append((time.monotonic() - started, found))
threads = [threading.Thread(target=walker, args=(ids[i::16],)) for i in range(16)]
for t in threads: t.start()
for t in threads: t.join()
def pick(times, q):
    times = sorted(times) or [float("nan")]
    return times[min(len(times) - 1, int(q * len(times)))]
average = sum(w[1] for w in walks) / len(walks)
everyone = [w[0] * 1000 for w in walks]
# The goal is an average patient's walk: also the walks of patients within a quarter of the average.
near = [w[0] * 1000 for w in walks if abs(w[1] - average) <= average / 4]
print(f"p50 {pick(everyone, 0.5):.1f} ms, p99 {pick(everyone, 0.99):.1f} ms a whole walk, {average:.0f} resources a patient on average, {len(walks)} patients;"
      f" the {len(near)} of {0.75 * average:.0f}-{1.25 * average:.0f} resources: p50 {pick(near, 0.5):.1f} ms, p99 {pick(near, 0.99):.1f} ms")
PY
}

# A custom search parameter on every resource type (base Resource): the time from its
# SearchParameter's create to the end of its reindex (a strict search by it stops answering 400).
reindex_seconds() {
  local first_id started
  first_id=$(head -n1 "$work/patient_ids")
  started=$(date +%s.%N)
  curl -s -f -o /dev/null -X PUT "$base/fhir/SearchParameter/bench-version" -H 'Content-Type: application/fhir+json' \
    -d '{"resourceType":"SearchParameter","id":"bench-version","url":"http://example.org/SearchParameter/bench-version","name":"version","status":"active","description":"the version id","code":"bench-version","base":["Resource"],"type":"token","expression":"Resource.meta.versionId"}'
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Prefer: handling=strict' "$base/fhir/Patient?_id=$first_id&bench-version=1")" = 200 ]; do
    sleep 0.5
  done
  awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# wrk's latency at percentile $2 ("50%", "99%") in ms, from its output file $1.
wrk_ms() {
  awk -v q="$2" '$1 == q { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else { sub(/s$/, "", v); v *= 1000 } print v }' "$1"
}
latency() {  # p50 and p99 in ms of the paths of $1 with $2 clients (16 by default)
  local clients=${2:-16}
  PATHS_FILE="$work/$1.paths" wrk -t"$((clients < 2 ? clients : 2))" -c"$clients" -d"${duration}s" --latency -s bench/wrk/paths.lua "$base" >"$work/$1.wrk"
  awk -v p50="$(wrk_ms "$work/$1.wrk" 50%)" -v p99="$(wrk_ms "$work/$1.wrk" 99%)" '
    /Requests\/sec/ { rate = $2 } /Non-2xx/ { bad = $NF }
    END { printf "p50 %.1f ms, p99 %.1f ms, %.0f searches/s%s", p50, p99, rate, bad ? ", " bad " non-2xx answers" : "" }' "$work/$1.wrk"
}
{
  echo "# Search at scale ($(date -u +%Y-%m-%d), $(nproc) cores): $resources resources"
  echo "import: $import_line, peak RSS $((import_rss_kb / 1024)) MiB"
  echo "database: $db_bytes bytes ($((db_bytes / resources)) per resource), of which the search index $index_bytes ($((index_bytes / resources)) per resource; full text $text_bytes of it)"
  echo "first page, 16 clients:"
  for name in patient_code code_date code_value family_prefix sort_date include_subject revinclude_subject count_code \
    chain_family has_condition content_common content_rare; do
    echo "  $name: $(latency "$name")   e.g. $(head -n1 "$work/$name.paths")"
  done
  # Counting speed: one client, so the time is the count's own, not a queue's.
  cp "$work/count_code.paths" "$work/count_alone.paths"
  echo "  count_code, one client: $(latency count_alone 1)"
  count_p50=$(wrk_ms "$work/count_alone.wrk" 50%)
  echo "count of a common code: $count_matches matches in ${count_p50} ms (p50, one client): $(awk -v n="$count_matches" -v t="$count_p50" 'BEGIN { printf "%.2f", n / t / 1000 }') M matches/s"
  echo "Patient/[id]/\$everything, 16 walkers: $(everything_walks)"
  echo "reindex of one custom parameter over every resource ($resources): $(reindex_seconds) s from its create to searchable"
  echo "server peak RSS after the searches: $(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$server/status) MiB"
} | tee "$out"
