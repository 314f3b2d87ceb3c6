# Sourced by the benchmark scripts that run the release server ($bin): makes the scratch folder
# $work, removed at exit with any server still running, and reports a failing line. start_server
# [serve arguments...] starts the server on a free loopback port with its data in $data_dir
# (default $work/var; log $work/serve.log) and sets $server and $base; stop_server stops it.
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR

start_server() {
  "$bin" serve --listen 127.0.0.1:0 --data "${data_dir:-$work/var}" "$@" >"$work/serve.log" 2>&1 &
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
# Writes Patient/bench and 1,000 Observations of it through the running server; lists them
# ("Observation/oN", one per line) in the file $1, for wrk's read_by_id.lua.
load_observations() {
  curl -s -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' -d '{"resourceType":"Patient","id":"bench"}' "$base/fhir/Patient/bench"
  for i in $(seq 1 1000); do
    echo "{\"resourceType\":\"Observation\",\"id\":\"o$i\",\"status\":\"final\",\"code\":{\"text\":\"weight\"},\"subject\":{\"reference\":\"Patient/bench\"},\"valueQuantity\":{\"value\":$i,\"unit\":\"kg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}}" \
      | curl -s -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' --data-binary @- "$base/fhir/Observation/o$i"
    echo "Observation/o$i"
  done >"$1"
}
