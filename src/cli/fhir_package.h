#pragma once
// Reading a FHIR package (an implementation guide as published: a .tgz whose package/ folder
// holds one resource per JSON file): the conformance resources validation uses, that is its
// CodeSystems, ValueSets and StructureDefinitions, in that order (a value set draws on code
// systems, a profile binds value sets). Examples, XML copies and other folders are left out.
// Thread safety: pure functions.

#include <filesystem>
#include <string>
#include <vector>

#include "util/status.h"

namespace ck::cli {

struct PackageResource {
  std::string file;  // the path inside the archive, for messages
  std::string type;  // "CodeSystem", "ValueSet", "StructureDefinition"
  std::string json;
};

struct FhirPackage {
  std::string name;     // package.json "name", e.g. "hl7.fhir.us.core"
  std::string version;  // package.json "version", e.g. "6.1.0"
  std::vector<PackageResource> resources;
};

// Errors: kInvalid when the file is not a gzip'ed tar, has no package/package.json, or holds a
// resource file that is not JSON; kNotFound when it cannot be opened.
Result<FhirPackage> ReadFhirPackage(const std::filesystem::path& file);

}  // namespace ck::cli
