#include "access/token_service.h"

#include <algorithm>

#include "access/jwt.h"
#include "util/crypto.h"

namespace ck::access {

namespace {

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::int64_t kMaxAssertionSeconds = 5 * 60;
constexpr char kRevokedPrefix[] = "access/revoked/";

tl::unexpected<OAuthError> OAuth(std::string error, std::string description, int status = 400) {
  return tl::unexpected<OAuthError>(OAuthError{std::move(error), std::move(description), status});
}
tl::unexpected<OAuthError> BadClient(std::string description) { return OAuth("invalid_client", std::move(description), 401); }
tl::unexpected<OAuthError> ServerError(std::string description) { return OAuth("server_error", std::move(description), 500); }

std::string Claim(const JsonValue& claims, std::string_view name) {
  const JsonValue* value = claims.Find(name);
  return value && value->kind == JsonValue::Kind::kString ? value->text : std::string();
}

Status Unauthenticated(std::string why) { return Status(StatusCode::kUnauthenticated, "invalid token: " + std::move(why)); }

}  // namespace

TokenService::TokenService(SigningKeys& keys, store::ResourceStore& store, const Clock& clock, TokenServiceOptions options,
                           ClientLookup clients, UserLookup users, AuthorizationFlow* flow)
    : keys_(keys),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      clients_(std::move(clients)),
      users_(std::move(users)),
      flow_(flow),
      refresh_(store, clock) {}

Status TokenService::Open() {
  CK_ASSIGN_OR_RETURN(auto revoked, store_.ListMeta(kRevokedPrefix, 1'000'000));
  const Millis now = clock_.Now();
  std::lock_guard lock(revoked_mu_);
  for (const auto& [key, expires] : revoked) {
    const bool digits = !expires.empty() && expires.size() < 16 && expires.find_first_not_of("0123456789") == std::string::npos;
    if (digits && std::stoll(expires) > now) revoked_.emplace(key.substr(sizeof kRevokedPrefix - 1), std::stoll(expires));
  }
  return Status::Ok();
}

tl::expected<Client, OAuthError> TokenService::AuthenticateClient(const TokenRequest& request) {
  const bool by_assertion = !request.client_assertion.empty() || !request.client_assertion_type.empty();
  const bool by_secret = !request.basic_client_id.empty();
  if (by_assertion && by_secret) {
    return BadClient("authenticate the client one way: a signed JWT (client_assertion) or HTTP Basic with its secret");
  }
  std::string client_id = by_secret ? request.basic_client_id : request.client_id;
  if (by_assertion) {
    if (request.client_assertion_type != kJwtBearer) return OAuth("invalid_request", std::string("client_assertion_type must be ") + kJwtBearer);
    // Which client: the assertion's iss (checked against its signature below), or client_id.
    const std::size_t dot = request.client_assertion.find('.');
    const std::size_t second = dot == std::string::npos ? dot : request.client_assertion.find('.', dot + 1);
    Result<std::string> payload = second == std::string::npos ? Result<std::string>(Err(Status::Invalid("")))
                                                              : Base64UrlDecode(request.client_assertion.substr(dot + 1, second - dot - 1));
    Result<JsonValue> claims = payload ? ParseJsonValue(*payload, 8) : Result<JsonValue>(Err(Status::Invalid("")));
    const JsonValue* iss = claims && claims->is_object() ? claims->Find("iss") : nullptr;
    if (!iss || iss->kind != JsonValue::Kind::kString) return BadClient("the client assertion is not a JWT naming its issuer");
    client_id = iss->text;
    if (!request.client_id.empty() && request.client_id != client_id) return BadClient("client_id and the assertion's iss differ");
  }
  if (by_secret && !request.client_id.empty() && request.client_id != client_id) {
    return BadClient("client_id and the Basic credentials' client differ");
  }
  if (client_id.empty()) return BadClient("the client did not say who it is");
  Result<std::optional<Client>> found = clients_(client_id);
  if (!found) return ServerError("the client registry cannot be read");
  if (!*found || (*found)->revoked) return BadClient("unknown or revoked client");
  const Client& client = **found;
  if (by_secret) {
    if (client.secret_hash.empty()) return BadClient("this client has no secret; it authenticates another way");
    if (!ConstantTimeEquals(Sha256Hex(request.basic_secret), client.secret_hash)) return BadClient("wrong client secret");
    return client;
  }
  if (by_assertion) {
    if (client.kind != ClientKind::kBackend) return BadClient("only backend services authenticate with a signed JWT here");
    auto checked = CheckAssertion(client, request.client_assertion);
    if (!checked) return tl::unexpected(checked.error());
    return client;
  }
  // No proof at all: only a public client may name itself (RFC 6749 2.3; PKCE protects its codes).
  if (client.kind != ClientKind::kPublic) return BadClient("this client must authenticate (HTTP Basic with its secret, or a signed JWT)");
  return client;
}

tl::expected<void, OAuthError> TokenService::CheckAssertion(const Client& client, std::string_view assertion) {
  std::vector<JoseKey> keys;
  if (!client.public_key_pem.empty()) {
    for (JoseAlgorithm rsa : {JoseAlgorithm::kRS384, JoseAlgorithm::kRS256}) {
      Result<JoseKey> key = JoseKey::FromPublicPem(client.public_key_pem, "", rsa);
      if (key) keys.push_back(std::move(*key));
      if (key && key->algorithm() != rsa) break;  // an EC key has one algorithm
    }
  } else if (Result<JsonValue> jwks = ParseJsonValue(client.jwks); jwks && jwks->Find("keys")) {
    for (const JsonValue& jwk : jwks->Find("keys")->items) {
      if (Result<JoseKey> key = JoseKey::FromJwk(jwk)) keys.push_back(std::move(*key));
    }
  }
  if (keys.empty()) return BadClient("this client has no usable public key; register one");
  // Each candidate key in turn (a PEM RSA key may sign RS384 or RS256): the header's alg must be
  // the key's, and a JWKS key must carry the kid the header names (or be the only key).
  // The reason kept is that of a key the assertion names and whose algorithm it uses, if any.
  Result<JsonValue> claims = Err(Status(StatusCode::kUnauthenticated, "invalid token: signed with a key this client did not register"));
  for (const JoseKey& key : keys) {
    auto lookup = [&](std::string_view kid) -> const JoseKey* {
      return key.kid().empty() || kid == key.kid() || (kid.empty() && keys.size() == 1) ? &key : nullptr;
    };
    // aud: the token endpoint (SMART Backend Services) or the issuer identifier (RFC 7523 3,
    // as oauth4webapi sends it).
    Result<JsonValue> tried = VerifyJwt(assertion, lookup, {.now = clock_.Now(), .issuer = client.id,
                                                            .audience = options_.token_endpoint,
                                                            .other_audience = options_.issuer,
                                                            .max_lifetime_seconds = kMaxAssertionSeconds});
    const std::string& why = tried ? std::string() : tried.error().message();
    const bool other_key = !tried && (why.find("does not know") != std::string::npos || why.find("is not accepted") != std::string::npos);
    // A key the assertion does not name or whose algorithm it does not use says why only when
    // no other key had more to say.
    if (!other_key || keys.size() == 1) claims = std::move(tried);
    if (claims) break;
  }
  if (!claims) return BadClient("client assertion refused: " + claims.error().message());
  const JsonValue* sub = claims->Find("sub");
  const JsonValue* jti = claims->Find("jti");
  if (!sub || sub->text != client.id) return BadClient("the client assertion's sub must be the client id");
  if (!jti || jti->kind != JsonValue::Kind::kString || jti->text.empty() || jti->text.size() > 256) {
    return BadClient("the client assertion needs a jti");
  }
  // A jti is used once: kept until the assertion expires, then dropped.
  const std::int64_t exp = *NumericClaim(*claims, "exp");
  const std::string prefix = "access/jti/" + client.id + "/";
  const Millis now = clock_.Now();
  Result<std::vector<std::pair<std::string, std::string>>> kept = store_.ListMeta(prefix, 10'000);
  if (!kept) return OAuth("server_error", "the token store cannot be read", 500);
  bool replayed = false;
  Status stored = store_.Write([&](store::WriteTransaction& txn) -> Status {
    replayed = false;
    for (const auto& [key, expires] : *kept) {
      const bool digits = !expires.empty() && expires.size() < 16 && expires.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoll(expires) * 1000 < now) CK_RETURN_IF_ERROR(txn.WriteMeta(key, std::nullopt));
    }
    CK_ASSIGN_OR_RETURN(std::optional<std::string> seen, txn.ReadMeta(prefix + jti->text));
    if (seen) {
      replayed = true;
      return Status(StatusCode::kUnauthenticated, "replayed");
    }
    return txn.WriteMeta(prefix + jti->text, std::to_string(exp));
  });
  if (replayed) return BadClient("the client assertion was used before (jti)");
  if (!stored.ok()) return OAuth("server_error", "the token could not be issued", 500);
  return {};
}

tl::expected<TokenResponse, OAuthError> TokenService::Token(const TokenRequest& request) {
  if (request.grant_type.empty()) return OAuth("invalid_request", "grant_type is required");
  const bool credentials = request.grant_type == "client_credentials";
  const bool code = request.grant_type == "authorization_code";
  const bool refresh = request.grant_type == "refresh_token";
  if (!credentials && !code && !refresh) {
    return OAuth("unsupported_grant_type", "grant_type must be client_credentials, authorization_code or refresh_token");
  }
  auto client = AuthenticateClient(request);
  if (!client) return tl::unexpected(client.error());
  if (credentials != (client->kind == ClientKind::kBackend)) {
    return OAuth("unauthorized_client", credentials ? "only backend services may use client_credentials"
                                                    : "a backend service uses client_credentials");
  }
  if (credentials) return ClientCredentials(*client, request);
  if (code) {
    if (flow_ == nullptr) return OAuth("unsupported_grant_type", "user sign-in is not enabled");
    auto grant = flow_->Redeem(request.code, client->id, request.redirect_uri, request.code_verifier);
    if (!grant) return tl::unexpected(grant.error());
    Result<User> user = ActiveUser(grant->user, grant->auth_time);
    if (!user) return OAuth("invalid_grant", user.error().message());
    return UserTokens(*client, *user,
                      RefreshGrant{.user = grant->user, .client_id = client->id, .scope = grant->scope, .patient = grant->patient,
                                   .auth_time = grant->auth_time},
                      grant->nonce, true);
  }
  if (request.refresh_token.empty()) return OAuth("invalid_request", "refresh_token is required");
  auto rotated = refresh_.Rotate(request.refresh_token, client->id);
  if (!rotated) {
    if (rotated.error().code() != StatusCode::kUnauthenticated) return ServerError("the sign-in store cannot be used");
    return OAuth("invalid_grant", rotated.error().message());
  }
  Result<User> user = ActiveUser(rotated->first.user, rotated->first.auth_time);
  if (!user) {
    (void)refresh_.Revoke(rotated->second, client->id);
    return OAuth("invalid_grant", user.error().message());
  }
  // A narrower scope may be asked for (RFC 6749 6), never a wider one.
  RefreshGrant grant = rotated->first;
  if (!request.scope.empty()) {
    Result<ScopeSet> asked = ParseScopes(request.scope);
    Result<ScopeSet> had = ParseScopes(grant.scope);
    if (!asked || !had) return OAuth("invalid_scope", "the scope cannot be read");
    ScopeSet narrowed = GrantedScopes(*asked, *had);
    if (narrowed.resources.size() != asked->resources.size()) return OAuth("invalid_scope", "a refresh cannot widen the scope");
    narrowed.openid = asked->openid && had->openid;
    narrowed.fhir_user = asked->fhir_user && had->fhir_user;
    narrowed.launch_patient = had->launch_patient;
    narrowed.offline_access = had->offline_access;
    narrowed.online_access = had->online_access;
    grant.scope = ScopeString(narrowed);
  }
  auto issued = UserTokens(*client, *user, grant, "", false);
  if (!issued) return issued;
  issued->refresh_token = std::move(rotated->second);
  return issued;
}

Result<std::string> TokenService::SignAccessToken(const AccessClaims& access) {
  CK_ASSIGN_OR_RETURN(std::string jti, RandomBytes(16));
  const std::int64_t now = clock_.Now() / 1000;
  JsonValue claims = JsonObject();
  auto text = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) claims.members.emplace_back(name, JsonString(value));
  };
  text("iss", options_.issuer);
  text("aud", options_.audience);
  text("sub", access.subject);
  if (access.user) claims.members.emplace_back("ck_user", JsonBoolean(true));
  text("client_id", access.client_id);
  text("scope", access.scope);
  text("fhirUser", access.fhir_user.empty() ? "" : options_.audience + "/" + access.fhir_user);
  text("patient", access.patient);
  text("ck_break_glass", access.break_glass);
  if (access.user) claims.members.emplace_back("auth_time", JsonNumber(access.auth_time / 1000));
  claims.members.emplace_back("iat", JsonNumber(now));
  claims.members.emplace_back("exp", JsonNumber(now + access.lifetime / 1000));
  text("jti", Base64UrlEncode(jti));
  return Sign(std::move(claims));
}

