#include "access/token_service.h"

#include <algorithm>

#include "access/jwt.h"
#include "util/crypto.h"

namespace ck::access {

namespace {

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::int64_t kMaxAssertionSeconds = 5 * 60;

tl::unexpected<OAuthError> OAuth(std::string error, std::string description, int status = 400) {
  return tl::unexpected<OAuthError>(OAuthError{std::move(error), std::move(description), status});
}
tl::unexpected<OAuthError> BadClient(std::string description) { return OAuth("invalid_client", std::move(description), 401); }

JsonValue Text(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }
JsonValue Number(std::int64_t value) { return {JsonValue::Kind::kNumber, std::to_string(value), {}, {}}; }

bool Covers(const ResourceScope& allowed, const ResourceScope& wanted) {
  if (allowed.context != wanted.context || (allowed.type != "*" && allowed.type != wanted.type)) return false;
  if ((allowed.permissions & wanted.permissions) != wanted.permissions) return false;
  return std::all_of(allowed.query.begin(), allowed.query.end(), [&](const auto& parameter) {
    return std::find(wanted.query.begin(), wanted.query.end(), parameter) != wanted.query.end();
  });
}

std::string ScopeText(const ScopeSet& set) {
  std::string out;
  for (const ResourceScope& scope : set.resources) out += (out.empty() ? "" : " ") + scope.ToString();
  return out;
}

}  // namespace

ScopeSet GrantedScopes(const ScopeSet& requested, const ScopeSet& allowed) {
  ScopeSet granted;
  for (const ResourceScope& wanted : requested.resources) {
    const bool covered = std::any_of(allowed.resources.begin(), allowed.resources.end(),
                                     [&](const ResourceScope& scope) { return Covers(scope, wanted); });
    if (covered) granted.resources.push_back(wanted);
  }
  return granted;
}

TokenService::TokenService(AccountDirectory& accounts, SigningKeys& keys, store::ResourceStore& store, const Clock& clock,
                           TokenServiceOptions options, ClientLookup clients)
    : accounts_(accounts),
      keys_(keys),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      clients_(clients ? std::move(clients) : [&accounts](const std::string& id) { return accounts.FindClient(id); }) {}

tl::expected<Client, OAuthError> TokenService::AuthenticateClient(const TokenRequest& request) {
  const bool by_assertion = !request.client_assertion.empty() || !request.client_assertion_type.empty();
  const bool by_secret = !request.basic_client_id.empty();
  if (by_assertion == by_secret) {
    return BadClient("authenticate the client one way: a signed JWT (client_assertion) or HTTP Basic with its secret");
  }
  std::string client_id = request.basic_client_id;
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
  Result<std::optional<Client>> found = accounts_.FindClient(client_id);
  if (!found) return OAuth("server_error", "the client registry cannot be read", 500);
  if (!*found || (*found)->revoked) return BadClient("unknown or revoked client");
  const Client& client = **found;
  if (client.kind != ClientKind::kBackend) return OAuth("unauthorized_client", "only backend services may use client_credentials");
  if (by_secret) {
    if (client.secret_hash.empty()) return BadClient("this client authenticates with a signed JWT, not a secret");
    if (!ConstantTimeEquals(Sha256Hex(request.basic_secret), client.secret_hash)) return BadClient("wrong client secret");
    return client;
  }
  auto checked = CheckAssertion(client, request.client_assertion);
  if (!checked) return tl::unexpected(checked.error());
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
    Result<JsonValue> tried = VerifyJwt(assertion, lookup, {.now = clock_.Now(), .issuer = client.id,
                                                            .audience = options_.token_endpoint,
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
  if (request.grant_type != "client_credentials") {
    return OAuth("unsupported_grant_type", "this server issues tokens for grant_type=client_credentials");
  }
  auto client = AuthenticateClient(request);
  if (!client) return tl::unexpected(client.error());
  Result<ScopeSet> allowed = ParseScopes(client->scope);
  Result<ScopeSet> requested = ParseScopes(request.scope);
  if (!allowed) return OAuth("server_error", "the client's registered scope cannot be read", 500);
  if (!requested) return OAuth("invalid_scope", requested.error().message());
  const ScopeSet granted = request.scope.empty() ? *allowed : GrantedScopes(*requested, *allowed);
  if (granted.resources.empty()) return OAuth("invalid_scope", "none of the scopes asked for is allowed to this client");

  Result<std::shared_ptr<const JoseKey>> key = keys_.Current();
  Result<std::string> jti = RandomBytes(16);
  if (!key || !jti) return OAuth("server_error", "the token could not be signed", 500);
  const std::int64_t now = clock_.Now() / 1000;
  const std::int64_t lifetime = options_.backend_token_lifetime / 1000;
  JsonValue claims{JsonValue::Kind::kObject, {}, {}, {}};
  claims.members.emplace_back("iss", Text(options_.issuer));
  claims.members.emplace_back("aud", Text(options_.audience));
  claims.members.emplace_back("sub", Text(client->id));
  claims.members.emplace_back("client_id", Text(client->id));
  claims.members.emplace_back("scope", Text(ScopeText(granted)));
  claims.members.emplace_back("iat", Number(now));
  claims.members.emplace_back("exp", Number(now + lifetime));
  claims.members.emplace_back("jti", Text(Base64UrlEncode(*jti)));
  Result<std::string> token = SignJwt(**key, claims);
  if (!token) return OAuth("server_error", "the token could not be signed", 500);
  return TokenResponse{std::move(*token), ScopeText(granted), lifetime};
}

Result<Identity> TokenService::Authenticate(std::string_view bearer_token) {
  std::shared_ptr<const JoseKey> held;  // keeps the key alive during the check
  auto lookup = [&](std::string_view kid) -> const JoseKey* {
    held = keys_.Find(kid);
    return held.get();
  };
  CK_ASSIGN_OR_RETURN(JsonValue claims,
                      VerifyJwt(bearer_token, lookup, {.now = clock_.Now(), .issuer = options_.issuer, .audience = options_.audience}));
  const JsonValue* client_id = claims.Find("client_id");
  const JsonValue* scope = claims.Find("scope");
  if (!client_id || !scope) return Err(Status(StatusCode::kUnauthenticated, "invalid token: not an access token of this server"));
  CK_ASSIGN_OR_RETURN(std::optional<Client> client, clients_(client_id->text));
  if (!client || client->revoked) return Err(Status(StatusCode::kUnauthenticated, "invalid token: its client was revoked"));
  Result<ScopeSet> scopes = ParseScopes(scope->text);
  if (!scopes) return Err(Status(StatusCode::kUnauthenticated, "invalid token: its scope cannot be read"));
  Identity identity;
  identity.subject = client->id;
  identity.client_id = client->id;
  identity.roles = client->roles;
  identity.scopes = std::move(*scopes);
  identity.expires = *NumericClaim(claims, "exp") * 1000;
  return identity;
}

}  // namespace ck::access
