#pragma once
// `chartkeeper reindex`: rebuilds the search index rows of every stored current version, in
// pages of bounded memory, resumable (a stopped reindex goes on at the next start of any
// command), with progress on stderr. For a database whose index is suspect, or after a change in
// how values are indexed. The server needs to be stopped (the data folder is one process's).
// Exit code: 0 done, 1 the data folder or the store could not be used.

#include "util/config.h"

namespace ck::cli {

int RunReindex(const Config& config);

}  // namespace ck::cli
