#pragma once
// `chartkeeper audit export --since T`: the audit records from a point in time with what a third
// party needs to check them without trusting this server or its database: the public audit key,
// the signed checkpoint the export starts after (so its first record is chained to a signed hash),
// every signed checkpoint in the range and the signed head. JSON Lines, one object per line:
//   {"format":"chartkeeper-audit-export/1","public_key":PEM,"anchor":{seal}|null,"records":n}
//   {"record":{"seq":n,"time":ms,"content":"...","hash":"..."}}   (in sequence order)
//   {"checkpoint":{seal}}                                           (after the record it seals)
//   {"head":{seal}}                                                 (last)
// where a seal is {"seq","hash","time","signature" (base64)}. The procedure to check it is in
// docs/design/audit.md; tools/verify_audit_export.py follows it.
// Thread safety: one call at a time per store reader; the store may be serving meanwhile.

#include <cstdint>
#include <ostream>
#include <string>

#include "store/resource_store.h"
#include "util/status.h"
#include "util/time.h"

namespace ck::audit {

struct ExportSummary {
  std::int64_t first = 0;  // the first record exported (0: none)
  std::int64_t last = 0;
  std::int64_t records = 0;
};

// Writes the records from the last checkpoint before the first record at or after `since`
// (through the head read at the start). Errors: the store's; kInternal when `out` fails.
Result<ExportSummary> ExportTrail(store::ResourceStore& store, const std::string& public_key_pem, Millis since, std::ostream& out);

}  // namespace ck::audit
