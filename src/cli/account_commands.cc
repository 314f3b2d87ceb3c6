#include "cli/account_commands.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "access/access_policy.h"
#include "access/account_directory.h"
#include "access/password_hash.h"
#include "access/totp.h"
#include "access/two_factor.h"
#include "audit/audit_trail.h"
#include "cli/audited_store.h"
#include "cli/terminal_qr.h"
#include "fhir/definitions.h"
#include "store/sqlite/sqlite_store.h"
#include "util/crypto.h"
#include "util/json_value.h"

namespace ck::cli {

namespace {

// What the account commands work on: the store (no records service: nothing is validated or
// indexed), the directory over it, and the role policy.
struct Accounts {
  SystemClock clock;
  std::unique_ptr<store::ResourceStore> store;
  std::unique_ptr<access::AccountDirectory> directory;
  access::AccessPolicy policy = access::AccessPolicy::Defaults();
};

Result<std::unique_ptr<Accounts>> OpenAccounts(const Config& config) {
  auto accounts = std::make_unique<Accounts>();
  if (!config.access_policy.empty()) {
    CK_ASSIGN_OR_RETURN(accounts->policy, access::AccessPolicy::FromFile(config.access_policy));
  }
  CK_ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config, {.clock = &accounts->clock, .cache_bytes = 0}));
  accounts->store = std::move(opened.store);
  accounts->directory = std::make_unique<access::AccountDirectory>(*accounts->store);
  return accounts;
}

// Records an account command in the audit trail once it has run (exit code 0: done). Errors:
// the audit's; the command's change stands (it was its own write).
int Audited(Accounts& accounts, std::string subtype, char action, const std::string& name, int exit_code) {
  audit::AuditEntry entry = CommandEntry("security", std::move(subtype), action);
  entry.detail = name;
  entry.outcome = exit_code == 0 ? 0 : 4;
  audit::AuditTrail trail(fhir::Definitions::R4(), *accounts.store);
  if (Status recorded = trail.RecordNow(std::move(entry)); !recorded.ok()) {
    std::fprintf(stderr, "chartkeeper: the audit trail could not record this command: %s\n", recorded.message().c_str());
    return 1;
  }
  return exit_code;
}

int Fail(std::string_view command, const Status& status) {
  std::fprintf(stderr, "chartkeeper %.*s: %s\n", static_cast<int>(command.size()), command.data(), status.message().c_str());
  return 1;
}

Status CheckRoles(const access::AccessPolicy& policy, const std::vector<std::string>& roles) {
  if (roles.empty()) return Status::Invalid("name at least one role (--role): " + [&] {
    std::string names;
    for (const std::string& name : policy.RoleNames()) names += (names.empty() ? "" : ", ") + name;
    return names;
  }());
  for (const std::string& role : roles) {
    if (!policy.Find(role)) return Status::Invalid("no role named " + role + " in the access policy");
  }
  return Status::Ok();
}

