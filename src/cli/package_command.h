#pragma once
// Loading FHIR packages (implementation guides such as US Core): their CodeSystems, ValueSets and
// StructureDefinitions are stored in the data folder as resources with their own ids, so the
// server validates meta.profile claims of that guide and its bindings. Loading another version
// of a package replaces the resources of the same id.
//
// Two ways in: `chartkeeper package load FILE.tgz...` (always stores, prints what was stored and
// what was refused, and why; exit code 0 when every resource was stored, 1 otherwise), and the
// `packages` configuration key, loaded by `serve` at start: a package whose content was loaded
// before (the database remembers each package's name, version and SHA-256 of its resources) is
// not stored again, so restarts add no versions.

#include <filesystem>
#include <string>
#include <vector>

#include "records/record_service.h"
#include "util/config.h"

namespace ck::cli {

struct PackageLoadReport {
  std::string name;     // "hl7.fhir.us.core"
  std::string version;  // "6.1.0"
  bool already_loaded = false;  // the same content was loaded before; nothing stored
  std::size_t stored = 0;
  std::vector<std::string> refused;  // one line per refused resource: its file and why
};

// Stores a package's conformance resources; with `skip_if_loaded`, only when this content was
// not loaded before. A package with refused resources is not remembered as loaded.
// Errors: from ReadFhirPackage (kNotFound, kInvalid); the store's.
Result<PackageLoadReport> LoadFhirPackage(records::RecordService& records, const std::filesystem::path& file,
                                          bool skip_if_loaded);

int RunPackageLoad(const Config& config, const std::vector<std::string>& files);

}  // namespace ck::cli
