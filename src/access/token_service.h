#pragma once
// The OAuth2 token, introspection and revocation endpoints' logic, and the check of the access
// tokens issued, without HTTP.
//   client_credentials (RFC 6749 4.4) for backend clients, which prove who they are with a signed
//     JWT assertion (SMART Backend Services, RFC 7523: iss = sub = the client id, aud = the token
//     endpoint, at most five minutes to live, a jti never used before) or with their secret (HTTP
//     Basic, RFC 6749 2.3.1);
//   authorization_code (RFC 6749 4.1.3 with PKCE) for apps a user signed in to
//     (access/authorization_flow.h): public apps name themselves with client_id, confidential
//     ones also give their secret;
//   refresh_token (RFC 6749 6) with rotation and reuse detection (access/refresh_tokens.h).
// Access tokens are ES256 JWTs (access/signing_keys.h) carrying the granted scopes; a user's also
// carries the user, the fhirUser and the launch patient, and with `openid` an ID token comes too.
// Authenticate checks a bearer token, that its client is still registered and not revoked, that
// its user is still enabled with the credentials it signed in with, and that the token itself
// was not revoked (RFC 7009; kept until it would have expired).
// Thread safety: safe from any thread.

#include <mutex>
#include <string>
#include <tl/expected.hpp>
#include <unordered_map>
#include <vector>

#include "access/access_policy.h"
#include "access/account_directory.h"
#include "access/authorization_flow.h"
#include "access/oauth.h"
#include "access/refresh_tokens.h"
#include "access/scope.h"
#include "access/signing_keys.h"
#include "util/json_value.h"
#include "util/time.h"

namespace ck::access {

// A request to the token, introspection or revocation endpoint, with how the client proved
// itself.
struct TokenRequest {
  std::string grant_type;
  std::string scope;
  std::string client_id;              // form parameter, if any
  std::string client_assertion_type;
  std::string client_assertion;
  std::string basic_client_id;        // from an Authorization: Basic header, if any
  std::string basic_secret;
  std::string code;                   // authorization_code
  std::string redirect_uri;
  std::string code_verifier;
  std::string refresh_token;          // refresh_token
  std::string token;                  // introspection and revocation
  std::string token_type_hint;
};

struct TokenResponse {
  std::string access_token;
  std::string scope;
  std::int64_t expires_in = 0;  // seconds
  std::string refresh_token;    // with online_access or offline_access
  std::string id_token;         // with openid
  std::string patient;          // launch context
};

// Who a verified access token speaks for.
struct Identity {
  std::string subject;    // the user's name, or for a backend service its client id
  std::string client_id;
  std::string user;       // empty for a backend service
  std::string fhir_user;  // "Practitioner/123", or empty
  std::string patient;    // the launch patient's id, or empty
  std::string break_glass;  // emergency access: the reason given (then `patient` is the patient)
  std::vector<std::string> roles;
  ScopeSet scopes;        // granted
  std::string jti;
  Millis issued = 0;
  Millis expires = 0;
};

struct TokenServiceOptions {
  std::string issuer;          // iss of the tokens: the server's auth base URL
  std::string audience;        // aud of the tokens: the FHIR base URL
  std::string token_endpoint;  // what a client assertion's aud must name
  Millis backend_token_lifetime = 5 * 60 * 1000;
  Millis user_token_lifetime = 60 * 60 * 1000;
  Millis session_idle = 15 * 60 * 1000;               // a refresh token (online_access) unused this long lapses
  Millis session_lifetime = 12 * 60 * 60 * 1000;      // the longest sign-in with online_access
  Millis offline_idle = 30LL * 24 * 60 * 60 * 1000;   // the same for offline_access
  Millis offline_lifetime = 90LL * 24 * 60 * 60 * 1000;
};

class TokenService {
 public:
  // REQUIRES: every reference outlives the service; `flow` may be null (no user sign-in).
  TokenService(SigningKeys& keys, store::ResourceStore& store, const Clock& clock, TokenServiceOptions options, ClientLookup clients,
               UserLookup users, AuthorizationFlow* flow);

  // Loads the revoked tokens. Errors: the store's.
  Status Open();

  tl::expected<TokenResponse, OAuthError> Token(const TokenRequest& request);
  // RFC 7662: {"active": false} or the token's claims. The caller must be a confidential client
  // or a backend service.
  tl::expected<JsonValue, OAuthError> Introspect(const TokenRequest& request);
  // RFC 7009: revokes an access token or a refresh token's sign-in, if the calling client holds
  // it; an unknown token is no error.
  tl::expected<void, OAuthError> Revoke(const TokenRequest& request);

  // Emergency access ("break the glass") for the signed-in `user`: a token that reads and
  // searches Patient/`patient`'s compartment for `lifetime`, carrying the reason.
  // Errors: kInternal (signing).
  Result<TokenResponse> BreakGlassToken(const Identity& user, const std::string& patient, const std::string& reason, Millis lifetime);
  // Errors: kUnauthenticated (a token that fails a check, or whose client or user is gone,
  // disabled or revoked), the store's.
  Result<Identity> Authenticate(std::string_view bearer_token);
  // Whether an identity verified earlier still holds: its token not revoked, its client and its
  // user still in good standing. Cheap: memory only.
  Status StillValid(const Identity& identity);

 private:
  tl::expected<Client, OAuthError> AuthenticateClient(const TokenRequest& request);
  tl::expected<void, OAuthError> CheckAssertion(const Client& client, std::string_view assertion);
  tl::expected<TokenResponse, OAuthError> ClientCredentials(const Client& client, const TokenRequest& request);
  tl::expected<TokenResponse, OAuthError> UserTokens(const Client& client, const User& user, RefreshGrant grant,
                                                    std::string_view nonce, bool new_family);
  // What an access token says (access/token_service.cc writes iss, aud, iat, exp and jti too).
  struct AccessClaims {
    std::string subject;
    std::string client_id;
    std::string scope;
    bool user = false;        // a signed-in user's token: ck_user and auth_time
    std::string fhir_user;
    std::string patient;
    std::string break_glass;
    Millis auth_time = 0;
    Millis lifetime = 0;
  };
  Result<std::string> SignAccessToken(const AccessClaims& claims);
  Result<std::string> Sign(JsonValue claims);
  // The claims of a current token this server signed.
  Result<JsonValue> Verify(std::string_view token);
  Result<User> ActiveUser(const std::string& name, Millis auth_time);

  SigningKeys& keys_;
  store::ResourceStore& store_;
  const Clock& clock_;
  const TokenServiceOptions options_;
  const ClientLookup clients_;
  const UserLookup users_;
  AuthorizationFlow* const flow_;
  RefreshTokens refresh_;
  std::mutex revoked_mu_;
  std::unordered_map<std::string, Millis> revoked_;  // guarded by revoked_mu_: jti -> when it expires
};

}  // namespace ck::access