// SMART's fhirUser: a reference to the Practitioner, PractitionerRole, Patient, RelatedPerson or
// Person the user is.
Status CheckFhirUser(std::string_view reference) {
  if (reference.empty()) return Status::Ok();
  const std::size_t slash = reference.find('/');
  const std::string_view type = reference.substr(0, slash);
  const bool known_type = type == "Practitioner" || type == "PractitionerRole" || type == "Patient" || type == "RelatedPerson" ||
                          type == "Person";
  const std::string_view id = slash == std::string_view::npos ? std::string_view() : reference.substr(slash + 1);
  const bool good_id = !id.empty() && id.size() <= 64 && id.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") == std::string_view::npos;
  if (!known_type || !good_id) {
    return Status::Invalid("--fhir-user is a reference such as Practitioner/123 (Practitioner, PractitionerRole, Patient, "
                           "RelatedPerson or Person)");
  }
  return Status::Ok();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

void PrintEnrollment(const std::string& name, const access::TotpEnrollment& enrollment) {
  const std::string uri = access::OtpauthUri("Chartkeeper", name, enrollment.key);
  std::cout << "Scan this with an authenticator app (or enter the key by hand):\n\n";
  if (Result<std::string> qr = TerminalQrCode(uri)) std::cout << *qr << "\n";
  std::cout << "  key: " << access::Base32Encode(enrollment.key) << "\n  uri: " << uri << "\n\n";
  std::cout << "Recovery codes (each works once, in place of a code from the app; keep them somewhere safe):\n";
  for (const std::string& code : enrollment.recovery_codes) std::cout << "  " << code << "\n";
  std::cout << "\nTwo-factor authentication for " << name << " takes effect with the first code from the app: "
            << "`chartkeeper user confirm-totp " << name << " CODE`, or at the next login.\n";
}

Result<std::string> ReadPasswordLine() {
  std::string password;
  if (!std::getline(std::cin, password)) return Err(Status::Invalid("no password on standard input"));
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

int AddUser(Accounts& accounts, const UserCommand& command) {
  if (Status ok = CheckRoles(accounts.policy, command.roles); !ok.ok()) return Fail("user add", ok);
  if (Status ok = CheckFhirUser(command.fhir_user); !ok.ok()) return Fail("user add", ok);
  if (Status ok = access::CheckUserName(command.name); !ok.ok()) return Fail("user add", ok);
  access::User user;
  user.name = command.name;
  user.roles = command.roles;
  user.fhir_user = command.fhir_user;
  user.created = accounts.clock.Now();
  std::string password;
  if (command.password_stdin) {
    Result<std::string> typed = ReadPasswordLine();
    if (!typed) return Fail("user add", typed.error());
    if (Status ok = access::CheckNewPassword(user.name, *typed); !ok.ok()) return Fail("user add", ok);
    password = std::move(*typed);
    user.must_change_password = false;
  } else {
    Result<std::string> made = access::GeneratePassword();
    if (!made) return Fail("user add", made.error());
    password = std::move(*made);
  }
  Result<std::string> hash = access::HashPassword(password);
  if (!hash) return Fail("user add", hash.error());
  user.password_hash = std::move(*hash);
  if (Status added = accounts.directory->AddUser(user); !added.ok()) return Fail("user add", added);
  std::cout << "user " << user.name << " added with roles " << Join(user.roles) << "\n";
  if (!command.password_stdin) {
    std::cout << "one-time password (shown once; it must be changed at the first login): " << password << "\n";
  }
  if (accounts.policy.TotpRequired(user.roles)) {
    std::cout << "these roles require two-factor authentication: enroll with `chartkeeper user enroll-totp " << user.name
              << "` (or at the first login)\n";
  }
  return 0;
}

int ListUsers(Accounts& accounts) {
  Result<std::vector<access::User>> users = accounts.directory->ListUsers();
  if (!users) return Fail("user list", users.error());
  std::printf("%-24s %-32s %-9s %-10s %s\n", "NAME", "ROLES", "STATUS", "2FA", "FHIR USER");
  for (const access::User& user : *users) {
    const char* two_factor = user.totp_enrolled() ? "enrolled"
                             : !user.totp_pending_key.empty() ? "pending"
                             : accounts.policy.TotpRequired(user.roles) ? "missing" : "-";
    const char* status = user.disabled ? "disabled" : user.must_change_password ? "new" : "active";
    std::printf("%-24s %-32s %-9s %-10s %s\n", user.name.c_str(), Join(user.roles).c_str(), status, two_factor,
                user.fhir_user.empty() ? "-" : user.fhir_user.c_str());
  }
  return 0;
}

int ChangeUser(Accounts& accounts, const UserCommand& command) {
  using Action = UserCommand::Action;
  const Millis now = accounts.clock.Now();
  std::string new_password;
  std::optional<access::TotpEnrollment> enrollment;
  const char* verb = command.action == Action::kDisable ? "user disable"
                     : command.action == Action::kEnable ? "user enable"
                     : command.action == Action::kResetPassword ? "user reset-password"
                     : command.action == Action::kEnrollTotp ? "user enroll-totp"
                                                             : "user confirm-totp";
  if (command.action == Action::kResetPassword) {
    Result<std::string> made = access::GeneratePassword();
    if (!made) return Fail(verb, made.error());
    new_password = std::move(*made);
  }
  std::string new_hash;
  if (!new_password.empty()) {
    Result<std::string> hash = access::HashPassword(new_password);
    if (!hash) return Fail(verb, hash.error());
    new_hash = std::move(*hash);
  }
  Result<access::User> changed = accounts.directory->UpdateUser(command.name, [&](access::User& user) -> Status {
    switch (command.action) {
      case Action::kDisable:
        user.disabled = true;
        user.credentials_since = now;  // its tokens are void
        return Status::Ok();
      case Action::kEnable:
        user.disabled = false;
        return Status::Ok();
      case Action::kResetPassword:
        user.password_hash = new_hash;
        user.must_change_password = true;
        user.credentials_since = now;
        return Status::Ok();
      case Action::kEnrollTotp: {
        CK_ASSIGN_OR_RETURN(access::TotpEnrollment started, access::StartTotpEnrollment(user));
        enrollment = std::move(started);
        return Status::Ok();
      }
      case Action::kConfirmTotp:
        return access::AcceptTotpCode(user, command.code, now);
      default:
        return Status::Internal("not a change");
    }
  });
  if (!changed) return Fail(verb, changed.error());
  switch (command.action) {
    case Action::kDisable:
      std::cout << "user " << command.name << " disabled; their tokens are no longer accepted\n";
      break;
    case Action::kEnable:
      std::cout << "user " << command.name << " enabled\n";
      break;
    case Action::kResetPassword:
      std::cout << "new one-time password for " << command.name << " (shown once; it must be changed at the next login): "
                << new_password << "\n";
      break;
    case Action::kEnrollTotp:
      PrintEnrollment(command.name, *enrollment);
      break;
    default:
      std::cout << "two-factor authentication for " << command.name << " is enrolled\n";
  }
  return 0;
}

Status CheckRedirectUri(const std::string& uri) {
  const std::size_t colon = uri.find(':');
  const std::string scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
  auto bad = [&](const std::string& why) { return Status::Invalid("redirect URI " + uri + ": " + why); };
  if (scheme.empty() || uri.find('#') != std::string::npos || uri.find_first_of(" \t\r\n") != std::string::npos) {
    return bad("an absolute URI without a fragment");
  }
  if (scheme == "https") return uri.size() > 8 && uri.compare(0, 8, "https://") == 0 ? Status::Ok() : bad("https://host/...");
  if (scheme == "http") {
    // RFC 8252: plain http only back to the device itself.
    for (const char* loopback : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
      const std::string prefix = loopback;
      if (uri.compare(0, prefix.size(), prefix) == 0 && (uri.size() == prefix.size() || uri[prefix.size()] == ':' || uri[prefix.size()] == '/')) {
        return Status::Ok();
      }
    }
    return bad("http is allowed only to the loopback address (127.0.0.1, [::1], localhost); use https");
  }
  // RFC 8252 section 7.1: a native app's private-use scheme is a reversed domain name.
  if (scheme.find('.') != std::string::npos) return Status::Ok();
  return bad("https, http on loopback, or a reversed-domain scheme (com.example.app:/callback)");
}

// A backend service's key must be one its assertions can be checked with (SMART: ES384 or
// RS384; ES256 too): an EC key on P-256 or P-384, or RSA of at least 2048 bits.
Status CheckPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return Status::Invalid("--public-key: not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof group, &length);
    const std::string curve = group;
    if (curve == "prime256v1" || curve == "secp384r1") return Status::Ok();
    return Status::Invalid("--public-key: an EC key must be on P-256 or P-384");
  }
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    if (EVP_PKEY_get_bits(key.get()) >= 2048) return Status::Ok();
    return Status::Invalid("--public-key: an RSA key needs at least 2048 bits");
  }
  return Status::Invalid("--public-key: an EC (P-256, P-384) or RSA key");
}

