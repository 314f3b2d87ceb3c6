#pragma once
// Who is asking, through which front door: carried from every entry point (REST, CLI import,
// later MLLP and jobs) to the core, where access control (records/access_guard.h) and the audit
// trail (audit/audit_trail.h) act in one place. The actor is the verified identity when the
// front door authenticated the caller, else whatever it can say (the peer address).
// Thread safety: a plain value.

#include <memory>
#include <string>
#include <vector>

#include "audit/pending_records.h"

#include "records/access_guard.h"

namespace ck::records {

// What a write whose resource breaks a rule (constraint, binding, profile, extension) gets; a
// body that is not well-formed FHIR JSON is refused under every policy. Chosen per front door.
enum class ValidationPolicy {
  kStrict,     // refused (422) with every issue
  kLenient,    // stored, its errors recorded beside the version (migrating legacy data)
  kStructure,  // stored after the structure checks alone, nothing recorded (import only: reloading
               // data this server validated before)
};

struct RequestContext {
  std::string front_door;  // "rest", "cli-import"
  std::string actor;       // authenticated identity, or a description of an anonymous caller
  std::string request_id;  // correlates log lines and audit records of one request
  // Who, for the audit trail (audit/audit_entry.h): the user signed in and the client, their
  // roles, the peer's address; the purpose of use and the reason given for emergency access.
  std::string user;
  std::string client;
  std::vector<std::string> roles;
  std::string address;
  std::string purpose;
  std::string reason;
  // Where the audit records of reads, searches, refusals and failures go: the front door
  // answers only once they are durable. nullptr: the records service waits for each itself.
  std::shared_ptr<audit::PendingRecords> audits;
  // false: an internal step of an interaction that is audited as a whole (a patch's read).
  bool audited = true;
  bool report_warnings = false;  // a write's warnings are wanted back (Prefer: return=OperationOutcome)
  ValidationPolicy validation = ValidationPolicy::kStrict;
  // Referential integrity: a write's references to resources of this server must name ones that
  // exist, and a delete must not leave current resources referring to what it deletes (409).
  // REST turns it on (the referential_integrity setting); bulk import, whose files come in any
  // order, does not.
  bool check_references = false;
  // What the caller may do; nullptr: a trusted caller (an offline command, or authentication
  // turned off). REQUIRES: outlives the request.
  const AccessGuard* guard = nullptr;
};

}  // namespace ck::records
