#pragma once
// One audit record's content: who did what to which records of which patients, when (the
// store's transaction time), with what outcome and why. Kept in the trail as compact JSON with
// its members in a fixed order (the bytes the chain hashes, so they are written once and never
// rebuilt); rendered on request as an R4 AuditEvent following the IHE Basic Audit Log Patterns
// (BALP): the RESTful interaction, the agents (the user and the client, with roles, network
// address and purpose of use), the source (this server), and the entities (the records, the
// query, each patient concerned).
// Thread safety: plain values and pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/resource_store.h"
#include "util/status.h"

namespace ck::audit {

struct AuditEntry {
  // The event type: "rest" (a FHIR interaction), "login", "logout", "security" (tokens, TOTP,
  // users, clients, roles, emergency access, configuration), "import", "export".
  std::string type = "rest";
  // The interaction: a FHIR restful-interaction code (read, vread, update, patch, delete,
  // history-instance, history-type, history-system, create, search-type, search-system,
  // transaction, batch, operation) or, for the other types, what happened ("token", "revoke",
  // "totp-enroll", "user-change", "client-change", "break-glass", "login-failed"...).
  std::string subtype;
  char action = 'R';   // C create, R read, U update, D delete, E execute
  int outcome = 0;     // 0 success, 4 minor failure (refused, not found), 8 serious failure
  std::string detail;  // why it failed, or what the operation was
  std::string door;    // the front door: "rest", "cli"
  std::string user;    // the user signed in, if any
  std::string client;  // the client application or backend service, if any
  std::vector<std::string> roles;
  std::string address;  // the caller's network address
  std::string request;  // the request id (X-Request-Id)
  std::string purpose;  // purpose of use (v3 ActReason): TREAT, ETREAT, HPAYMT, HOPERAT, ...
  std::string reason;   // the reason given for emergency access
  std::vector<std::string> entities;  // "Type/id" or "Type/id/_history/v"
  std::string query;                  // a search's parameters, as a query string
  std::vector<std::string> patients;  // ids of the patients whose records were concerned

  // What the record is filed under (store::AuditLinks).
  store::AuditLinks Links() const;
};

// The content to store (AppendAudit).
std::string AuditContent(const AuditEntry& entry);
// The entry a stored content holds. Errors: kCorrupt (not content this server wrote).
Result<AuditEntry> ParseAuditContent(std::string_view content);

// The purpose of use (v3 ActReason) of a caller with these roles: TREAT for clinicians, HPAYMT
// for coders, HOPERAT for HIM analysts and auditors, HSYSADMIN for administrators, HRESCH for
// researchers; empty when no role says (a system client).
std::string PurposeOfUse(const std::vector<std::string>& roles);

// The outcome code for a status: 0 OK, 4 the caller's fault (4xx), 8 the server's (5xx).
int OutcomeOf(const Status& status);

// The record as an R4 AuditEvent (JSON), id = its sequence number. Errors: as ParseAuditContent.
Result<std::string> AuditEventJson(const store::AuditRecord& record);

}  // namespace ck::audit