Result<TokenResponse> TokenService::BreakGlassToken(const Identity& user, const std::string& patient, const std::string& reason,
                                                   Millis lifetime) {
  const std::string scope = "patient/*.rs";
  CK_ASSIGN_OR_RETURN(std::string token, SignAccessToken({.subject = user.user, .client_id = user.client_id, .scope = scope, .user = true,
                                                          .patient = patient, .break_glass = reason, .auth_time = user.issued,
                                                          .lifetime = lifetime}));
  return TokenResponse{.access_token = std::move(token), .scope = scope, .expires_in = lifetime / 1000, .patient = patient};
}

tl::expected<TokenResponse, OAuthError> TokenService::ClientCredentials(const Client& client, const TokenRequest& request) {
  Result<ScopeSet> allowed = ParseScopes(client.scope);
  Result<ScopeSet> requested = ParseScopes(request.scope);
  if (!allowed) return ServerError("the client's registered scope cannot be read");
  if (!requested) return OAuth("invalid_scope", requested.error().message());
  const ScopeSet granted = request.scope.empty() ? *allowed : GrantedScopes(*requested, *allowed);
  if (granted.resources.empty()) return OAuth("invalid_scope", "none of the scopes asked for is allowed to this client");
  const std::string scope = ScopeString(granted);
  Result<std::string> token = SignAccessToken(
      {.subject = client.id, .client_id = client.id, .scope = scope, .lifetime = options_.backend_token_lifetime});
  if (!token) return ServerError("the token could not be signed");
  return TokenResponse{.access_token = std::move(*token), .scope = scope, .expires_in = options_.backend_token_lifetime / 1000};
}

