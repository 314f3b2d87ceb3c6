// Search index extraction per resource on the Synthea sample: every applicable R4 search
// parameter evaluated and turned into index entries, as each write does before the store.
#include <benchmark/benchmark.h>

#include "fhir/json_reader.h"
#include "search/index_extractor.h"
#include "synthea_samples.h"

namespace ck {
namespace {

void BM_ExtractIndex(benchmark::State& state) {
  std::vector<fhir::Resource> resources;
  for (const auto& json : bench::Samples()) resources.push_back(*fhir::ReadResource(json, fhir::Definitions::R4()));
  const search::IndexExtractor& extractor = search::IndexExtractor::R4();  // compiled before timing
  std::size_t entries = 0;
  for (auto _ : state) {
    entries = 0;
    for (const fhir::Resource& resource : resources) entries += extractor.Extract(resource)->size();
  }
  state.counters["resources/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * resources.size()), benchmark::Counter::kIsRate);
  state.counters["entries/resource"] = static_cast<double>(entries) / static_cast<double>(resources.size());
}

}  // namespace
}  // namespace ck

BENCHMARK(ck::BM_ExtractIndex)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
