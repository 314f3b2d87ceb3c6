// Validation cost per resource on the Synthea sample, split into its phases: structure (parse and
// bind, with cardinality and narratives), bindings, invariants and profiles (the claimed ones and
// every extension's definition: with the core profiles only, and with US Core 3.1.1 loaded, the
// guide Synthea's claims name), and the whole of steps 4 to 6 as a write runs them.
#include <benchmark/benchmark.h>

#include "cli/fhir_package.h"
#include "synthea_samples.h"
#include "terminology/loaded_value_sets.h"
#include "validation/binding_check.h"
#include "validation/validator.h"

namespace {

using namespace ck;
using bench::Samples;

const std::vector<fhir::Resource>& Bound() {
  static const std::vector<fhir::Resource> resources = [] {
    std::vector<fhir::Resource> out;
    for (const auto& json : Samples()) out.push_back(*fhir::ReadResource(json, fhir::Definitions::R4()));
    return out;
  }();
  return resources;
}

// The core profiles, and optionally US Core 3.1.1 with its value sets.
struct Profiles {
  explicit Profiles(bool us_core) {
    if (!us_core) return;
    auto package = cli::ReadFhirPackage(std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "us-core" /
                                        "hl7.fhir.us.core-3.1.1.tgz");
    for (const cli::PackageResource& resource : package->resources) {
      auto tree = fhir::ParseJsonTree(resource.json, {.max_depth = 128});
      if (resource.type != "StructureDefinition") {
        value_sets.Add(*tree);
      } else if (tree->TextOf("derivation") == "constraint") {
        (void)registry.Add(*tree);
      }
    }
  }
  validation::ProfileRegistry registry{fhir::Definitions::R4()};
  terminology::LoadedValueSets value_sets{terminology::ValueSets::R4()};
};

void Rate(benchmark::State& state) {
  state.counters["resources/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * Bound().size()), benchmark::Counter::kIsRate);
}

void BM_Structure(benchmark::State& state) {
  const auto& samples = Samples();
  for (auto _ : state) {
    for (const auto& json : samples) benchmark::DoNotOptimize(fhir::ReadResource(json, fhir::Definitions::R4()));
  }
  Rate(state);
}

void BM_Bindings(benchmark::State& state) {
  const auto& resources = Bound();
  for (auto _ : state) {
    for (const auto& resource : resources) {
      validation::IssueCollector issues({});
      validation::CheckBindings(resource, terminology::ValueSets::R4(), issues);
      benchmark::DoNotOptimize(issues.issues().size());
    }
  }
  Rate(state);
}

void BM_Invariants(benchmark::State& state) {
  const auto& resources = Bound();
  const auto& invariants = validation::InvariantCheck::R4();
  for (auto _ : state) {
    for (const auto& resource : resources) {
      validation::IssueCollector issues({});
      invariants.Check(resource, issues);
      benchmark::DoNotOptimize(issues.issues().size());
    }
  }
  Rate(state);
}

void BM_Profiles(benchmark::State& state) {
  const auto& resources = Bound();
  Profiles profiles(state.range(0) == 1);
  validation::ProfileCheck check(fhir::Definitions::R4(), profiles.registry, profiles.value_sets);
  for (auto _ : state) {
    for (const auto& resource : resources) {
      validation::IssueCollector issues({});
      check.Check(resource, {}, false, issues);
      benchmark::DoNotOptimize(issues.issues().size());
    }
  }
  Rate(state);
  state.SetLabel(state.range(0) == 1 ? "core + US Core 3.1.1" : "core profiles only");
}

void BM_ValidateAll(benchmark::State& state) {
  const auto& resources = Bound();
  Profiles profiles(state.range(0) == 1);
  validation::Validator validator(fhir::Definitions::R4(), profiles.value_sets, validation::InvariantCheck::R4(), profiles.registry, false);
  for (auto _ : state) {
    for (const auto& resource : resources) benchmark::DoNotOptimize(validator.Validate(resource, {}));
  }
  Rate(state);
  state.SetLabel(state.range(0) == 1 ? "core + US Core 3.1.1" : "core profiles only");
}

BENCHMARK(BM_Structure)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bindings)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Invariants)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Profiles)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValidateAll)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
