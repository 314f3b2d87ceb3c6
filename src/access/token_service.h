#pragma once
// The OAuth2 token endpoint's logic and the check of the access tokens it issues, without HTTP.
// Today: the client_credentials grant (RFC 6749 section 4.4) for backend clients, which prove
// who they are with a signed JWT assertion (SMART Backend Services, RFC 7523: iss = sub = the
// client id, aud = the token endpoint, at most five minutes to live, a jti never used before)
// or with their secret (HTTP Basic, RFC 6749 section 2.3.1). The token is an ES256 JWT
// (access/signing_keys.h) carrying the granted scopes: those asked for that the client may
// have (all it may have when it asks for none). Authenticate checks a bearer token and that its
// client is still registered and not revoked.
// Thread safety: safe from any thread.

#include <functional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "access/access_policy.h"
#include "access/account_directory.h"
#include "access/scope.h"
#include "access/signing_keys.h"
#include "util/time.h"

namespace ck::access {

// An OAuth2 error response (RFC 6749 section 5.2).
struct OAuthError {
  std::string error;        // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, invalid_scope
  std::string description;  // for the client; never a secret
  int http_status = 400;    // 401 for invalid_client
};

struct TokenRequest {
  std::string grant_type;
  std::string scope;
  std::string client_id;              // form parameter, if any
  std::string client_assertion_type;
  std::string client_assertion;
  std::string basic_client_id;        // from an Authorization: Basic header, if any
  std::string basic_secret;
};

struct TokenResponse {
  std::string access_token;
  std::string scope;
  std::int64_t expires_in = 0;  // seconds
};

// Who a verified access token speaks for.
struct Identity {
  std::string subject;    // the client id (later: the user's name)
  std::string client_id;
  std::vector<std::string> roles;
  ScopeSet scopes;        // granted
  Millis expires = 0;
};

struct TokenServiceOptions {
  std::string issuer;          // iss of the tokens: the server's auth base URL
  std::string audience;        // aud of the tokens: the FHIR base URL
  std::string token_endpoint;  // what a client assertion's aud must name
  Millis backend_token_lifetime = 5 * 60 * 1000;
};

// The registered client with an id, or nullopt (how Authenticate finds a token's client).
using ClientLookup = std::function<Result<std::optional<Client>>(const std::string& id)>;

class TokenService {
 public:
  // REQUIRES: every reference outlives the service. `clients` defaults to reading `accounts`.
  TokenService(AccountDirectory& accounts, SigningKeys& keys, store::ResourceStore& store, const Clock& clock,
               TokenServiceOptions options, ClientLookup clients = nullptr);

  tl::expected<TokenResponse, OAuthError> Token(const TokenRequest& request);
  // Errors: kUnauthenticated (a token that fails a check, or whose client is gone or revoked),
  // the store's.
  Result<Identity> Authenticate(std::string_view bearer_token);

 private:
  tl::expected<Client, OAuthError> AuthenticateClient(const TokenRequest& request);
  tl::expected<void, OAuthError> CheckAssertion(const Client& client, std::string_view assertion);

  AccountDirectory& accounts_;
  SigningKeys& keys_;
  store::ResourceStore& store_;
  const Clock& clock_;
  const TokenServiceOptions options_;
  const ClientLookup clients_;
};

// The scopes of `requested` that `allowed` covers: same context, a type it names (or *), no
// permission it lacks, and every query parameter it has. Resource scopes only.
ScopeSet GrantedScopes(const ScopeSet& requested, const ScopeSet& allowed);

}  // namespace ck::access
