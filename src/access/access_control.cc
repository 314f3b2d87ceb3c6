#include "access/access_control.h"

#include <algorithm>
#include <cctype>

namespace ck::access {

namespace {

Permission PermissionOf(records::Interaction interaction) {
  switch (interaction) {
    case records::Interaction::kCreate: return Permission::kCreate;
    case records::Interaction::kRead: return Permission::kRead;
    case records::Interaction::kUpdate: return Permission::kUpdate;
    case records::Interaction::kDelete: return Permission::kDelete;
    case records::Interaction::kSearch: return Permission::kSearch;
  }
  return Permission::kRead;
}

std::string_view Verb(records::Interaction interaction) {
  switch (interaction) {
    case records::Interaction::kCreate: return "create";
    case records::Interaction::kRead: return "read";
    case records::Interaction::kUpdate: return "update";
    case records::Interaction::kDelete: return "delete";
    case records::Interaction::kSearch: return "search";
  }
  return "use";
}

JsonValue Text(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }
JsonValue Texts(std::initializer_list<std::string_view> items) {
  JsonValue array{JsonValue::Kind::kArray, {}, {}, {}};
  for (std::string_view item : items) array.items.push_back(Text(item));
  return array;
}

}  // namespace

namespace {

// The scopes of `identity` that cover the permission on the type and may be used: patient/ ones
// only with a launch patient.
std::vector<const ResourceScope*> Usable(const Identity& identity, Permission permission, std::string_view type) {
  std::vector<const ResourceScope*> out;
  for (const ResourceScope& scope : identity.scopes.resources) {
    if (!scope.Covers(permission, type)) continue;
    if (scope.context == ScopeContext::kPatient && (identity.patient.empty() || type == "*")) continue;
    out.push_back(&scope);
  }
  return out;
}

}  // namespace

records::AccessLimit TokenGuard::Limit(records::Interaction interaction, std::string_view type) const {
  if (!identity_.break_glass.empty()) return {identity_.patient, {}};
  const std::vector<const ResourceScope*> scopes = Usable(identity_, PermissionOf(interaction), type);
  const ResourceScope* chosen = nullptr;
  for (const ResourceScope* scope : scopes) {
    const bool patient = scope->context == ScopeContext::kPatient;
    if (!patient && scope->query.empty()) return {};  // unlimited
    // An unqueried patient scope before any queried one.
    if (!chosen || (patient && scope->query.empty() && !chosen->query.empty())) chosen = scope;
  }
  if (!chosen) return {};
  return {chosen->context == ScopeContext::kPatient ? identity_.patient : std::string(), chosen->query};
}

Status TokenGuard::Allow(records::Interaction interaction, std::string_view type) const {
  const Permission permission = PermissionOf(interaction);
  if (!identity_.break_glass.empty()) {  // emergency access: reads of one patient's record, whatever the roles' scopes
    const bool reads = permission == Permission::kRead || permission == Permission::kSearch;
    if (reads && policy_.BreakGlassReaches(identity_.roles, type)) return Status::Ok();
    return Status(StatusCode::kForbidden, "emergency access reads and searches one patient's record, not " + std::string(Verb(interaction)) +
                                              " of " + std::string(type));
  }
  const bool scoped = !Usable(identity_, permission, type).empty();
  const std::string what = type == "*" ? std::string("every resource type") : std::string(type);
  if (!scoped) return Status(StatusCode::kForbidden, "the token's scopes do not allow " + std::string(Verb(interaction)) + " of " + what);
  if (!policy_.Allows(identity_.roles, permission, type)) {
    return Status(StatusCode::kForbidden, "the caller's roles do not allow " + std::string(Verb(interaction)) + " of " + what);
  }
  return Status::Ok();
}

Status TokenGuard::AllowAdministration() const {
  if (identity_.break_glass.empty() && policy_.MayAdminister(identity_.roles)) return Status::Ok();
  return Status(StatusCode::kForbidden, "administering the server needs a role that administers (admin)");
}

AccessControl::AccessControl(store::ResourceStore& store, const Clock& clock, AccessPolicy policy, AccessControlOptions options)
    : clock_(clock),
      policy_(std::move(policy)),
      options_(std::move(options)),
      accounts_(std::make_unique<AccountDirectory>(store)),
      keys_(std::make_unique<SigningKeys>(store, clock)) {
  ClientLookup clients = [this](const std::string& id) -> Result<std::optional<Client>> {
    auto found = clients_.find(id);
    return found == clients_.end() ? std::optional<Client>() : std::optional<Client>(found->second);
  };
  const std::string host = options_.base_url.substr(options_.base_url.find("://") + 3);
  flow_ = std::make_unique<AuthorizationFlow>(
      *accounts_, policy_, clock, clients,
      [this](const User& user) {
        std::unique_lock lock(users_mu_);
        users_.insert_or_assign(user.name, user);
      },
      AuthorizationFlowOptions{.audience = options_.base_url + "/fhir", .issuer_name = "Chartkeeper " + host});
  tokens_ = std::make_unique<TokenService>(
      *keys_, store, clock,
      TokenServiceOptions{.issuer = options_.base_url + "/auth",
                          .audience = options_.base_url + "/fhir",
                          .token_endpoint = options_.base_url + "/auth/token",
                          .backend_token_lifetime = options_.backend_token_lifetime,
                          .user_token_lifetime = options_.user_token_lifetime,
                          .session_idle = options_.session_idle},
      clients, [this](const std::string& name) { return FindUser(name); }, flow_.get());
}

Result<std::optional<User>> AccessControl::FindUser(const std::string& name) const {
  std::shared_lock lock(users_mu_);
  auto found = users_.find(name);
  return found == users_.end() ? std::optional<User>() : std::optional<User>(found->second);
}

Result<std::unique_ptr<AccessControl>> AccessControl::Open(store::ResourceStore& store, const Clock& clock, AccessPolicy policy,
                                                           AccessControlOptions options) {
  std::unique_ptr<AccessControl> control(new AccessControl(store, clock, std::move(policy), std::move(options)));
  CK_ASSIGN_OR_RETURN(std::vector<Client> clients, control->accounts_->ListClients());
  for (Client& client : clients) control->clients_.emplace(client.id, std::move(client));
  CK_ASSIGN_OR_RETURN(std::vector<User> users, control->accounts_->ListUsers());
  for (User& user : users) control->users_.emplace(user.name, std::move(user));
  CK_RETURN_IF_ERROR(control->tokens_->Open());
  // The signing keys loaded (or the first made) before the first request.
  CK_ASSIGN_OR_RETURN(std::shared_ptr<const JoseKey> key, control->keys_->Current());
  (void)key;
  return control;
}

Result<std::unique_ptr<TokenGuard>> AccessControl::Authenticate(std::string_view authorization) const {
  constexpr std::string_view kBearer = "bearer ";
  const bool bearer = authorization.size() > kBearer.size() &&
                      std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  if (!bearer) {
    return Err(Status(StatusCode::kUnauthenticated, authorization.empty() ? "authentication required: send Authorization: Bearer <token>"
                                                                          : "the Authorization header must be Bearer <token>"));
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  const Millis now = clock_.Now();
  {
    std::shared_lock lock(verified_mu_);
    auto found = verified_.find(std::string(token));
    if (found != verified_.end() && found->second.expires > now) {
      CK_RETURN_IF_ERROR(tokens_->StillValid(found->second));
      return std::make_unique<TokenGuard>(found->second, policy_);
    }
  }
  CK_ASSIGN_OR_RETURN(Identity identity, tokens_->Authenticate(token));
  {
    std::unique_lock lock(verified_mu_);
    if (verified_.size() >= kMaxVerifiedTokens) {
      std::erase_if(verified_, [now](const auto& entry) { return entry.second.expires <= now; });
      if (verified_.size() >= kMaxVerifiedTokens) verified_.clear();
    }
    verified_.insert_or_assign(std::string(token), identity);
  }
  return std::make_unique<TokenGuard>(std::move(identity), policy_);
}

Status AccessControl::CheckBreakGlass(const TokenGuard& caller, const std::string& reason) const {
  const Identity& identity = caller.identity();
  if (identity.user.empty()) return Status(StatusCode::kForbidden, "emergency access is for people signed in, not services");
  if (!identity.break_glass.empty()) return Status(StatusCode::kForbidden, "emergency access cannot be extended from itself");
  if (!policy_.MayBreakGlass(identity.roles)) return Status(StatusCode::kForbidden, "no role of this user may break the glass");
  std::size_t letters = 0;
  for (char c : reason) letters += std::isalnum(static_cast<unsigned char>(c)) ? 1 : 0;
  if (letters < 10 || reason.size() > 1000) {
    return Status::Invalid("give the reason for emergency access (at least 10 letters or digits, at most 1000 characters)");
  }
  return Status::Ok();
}

Result<TokenResponse> AccessControl::BreakGlass(const TokenGuard& caller, const std::string& patient, const std::string& reason) {
  CK_RETURN_IF_ERROR(CheckBreakGlass(caller, reason));
  return tokens_->BreakGlassToken(caller.identity(), patient, reason, options_.break_glass_lifetime);
}

std::string AccessControl::SmartConfiguration() const {
  JsonValue config{JsonValue::Kind::kObject, {}, {}, {}};
  auto& m = config.members;
  m.emplace_back("issuer", Text(options_.base_url + "/auth"));
  m.emplace_back("jwks_uri", Text(options_.base_url + "/auth/jwks"));
  m.emplace_back("authorization_endpoint", Text(options_.base_url + "/auth/authorize"));
  m.emplace_back("token_endpoint", Text(options_.base_url + "/auth/token"));
  m.emplace_back("introspection_endpoint", Text(options_.base_url + "/auth/introspect"));
  m.emplace_back("revocation_endpoint", Text(options_.base_url + "/auth/revoke"));
  m.emplace_back("grant_types_supported", Texts({"authorization_code", "refresh_token", "client_credentials"}));
  m.emplace_back("response_types_supported", Texts({"code"}));
  m.emplace_back("code_challenge_methods_supported", Texts({"S256"}));
  m.emplace_back("token_endpoint_auth_methods_supported", Texts({"private_key_jwt", "client_secret_basic", "none"}));
  m.emplace_back("id_token_signing_alg_values_supported", Texts({"ES256"}));
  m.emplace_back("token_endpoint_auth_signing_alg_values_supported", Texts({"ES256", "ES384", "RS256", "RS384"}));
  m.emplace_back("scopes_supported", Texts({"openid", "fhirUser", "launch/patient", "offline_access", "online_access", "patient/*.rs",
                                            "patient/*.cruds", "user/*.cruds", "user/*.rs", "system/*.cruds", "system/*.rs", "user/*.read", "user/*.write",
                                            "system/*.read", "system/*.write"}));
  m.emplace_back("capabilities", Texts({"launch-standalone", "client-public", "client-confidential-symmetric",
                                        "client-confidential-asymmetric", "sso-openid-connect", "context-standalone-patient",
                                        "permission-offline", "permission-online", "permission-patient", "permission-user", "permission-v1",
                                        "permission-v2"}));
  return WriteJsonValue(config);
}

}  // namespace ck::access