tl::expected<TokenResponse, OAuthError> TokenService::UserTokens(const Client& client, const User& user, RefreshGrant grant,
                                                                std::string_view nonce, bool new_family) {
  Result<ScopeSet> scopes = ParseScopes(grant.scope);
  if (!scopes) return ServerError("the granted scope cannot be read");
  const std::int64_t now = clock_.Now() / 1000;
  const std::int64_t lifetime = options_.user_token_lifetime / 1000;
  Result<std::string> token = SignAccessToken({.subject = user.name, .client_id = client.id, .scope = grant.scope, .user = true,
                                               .fhir_user = user.fhir_user, .patient = grant.patient, .auth_time = grant.auth_time,
                                               .lifetime = options_.user_token_lifetime});
  if (!token) return ServerError("the token could not be signed");
  TokenResponse response{.access_token = std::move(*token), .scope = grant.scope, .expires_in = lifetime, .patient = grant.patient};
  if (scopes->openid) {
    JsonValue id = JsonObject();
    id.members.emplace_back("iss", JsonString(options_.issuer));
    id.members.emplace_back("sub", JsonString(user.name));
    id.members.emplace_back("aud", JsonString(client.id));
    id.members.emplace_back("iat", JsonNumber(now));
    id.members.emplace_back("exp", JsonNumber(now + lifetime));
    id.members.emplace_back("auth_time", JsonNumber(grant.auth_time / 1000));
    if (!nonce.empty()) id.members.emplace_back("nonce", JsonString(nonce));
    if (scopes->fhir_user && !user.fhir_user.empty()) {
      id.members.emplace_back("fhirUser", JsonString(options_.audience + "/" + user.fhir_user));
    }
    Result<std::string> id_token = Sign(std::move(id));
    if (!id_token) return ServerError("the ID token could not be signed");
    response.id_token = std::move(*id_token);
  }
  if (new_family && (scopes->offline_access || scopes->online_access)) {
    const bool offline = scopes->offline_access;
    grant.idle = offline ? options_.offline_idle : options_.session_idle;
    grant.expires = grant.auth_time + (offline ? options_.offline_lifetime : options_.session_lifetime);
    Result<std::string> refresh = refresh_.Issue(std::move(grant));
    if (!refresh) return ServerError("the sign-in could not be stored");
    response.refresh_token = std::move(*refresh);
  }
  return response;
}

