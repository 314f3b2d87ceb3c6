// JSON codec throughput on real Synthea resources: the RapidJSON SAX pass alone (the ceiling),
// Chartkeeper's full read (SAX tree + binding + validation), and serialization.
#include <benchmark/benchmark.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <filesystem>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"
#include "store/body_codec.h"
#include "synthea_samples.h"

namespace ck::fhir {
extern const char kDefinitionsTable[];  // the generated table (fhir/definitions.cc)
}

namespace {

using namespace ck;
using bench::Samples;
using bench::TotalBytes;

void BM_RapidJsonSaxOnly(benchmark::State& state) {
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseIterativeFlag;
  const auto& samples = Samples();  // loaded before timing starts
  for (auto _ : state) {
    for (const auto& json : samples) {
      rapidjson::BaseReaderHandler<> handler;
      rapidjson::Reader reader;
      rapidjson::MemoryStream stream(json.data(), json.size());
      benchmark::DoNotOptimize(reader.Parse<kFlags>(stream, handler));
    }
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["resources/s"] = benchmark::Counter(static_cast<double>(state.iterations() * Samples().size()), benchmark::Counter::kIsRate);
}

void BM_ReadResource(benchmark::State& state) {
  const auto& definitions = fhir::Definitions::R4();
  const auto& samples = Samples();
  for (auto _ : state) {
    for (const auto& json : samples) {
      auto resource = fhir::ReadResource(json, definitions);
      if (!resource) state.SkipWithError("a sample failed to parse");
      benchmark::DoNotOptimize(resource);
    }
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["resources/s"] = benchmark::Counter(static_cast<double>(state.iterations() * Samples().size()), benchmark::Counter::kIsRate);
}

void BM_WriteJson(benchmark::State& state) {
  std::vector<fhir::Resource> resources;
  for (const auto& json : Samples()) resources.push_back(*fhir::ReadResource(json, fhir::Definitions::R4()));
  for (auto _ : state) {
    for (const auto& resource : resources) benchmark::DoNotOptimize(fhir::WriteJson(resource.root()));
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["resources/s"] = benchmark::Counter(static_cast<double>(state.iterations() * Samples().size()), benchmark::Counter::kIsRate);
}

// How stored bodies are encoded (store/body_codec.h): compression ratio and its cost both ways.
void BM_EncodeBody(benchmark::State& state) {
  const auto& samples = Samples();
  std::int64_t stored = 0;
  for (auto _ : state) {
    stored = 0;
    for (const auto& json : samples) stored += static_cast<std::int64_t>(store::EncodeBody(json).bytes.size());
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["stored/json"] = static_cast<double>(stored) / static_cast<double>(TotalBytes());
}

void BM_DecodeBody(benchmark::State& state) {
  std::vector<store::EncodedBody> encoded;
  for (const auto& json : Samples()) encoded.push_back(store::EncodeBody(json));
  for (auto _ : state) {
    for (const auto& body : encoded) benchmark::DoNotOptimize(store::DecodeBody(body.encoding, body.bytes));
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
}

void BM_LoadDefinitions(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fhir::Definitions::Parse(fhir::kDefinitionsTable));
}

BENCHMARK(BM_RapidJsonSaxOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadResource)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBody)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeBody)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadDefinitions)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