Status CheckJwks(const std::string& text) {
  Result<JsonValue> jwks = ParseJsonValue(text);
  const JsonValue* keys = jwks && jwks->is_object() ? jwks->Find("keys") : nullptr;
  if (!keys || !keys->is_array() || keys->items.empty()) return Status::Invalid("--jwks: a JSON Web Key Set ({\"keys\": [...]})");
  for (const JsonValue& key : keys->items) {
    const JsonValue* type = key.is_object() ? key.Find("kty") : nullptr;
    if (!type || (type->text != "EC" && type->text != "RSA")) return Status::Invalid("--jwks: each key is an EC or RSA JWK (kty)");
    if (key.Find("d")) return Status::Invalid("--jwks: holds a private key; give the public keys only");
  }
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, std::string_view option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::Invalid(std::string(option) + ": cannot read " + path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return Err(Status::Invalid(std::string(option) + ": " + path + " is over 1 MiB"));
  return text.str();
}

Status CheckClientScope(access::ClientKind kind, const std::string& scope) {
  CK_ASSIGN_OR_RETURN(access::ScopeSet set, access::ParseScopes(scope));
  if (!set.unrecognized.empty()) return Status::Invalid("--scope: unknown scope " + set.unrecognized.front());
  for (const access::ResourceScope& resource : set.resources) {
    const bool system = resource.context == access::ScopeContext::kSystem;
    if (system != (kind == access::ClientKind::kBackend)) {
      return Status::Invalid("--scope: " + resource.ToString() +
                             (system ? ": system/ scopes are for backend services" : ": a backend service has system/ scopes only"));
    }
  }
  return Status::Ok();
}

int AddClient(Accounts& accounts, const ClientCommand& command) {
  constexpr std::string_view verb = "client add";
  Result<access::ClientKind> kind = access::ParseClientKind(command.kind);
  if (!kind) return Fail(verb, kind.error());
  access::Client client;
  client.name = command.name;
  client.kind = *kind;
  client.created = accounts.clock.Now();
  const bool backend = client.kind == access::ClientKind::kBackend;
  client.scope = !command.scope.empty() ? command.scope
                 : backend              ? "system/*.rs"
                                        : "openid fhirUser launch launch/patient offline_access online_access patient/*.rs user/*.rs";
  if (Status ok = CheckClientScope(client.kind, client.scope); !ok.ok()) return Fail(verb, ok);
  if (client.name.empty() || client.name.size() > 200) return Fail(verb, Status::Invalid("a client name has 1 to 200 characters"));
  if (backend) {
    if (!command.redirect_uris.empty()) return Fail(verb, Status::Invalid("a backend service has no redirect URIs"));
    const int ways = (command.public_key_file.empty() ? 0 : 1) + (command.jwks_file.empty() ? 0 : 1) + (command.secret ? 1 : 0);
    if (ways != 1) {
      return Fail(verb, Status::Invalid("a backend service needs one way to prove itself: --public-key FILE, --jwks FILE or --secret"));
    }
    if (command.secret) {
      // Nothing to read: the secret is made below.
    } else if (!command.public_key_file.empty()) {
      Result<std::string> pem = ReadSmallFile(command.public_key_file, "--public-key");
      if (!pem) return Fail(verb, pem.error());
      if (Status ok = CheckPublicKey(*pem); !ok.ok()) return Fail(verb, ok);
      client.public_key_pem = std::move(*pem);
    } else {
      Result<std::string> jwks = ReadSmallFile(command.jwks_file, "--jwks");
      if (!jwks) return Fail(verb, jwks.error());
      if (Status ok = CheckJwks(*jwks); !ok.ok()) return Fail(verb, ok);
      client.jwks = std::move(*jwks);
    }
    client.roles = command.roles.empty() ? std::vector<std::string>{"integration"} : command.roles;
    if (Status ok = CheckRoles(accounts.policy, client.roles); !ok.ok()) return Fail(verb, ok);
  } else {
    if (!command.public_key_file.empty() || !command.jwks_file.empty() || !command.roles.empty() || command.secret) {
      return Fail(verb, Status::Invalid("--public-key, --jwks, --secret and --role are for backend services; an app acts for its user"));
    }
    if (command.redirect_uris.empty()) return Fail(verb, Status::Invalid("an app needs at least one --redirect-uri"));
    for (const std::string& uri : command.redirect_uris) {
      if (Status ok = CheckRedirectUri(uri); !ok.ok()) return Fail(verb, ok);
    }
    client.redirect_uris = command.redirect_uris;
  }
  Result<std::string> id = RandomString(22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  if (!id) return Fail(verb, id.error());
  client.id = "ck-" + *id;
  std::string secret;
  if (client.kind == access::ClientKind::kConfidential || command.secret) {
    Result<std::string> bytes = RandomBytes(32);
    if (!bytes) return Fail(verb, bytes.error());
    secret = Base64UrlEncode(*bytes);
    client.secret_hash = Sha256Hex(secret);
  }
  if (Status added = accounts.directory->AddClient(client); !added.ok()) return Fail(verb, added);
  std::cout << "client_id: " << client.id << "\n";
  if (!secret.empty()) std::cout << "client_secret (shown once): " << secret << "\n";
  std::cout << "kind: " << access::ClientKindName(client.kind) << "\nscope: " << client.scope << "\n";
  return 0;
}

int ListClients(Accounts& accounts) {
  Result<std::vector<access::Client>> clients = accounts.directory->ListClients();
  if (!clients) return Fail("client list", clients.error());
  std::printf("%-26s %-13s %-8s %-24s %s\n", "CLIENT ID", "KIND", "STATUS", "NAME", "SCOPE");
  for (const access::Client& client : *clients) {
    std::printf("%-26s %-13s %-8s %-24s %s\n", client.id.c_str(), std::string(access::ClientKindName(client.kind)).c_str(),
                client.revoked ? "revoked" : "active", client.name.c_str(), client.scope.c_str());
  }
  return 0;
}

}  // namespace

int RunUserCommand(const Config& config, const UserCommand& command) {
  Result<std::unique_ptr<Accounts>> accounts = OpenAccounts(config);
  if (!accounts) return Fail("user", accounts.error());
  using Action = UserCommand::Action;
  static constexpr std::pair<Action, const char*> kNames[] = {
      {Action::kAdd, "user-add"}, {Action::kList, "user-list"}, {Action::kDisable, "user-disable"}, {Action::kEnable, "user-enable"},
      {Action::kResetPassword, "user-reset-password"}, {Action::kEnrollTotp, "totp-enroll"}, {Action::kConfirmTotp, "totp-confirm"}};
  const char* subtype = std::find_if(std::begin(kNames), std::end(kNames), [&](const auto& n) { return n.first == command.action; })->second;
  const int exit_code = command.action == Action::kAdd    ? AddUser(**accounts, command)
                        : command.action == Action::kList ? ListUsers(**accounts)
                                                          : ChangeUser(**accounts, command);
  return Audited(**accounts, subtype, command.action == Action::kAdd ? 'C' : command.action == Action::kList ? 'R' : 'U',
                 command.name, exit_code);
}

int RunClientCommand(const Config& config, const ClientCommand& command) {
  Result<std::unique_ptr<Accounts>> accounts = OpenAccounts(config);
  if (!accounts) return Fail("client", accounts.error());
  switch (command.action) {
    case ClientCommand::Action::kAdd: return Audited(**accounts, "client-add", 'C', command.name, AddClient(**accounts, command));
    case ClientCommand::Action::kList: return Audited(**accounts, "client-list", 'R', "", ListClients(**accounts));
    case ClientCommand::Action::kRevoke: {
      Result<access::Client> revoked = (*accounts)->directory->UpdateClient(command.name, [](access::Client& client) {
        client.revoked = true;
        return Status::Ok();
      });
      if (!revoked) return Audited(**accounts, "client-revoke", 'U', command.name, Fail("client revoke", revoked.error()));
      std::cout << "client " << command.name << " revoked; its tokens are no longer accepted\n";
      return Audited(**accounts, "client-revoke", 'U', command.name, 0);
    }
  }
  return 2;
}

}  // namespace ck::cli
