#pragma once
// `chartkeeper package load FILE.tgz...`: stores the CodeSystems, ValueSets and
// StructureDefinitions of FHIR packages (implementation guides such as US Core) in the data
// folder, as resources with their own ids, so the server validates meta.profile claims of that
// guide and its bindings. Loading a package again, or another version of it, replaces the
// resources of the same id. Prints what was stored and what was refused, and why.
// Exit code: 0 when every resource was stored, 1 otherwise.

#include <string>
#include <vector>

#include "util/config.h"

namespace ck::cli {

int RunPackageLoad(const Config& config, const std::vector<std::string>& files);

}  // namespace ck::cli
