#pragma once
// Who is asking, through which front door: carried from every entry point (REST, CLI import,
// later MLLP and jobs) to the core, so access control and the audit trail can be added in one
// place. Until authentication lands, the actor is whatever the front door can say (e.g. the
// peer address); nothing trusts it yet.
// Thread safety: a plain value.

#include <string>

namespace ck::records {

struct RequestContext {
  std::string front_door;  // "rest", "cli-import"
  std::string actor;       // authenticated identity, or a description of an anonymous caller
  std::string request_id;  // correlates log lines (and later audit records) of one request
  bool report_warnings = false;  // a write's warnings are wanted back (Prefer: return=OperationOutcome)
};

}  // namespace ck::records
