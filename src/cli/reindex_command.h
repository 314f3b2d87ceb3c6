#pragma once
// `chartkeeper reindex [--type T]... [--param URL]`: rebuilds search index rows of the stored
// current versions, in pages of bounded memory, resumable (a stopped reindex goes on at the next
// start of any command, or of the server), with progress on stderr. Without options: every
// parameter of every resource (for a database whose index is suspect, or after a change in how
// values are indexed), then any custom parameter's reindex left unfinished. `--type`: every
// parameter of those types only. `--param URL`: one custom search parameter (a SearchParameter
// stored here), which is searchable once done. The server needs to be stopped (the data folder
// is one process's); while it runs, `POST /fhir/$reindex` does the same online.
// Exit code: 0 done, 1 the data folder or the store could not be used, or a bad option.

#include <string>
#include <vector>

#include "util/config.h"

namespace ck::cli {

struct ReindexOptions {
  std::vector<std::string> types;  // --type
  std::string param;               // --param
};

int RunReindex(const Config& config, const ReindexOptions& options);

}  // namespace ck::cli
