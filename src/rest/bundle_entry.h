#pragma once
// The entries of a transaction or batch and of its response Bundle (FHIR R4 http, "Batches and
// Transactions"): the request an entry makes, routed like any other request, and the response
// entry its answer becomes.
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "records/bundle_plan.h"
#include "rest/http_message.h"
#include "util/time.h"

namespace ck::rest {

// The request a planned entry makes: its method, the path and query of its url under /fhir, the
// conditional headers of its request, its resource as the body, and the Prefer of `outer` (the
// request that carried the Bundle). Errors: kInvalid (a url whose escapes are malformed).
Result<HttpRequest> EntryRequest(const records::PlannedEntry& entry, const HttpRequest& outer);

// A response entry for an answer: its status, Location, ETag and Last-Modified (or, to the
// millisecond, `last_modified`: a write's transaction time), and its body as the resource or,
// for an OperationOutcome that reports (a failure, or Prefer: return=OperationOutcome), as the
// outcome.
std::string ResponseEntryJson(const HttpResponse& response, std::optional<Millis> last_modified = std::nullopt);

// A Bundle of `type` ("transaction-response", "batch-response") with these entries.
std::string ResponseBundleJson(std::string_view type, const std::vector<std::string>& entries);

}  // namespace ck::rest
