#pragma once
// `chartkeeper audit verify`: recomputes the audit trail's chain (store/audit_chain.h) from a
// record on and checks every seal's signature with the audit key, so that any change to the
// trail after it was written shows: a record edited, deleted, inserted or moved, records dropped
// from the end, or the chain rewritten to hide a change (then the signed checkpoint or head after
// the change no longer matches). Reports the first broken link and what kind it is.
// Thread safety: one call at a time per store reader; the store may be serving meanwhile.

#include <cstdint>
#include <functional>
#include <string>

#include "audit/audit_key.h"
#include "store/resource_store.h"
#include "util/status.h"

namespace ck::audit {

enum class Break {
  kNone,
  kEdited,      // a record's content or time no longer matches its hash
  kDeleted,     // a record is missing (a gap, or the records after it renumbered)
  kInserted,    // a record that was not written by the server (in the chain, or after the signed head)
  kReordered,   // a record is in another place than the one it was written at
  kTruncated,   // records the signed head vouches for are missing from the end
  kRewritten,   // the chain does not match a signed checkpoint or the head: recomputed after a change
  kForgedSeal,  // a checkpoint or the head whose signature is not the audit key's
  kUnsealed,    // records without a signed head
};
const char* BreakName(Break kind);

struct VerifyReport {
  std::int64_t checked = 0;      // records whose hash was recomputed
  std::int64_t checkpoints = 0;  // signed checkpoints checked
  std::int64_t last = 0;         // the last record's sequence number
  Break broken = Break::kNone;
  std::int64_t first_bad = 0;    // the first sequence number that is not as written
  std::string message;           // what was found, for the operator

  bool ok() const { return broken == Break::kNone; }
};

// Verifies the records from sequence `from` on (1: all; above 1 trusts the stored hash of the
// record before `from`). `progress` is told the records checked so far, now and then.
// Errors: the store's (a verification that finds a break is not an error: see the report).
Result<VerifyReport> VerifyTrail(store::ResourceStore& store, const AuditKeyCheck& key, std::int64_t from = 1,
                                 const std::function<void(std::int64_t)>& progress = {});

}  // namespace ck::audit
