#pragma once
// The one question the records service asks before it reads or writes for a caller: may this
// caller do this interaction on resources of this type? Asked by RecordService itself at every
// entry point (a read, a search and each type it returns, history, each write of a bundle), so
// no front door can skip it. The answer comes from the security layer (access/), which
// implements this interface from a verified token and the role policy; the records service does
// not know how. A RequestContext without a guard is a trusted caller: a command working on the
// data folder, or a server run with authentication off.
// Thread safety: implementations are immutable and safe from any thread.

#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::records {

enum class Interaction { kCreate, kRead, kUpdate, kDelete, kSearch };

class AccessGuard {
 public:
  virtual ~AccessGuard() = default;
  // OK, or kForbidden saying what is missing. `type` "*" asks for every resource type at once
  // (system-wide history).
  virtual Status Allow(Interaction interaction, std::string_view type) const = 0;
  // The Patient id whose compartment limits an allowed `interaction` on `type`, or empty when
  // nothing limits it.
  virtual std::string PatientLimit(Interaction interaction, std::string_view type) const = 0;
};

}  // namespace ck::records
