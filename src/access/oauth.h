#pragma once
// The OAuth2 vocabulary the token endpoint and the authorization flow share: the error response
// of RFC 6749 section 5.2 and how a registered client is found.
// Thread safety: plain values.

#include <functional>
#include <optional>
#include <string>

#include "access/account.h"

namespace ck::access {

// An OAuth2 error response (RFC 6749 section 5.2).
struct OAuthError {
  std::string error;        // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, invalid_scope
  std::string description;  // for the client; never a secret
  int http_status = 400;    // 401 for invalid_client
};

// The registered client with an id, or nullopt.
using ClientLookup = std::function<Result<std::optional<Client>>(const std::string& id)>;
// The user with a name, or nullopt.
using UserLookup = std::function<Result<std::optional<User>>(const std::string& name)>;

}  // namespace ck::access