Result<std::string> TokenService::Sign(JsonValue claims) {
  CK_ASSIGN_OR_RETURN(std::shared_ptr<const JoseKey> key, keys_.Current());
  return SignJwt(*key, claims);
}

Result<JsonValue> TokenService::Verify(std::string_view token) {
  std::shared_ptr<const JoseKey> held;  // keeps the key alive during the check
  auto lookup = [&](std::string_view kid) -> const JoseKey* {
    held = keys_.Find(kid);
    return held.get();
  };
  return VerifyJwt(token, lookup, {.now = clock_.Now(), .issuer = options_.issuer, .audience = options_.audience});
}

Result<User> TokenService::ActiveUser(const std::string& name, Millis auth_time) {
  CK_ASSIGN_OR_RETURN(std::optional<User> user, users_(name));
  if (!user || user->disabled) return Err(Unauthenticated("its user is disabled or gone"));
  // Compared in whole seconds, as tokens carry them: a change in the second of the sign-in
  // itself (the first login's new password) does not void it.
  if (auth_time / 1000 < user->credentials_since / 1000) {
    return Err(Unauthenticated("its user's password changed since the sign-in, or the user was disabled"));
  }
  return std::move(*user);
}

Result<Identity> TokenService::Authenticate(std::string_view bearer_token) {
  CK_ASSIGN_OR_RETURN(JsonValue claims, Verify(bearer_token));
  const JsonValue* client_id = claims.Find("client_id");
  const JsonValue* scope = claims.Find("scope");
  if (!client_id || !scope) return Err(Unauthenticated("not an access token of this server"));
  Identity identity;
  identity.client_id = client_id->text;
  identity.subject = Claim(claims, "sub");
  identity.jti = Claim(claims, "jti");
  identity.issued = NumericClaim(claims, "iat").value_or(0) * 1000;
  identity.expires = *NumericClaim(claims, "exp") * 1000;
  identity.patient = Claim(claims, "patient");
  identity.break_glass = Claim(claims, "ck_break_glass");
  if (const JsonValue* user = claims.Find("ck_user"); user && user->text == "true") {
    identity.user = identity.subject;
    const Millis auth_time = NumericClaim(claims, "auth_time").value_or(0) * 1000;
    CK_ASSIGN_OR_RETURN(User found, ActiveUser(identity.user, auth_time));
    identity.roles = found.roles;
    identity.fhir_user = found.fhir_user;
    identity.issued = auth_time;  // what a password change is compared with
  }
  CK_ASSIGN_OR_RETURN(std::optional<Client> client, clients_(identity.client_id));
  if (!client || client->revoked) return Err(Unauthenticated("its client was revoked"));
  if (identity.user.empty()) identity.roles = client->roles;
  Result<ScopeSet> scopes = ParseScopes(scope->text);
  if (!scopes) return Err(Unauthenticated("its scope cannot be read"));
  identity.scopes = std::move(*scopes);
  CK_RETURN_IF_ERROR(StillValid(identity));
  return identity;
}

