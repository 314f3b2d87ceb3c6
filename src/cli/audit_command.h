#pragma once
// `chartkeeper audit ...`: the audit trail from the command line.
//   verify [--from N] [--public-key FILE]: recomputes the chain and checks the seals
//     (audit/audit_verify.h); reads only, so it runs beside a serving server. The public key
//     comes from the audit key file, or from FILE (a third party's copy of the public key).
//   export --since T [--output FILE]: the records since T with their proofs (audit/audit_export.h).
//   disclosures --patient ID [--start T] [--end T] [--exclude CODES] [--format csv|json]: the
//     accounting of disclosures (audit/disclosures.h).
// export and disclosures open the data folder (the server must be stopped: over REST, use
// $disclosures) and are themselves audited. Output on standard output unless --output.
// Exit codes: 0 done (verify: the trail is intact), 1 refused or failed, 3 verify found a break.

#include <cstdint>
#include <string>

#include "util/config.h"

namespace ck::cli {

struct AuditCommand {
  enum class Action { kVerify, kExport, kDisclosures };
  Action action = Action::kVerify;
  std::int64_t from = 1;       // verify
  std::string public_key;      // verify: a PEM public key file instead of the audit key
  std::string since;           // export: a FHIR dateTime
  std::string output;          // export: a file (default standard output)
  std::string patient;         // disclosures
  std::string start;           // disclosures: FHIR dates, default the last six years
  std::string end;
  std::string exclude;         // disclosures: purposes of use left out (default disclosures_exclude)
  std::string format = "csv";  // disclosures: csv or json
};

int RunAuditCommand(const Config& config, const AuditCommand& command);

}  // namespace ck::cli
