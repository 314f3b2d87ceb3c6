#!/usr/bin/env bash
# Builds the fuzz targets with clang (AddressSanitizer + UBSan + libFuzzer) and runs each for
# FUZZ_SECONDS (default 120). Corpora live in build/fuzz/corpus/; a crash leaves its input in
# build/fuzz/ and fails the run: turn it into a unit test in tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-120}
cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCK_SANITIZE=ON -DCK_BUILD_TESTS=OFF -DCK_BUILD_FUZZ=ON >/dev/null
targets=(fhirpath_parser_fuzzer json_reader_fuzzer ucum_parser_fuzzer http_request_fuzzer search_query_fuzzer)
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]}"
# Seed corpora from real inputs: the official examples, the FHIRPath suite's expressions and the
# units of the UCUM table (with LOINC's common unit expressions).
for target in "${targets[@]}"; do mkdir -p "build/fuzz/corpus/$target"; done
cp ../shared/testdata/fhir-examples/*.json build/fuzz/corpus/json_reader_fuzzer/
# Hostile inputs found by probing the server (fuzz/seeds/<target>/): framing tricks, encoded
# slashes and newlines, compression bombs, repeated and unknown keys, deep nesting.
for target in "${targets[@]}"; do
  if [ -d "fuzz/seeds/$target" ]; then cp "fuzz/seeds/$target"/* "build/fuzz/corpus/$target/"; fi
done
node -e '
  const fs = require("fs");
  const suite = JSON.parse(fs.readFileSync("../shared/testdata/fhirpath/tests-fhir-r4.json"));
  let n = 0;
  for (const g of suite.groups) for (const t of g.tests) fs.writeFileSync(`build/fuzz/corpus/fhirpath_parser_fuzzer/seed-${n++}`, t.expression);
  const ucum = JSON.parse(fs.readFileSync("node_modules/@lhncbc/ucum-lhc/data/ucumDefs.min.json"));
  const code = ucum.units.config.indexOf("csCode_");
  ucum.units.data.forEach((u, i) => fs.writeFileSync(`build/fuzz/corpus/ucum_parser_fuzzer/seed-${i}`, String(u[code] ?? "")));
'
for target in "${targets[@]}"; do
  echo "== $target for ${seconds}s"
  (cd build/fuzz && "./fuzz/$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 "corpus/$target")
done