Status TokenService::StillValid(const Identity& identity) {
  {
    std::lock_guard lock(revoked_mu_);
    if (revoked_.contains(identity.jti)) return Unauthenticated("it was revoked");
  }
  if (!identity.user.empty()) {
    Result<User> user = ActiveUser(identity.user, identity.issued);
    if (!user) return user.error();
  }
  CK_ASSIGN_OR_RETURN(std::optional<Client> client, clients_(identity.client_id));
  if (!client || client->revoked) return Unauthenticated("its client was revoked");
  return Status::Ok();
}

tl::expected<JsonValue, OAuthError> TokenService::Introspect(const TokenRequest& request) {
  auto client = AuthenticateClient(request);
  if (!client) return tl::unexpected(client.error());
  if (client->kind == ClientKind::kPublic) return BadClient("a public client cannot introspect tokens");
  if (request.token.empty()) return OAuth("invalid_request", "token is required");
  JsonValue out = JsonObject();
  if (request.token.starts_with("ckr_")) {
    Result<std::optional<RefreshGrant>> grant = refresh_.Find(request.token);
    if (!grant) return ServerError("the sign-in store cannot be read");
    const bool active = *grant && ActiveUser((*grant)->user, (*grant)->auth_time).has_value();
    out.members.emplace_back("active", JsonBoolean(active));
    if (!active) return out;
    out.members.emplace_back("scope", JsonString((*grant)->scope));
    out.members.emplace_back("client_id", JsonString((*grant)->client_id));
    out.members.emplace_back("sub", JsonString((*grant)->user));
    out.members.emplace_back("exp", JsonNumber((*grant)->expires / 1000));
    out.members.emplace_back("token_type", JsonString("refresh_token"));
    return out;
  }
  Result<Identity> identity = Authenticate(request.token);
  if (!identity) {
    if (identity.error().code() != StatusCode::kUnauthenticated) return ServerError("the token cannot be checked now");
    out.members.emplace_back("active", JsonBoolean(false));
    return out;
  }
  out.members.emplace_back("active", JsonBoolean(true));
  out.members.emplace_back("scope", JsonString(ScopeString(identity->scopes)));
  out.members.emplace_back("client_id", JsonString(identity->client_id));
  out.members.emplace_back("sub", JsonString(identity->subject));
  out.members.emplace_back("exp", JsonNumber(identity->expires / 1000));
  out.members.emplace_back("iss", JsonString(options_.issuer));
  out.members.emplace_back("aud", JsonString(options_.audience));
  out.members.emplace_back("token_type", JsonString("Bearer"));
  if (!identity->patient.empty()) out.members.emplace_back("patient", JsonString(identity->patient));
  if (!identity->fhir_user.empty()) out.members.emplace_back("fhirUser", JsonString(options_.audience + "/" + identity->fhir_user));
  return out;
}

