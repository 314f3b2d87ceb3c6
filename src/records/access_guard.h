#pragma once
// The one question the records service asks before it reads or writes for a caller: may this
// caller do this interaction on resources of this type? Asked by RecordService itself at every
// entry point (a read, a search and each type it returns, history, each write of a bundle), so
// no front door can skip it. The answer comes from the security layer (access/), which
// implements this interface from a verified token and the role policy; the records service does
// not know how. A RequestContext without a guard is a trusted caller: a command working on the
// data folder, or a server run with authentication off.
// An allowed interaction may be limited (Limit): to one patient's compartment (a SMART
// patient-context token), and to resources matching search parameters (a SMART v2 scope query,
// `?category=laboratory`); the records service then reads, searches and includes only such
// resources and writes only into the compartment (docs/design/access_control.md).
// Thread safety: implementations are immutable and safe from any thread.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ck::records {

enum class Interaction { kCreate, kRead, kUpdate, kDelete, kSearch };

// What limits an allowed interaction; empty: nothing does.
struct AccessLimit {
  std::string patient;  // only resources in this Patient's compartment
  std::vector<std::pair<std::string, std::string>> query;  // only resources matching these search parameters
  bool empty() const { return patient.empty() && query.empty(); }
};

class AccessGuard {
 public:
  virtual ~AccessGuard() = default;
  // OK, or kForbidden saying what is missing. `type` "*" asks for every resource type at once
  // (system-wide history).
  virtual Status Allow(Interaction interaction, std::string_view type) const = 0;
  // What limits an allowed `interaction` on `type`.
  virtual AccessLimit Limit(Interaction interaction, std::string_view type) const = 0;
  // OK when the caller may administer the server (reindexing, say); else kForbidden.
  virtual Status AllowAdministration() const = 0;
};

}  // namespace ck::records
