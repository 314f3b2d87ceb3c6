#pragma once
// What `chartkeeper serve` does for a data folder without any user or client: so a newcomer can
// sign in and send a request, and no default password exists anywhere, it makes
//   - the user `admin` (role admin) with a random one-time password, to be changed at the first
//     login, where two-factor enrollment is also required, and
//   - a backend client (role integration, scope system/*.cruds) with a random secret, for curl
//     and scripts (revoke it with `chartkeeper client revoke` once real clients exist),
// and prints both secrets once on standard output (never to the log) with the curl command
// that gets a token.

#include <ostream>
#include <string>

#include "store/resource_store.h"
#include "util/time.h"

namespace ck::cli {

// Does nothing when any user or client exists. `base_url` is the server without /fhir.
// Errors: the store's.
Status CreateFirstAccounts(store::ResourceStore& store, const Clock& clock, const std::string& base_url, std::ostream& out);

}  // namespace ck::cli
