#pragma once
// The one table that maps each StatusCode to what every protocol reports for it: the HTTP
// status, the default FHIR issue type, and the HL7 v2 acknowledgment code. Front doors apply
// it (rest/operation_outcome.h for HTTP); nothing else decides these numbers.

#include <string_view>

#include "util/status.h"

namespace ck {

struct ErrorTableRow {
  StatusCode code;
  std::string_view name;   // stable name used in logs and metrics
  int http_status;
  IssueType issue_type;
  std::string_view hl7_ack;  // AE: the message was wrong; AR: the receiver failed
};

// REQUIRES: nothing; total over StatusCode.
const ErrorTableRow& ErrorTableFor(StatusCode code);

}  // namespace ck
