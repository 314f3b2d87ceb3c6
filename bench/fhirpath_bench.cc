// FHIRPath: compile time per expression, and evaluations per second (compiled once) for
// (a) a simple path, (b) the `patient` search parameter on Observations, (c) a typical invariant,
// (d) a quantity comparison that converts units with UCUM, on real Synthea resources.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "cli/input_file.h"
#include "fhir/json_reader.h"
#include "fhirpath/expression.h"

namespace {

using namespace ck;

const fhir::Definitions& defs = fhir::Definitions::R4();

// The first Synthea resource of `type`.
const fhir::Resource& SampleOf(const std::string& type) {
  static std::map<std::string, fhir::Resource> samples = [] {
    std::map<std::string, fhir::Resource> out;
    std::filesystem::path dir = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!entry.path().filename().string().starts_with("0-")) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    auto text = (*cli::InputFile::Open(files.front()))->ReadAll();
    auto bundle = fhir::ParseJsonTree(*text);
    for (fhir::Node& entry : bundle->Find("entry")->values) {
      auto resource = fhir::BindResource(std::move(entry.Find("resource")->values[0]), defs);
      if (resource && !out.contains(resource->type_name())) out.emplace(resource->type_name(), std::move(*resource));
    }
    return out;
  }();
  return samples.at(type);
}

std::string PatientSearchExpression() {
  for (const auto& p : defs.SearchParameters()) {
    if (p.code == "patient" && std::find(p.bases.begin(), p.bases.end(), "Observation") != p.bases.end()) return p.expression;
  }
  return "";
}

struct Case {
  const char* name;
  std::string type;
  std::string expression;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"simple_path", "Patient", "Patient.name.given"},
      {"patient_search_parameter", "Observation", PatientSearchExpression()},
      {"invariant_obs_6", "Observation", "dataAbsentReason.empty() or value.empty()"},
      {"ucum_comparison", "Observation", "250 'mg/dL' = 2.5 'g/L'"},
  };
  return cases;
}

void BM_Compile(benchmark::State& state) {
  const Case& c = Cases()[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(c.name);
  const fhir::TypeDefinition& type = *defs.FindResourceType(c.type);
  for (auto _ : state) benchmark::DoNotOptimize(fhirpath::Expression::Compile(c.expression, defs, type));
}

void BM_Evaluate(benchmark::State& state) {
  const Case& c = Cases()[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(c.name);
  const fhir::Resource& resource = SampleOf(c.type);
  auto expression = fhirpath::Expression::Compile(c.expression, defs, resource.type());
  if (!expression) {
    state.SkipWithError(expression.error().message().c_str());
    return;
  }
  for (auto _ : state) {
    auto result = expression->Evaluate(resource, defs);
    benchmark::DoNotOptimize(result);
  }
  state.counters["evaluations/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Compile)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Evaluate)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
