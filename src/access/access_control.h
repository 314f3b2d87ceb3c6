#pragma once
// The security layer as the front doors use it: turns an Authorization header into the guard
// that RecordService consults (records/access_guard.h), runs the sign-in (the authorization
// flow), answers the OAuth2 token, introspection and revocation endpoints and publishes the
// signing keys. A request is allowed an interaction on a type when its token's scopes AND its
// user's roles (a backend service's: its client's) both allow it:
//   - a patient/ scope grants only within the compartment of the token's launch patient;
//   - a token scope with a query (`system/Observation.rs?category=laboratory`) grants reads and
//     searches of the resources matching it;
//   - "*" (every type: system-wide history) needs a wildcard scope and roles that deny no type.
// The clients and users are read once at start (the CLI changes them only while the server is
// stopped; the sign-in's own changes, a new password or TOTP key, update the copy), so checking
// a token never waits for the database and can run on an I/O thread. A token whose signature
// and claims were checked is remembered until it expires (at most kMaxVerifiedTokens, compared
// whole, never by a hash), so a client's next requests skip the ECDSA verification; each use
// still checks that it was not revoked and that its user and client are in good standing.
// Thread safety: safe from any thread.

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "access/access_policy.h"
#include "access/account_directory.h"
#include "access/authorization_flow.h"
#include "access/signing_keys.h"
#include "access/token_service.h"
#include "records/access_guard.h"

namespace ck::access {

// A verified caller, as RecordService sees it.
class TokenGuard final : public records::AccessGuard {
 public:
  // REQUIRES: policy outlives the guard.
  TokenGuard(Identity identity, const AccessPolicy& policy) : identity_(std::move(identity)), policy_(policy) {}
  // A patient/ scope allows only with a launch patient, and then limits to its compartment; a
  // scope with a query limits to resources matching it; a user/ or system/ scope without a query
  // that also covers the interaction lifts both. Of several limited scopes, one is applied
  // (a narrower answer, never a wider one): an unqueried patient/ scope first.
  Status Allow(records::Interaction interaction, std::string_view type) const override;
  records::AccessLimit Limit(records::Interaction interaction, std::string_view type) const override;
  // A user of a role that administers (the policy's `administer`), not under emergency access.
  Status AllowAdministration() const override;
  const Identity& identity() const { return identity_; }

 private:
  Identity identity_;
  const AccessPolicy& policy_;
};

struct AccessControlOptions {
  std::string base_url;  // the server as clients see it, without /fhir: "http://127.0.0.1:8080"
  Millis user_token_lifetime = 60 * 60 * 1000;
  Millis backend_token_lifetime = 5 * 60 * 1000;
  Millis session_idle = 15 * 60 * 1000;  // automatic logoff: an online_access sign-in unused this long ends
  Millis break_glass_lifetime = 60 * 60 * 1000;
};

class AccessControl {
 public:
  // Loads the clients and the signing keys. REQUIRES: store and clock outlive this object.
  // Errors: the store's.
  static Result<std::unique_ptr<AccessControl>> Open(store::ResourceStore& store, const Clock& clock, AccessPolicy policy,
                                                     AccessControlOptions options);

  // The guard for a request's Authorization header ("Bearer <token>"). Never blocks on the
  // database. Errors: kUnauthenticated (no bearer token, or one that fails a check).
  Result<std::unique_ptr<TokenGuard>> Authenticate(std::string_view authorization) const;
  // The token, introspection and revocation endpoints (a form body each).
  tl::expected<TokenResponse, OAuthError> Token(const TokenRequest& request) { return tokens_->Token(request); }
  tl::expected<JsonValue, OAuthError> Introspect(const TokenRequest& request) { return tokens_->Introspect(request); }
  tl::expected<void, OAuthError> Revoke(const TokenRequest& request) { return tokens_->Revoke(request); }
  // Emergency access for the signed-in user behind `caller` to Patient/`patient`'s record (the
  // caller checks that the patient exists and raises the alert). Errors: kForbidden (not a user,
  // no role that may break the glass, or emergency access already), kInvalid (no real reason).
  Result<TokenResponse> BreakGlass(const TokenGuard& caller, const std::string& patient, const std::string& reason);
  // The checks of BreakGlass alone (before the caller raises the alert).
  Status CheckBreakGlass(const TokenGuard& caller, const std::string& reason) const;
  // The authorization endpoint: an app's request, then each form of the sign-in.
  LoginStep Authorize(const AuthorizeRequest& request) { return flow_->Begin(request); }
  LoginStep SubmitLogin(const LoginForm& form) { return flow_->Submit(form); }
  // {"keys": [...]} for /auth/jwks.
  JsonValue Jwks() { return keys_->Jwks(); }
  // The SMART configuration (/.well-known/smart-configuration) as JSON text.
  std::string SmartConfiguration() const;
  const AccessPolicy& policy() const { return policy_; }

 private:
  AccessControl(store::ResourceStore& store, const Clock& clock, AccessPolicy policy, AccessControlOptions options);

  const Clock& clock_;
  const AccessPolicy policy_;
  const AccessControlOptions options_;
  Result<std::optional<User>> FindUser(const std::string& name) const;

  std::unique_ptr<AccountDirectory> accounts_;
  std::unique_ptr<SigningKeys> keys_;
  std::unique_ptr<AuthorizationFlow> flow_;
  std::unique_ptr<TokenService> tokens_;
  std::unordered_map<std::string, Client> clients_;  // read at Open, then only read
  mutable std::shared_mutex users_mu_;
  std::unordered_map<std::string, User> users_;  // guarded by users_mu_: read at Open, updated by the sign-in
  static constexpr std::size_t kMaxVerifiedTokens = 10'000;
  mutable std::shared_mutex verified_mu_;
  mutable std::unordered_map<std::string, Identity> verified_;  // guarded by verified_mu_
};

}  // namespace ck::access