tl::expected<void, OAuthError> TokenService::Revoke(const TokenRequest& request) {
  auto client = AuthenticateClient(request);
  if (!client) return tl::unexpected(client.error());
  if (request.token.empty()) return OAuth("invalid_request", "token is required");
  if (request.token.starts_with("ckr_")) {
    if (!refresh_.Revoke(request.token, client->id).ok()) return ServerError("the sign-in store cannot be written");
    return {};
  }
  Result<JsonValue> claims = Verify(request.token);
  // Expired, not ours, or not this client's: nothing to revoke.
  if (!claims || Claim(*claims, "client_id") != client->id) return {};
  const std::string jti = Claim(*claims, "jti");
  const std::int64_t exp = NumericClaim(*claims, "exp").value_or(0);
  if (jti.empty() || exp * 1000 <= clock_.Now()) return {};
  Status stored = store_.Write([&](store::WriteTransaction& txn) {
    return txn.WriteMeta(kRevokedPrefix + jti, std::to_string(exp * 1000));
  });
  if (!stored.ok()) return ServerError("the revocation cannot be stored");
  std::lock_guard lock(revoked_mu_);
  const Millis now = clock_.Now();
  std::erase_if(revoked_, [now](const auto& entry) { return entry.second <= now; });
  revoked_.emplace(jti, exp * 1000);
  return {};
}

}  // namespace ck::access
