#pragma once
// `chartkeeper serve`: opens the store, starts the FHIR REST API, runs until SIGINT/SIGTERM.

#include "util/config.h"

namespace ck::cli {

// Returns the process exit code: 0 after a clean shutdown, 1 if the server could not start.
int RunServe(const Config& config);

}  // namespace ck::cli
