#include "access/account.h"

#include <algorithm>
#include <cctype>

#include "util/crypto.h"
#include "util/json_value.h"

namespace ck::access {

namespace {

JsonValue String(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }
JsonValue Number(std::int64_t value) { return {JsonValue::Kind::kNumber, std::to_string(value), {}, {}}; }
JsonValue Boolean(bool value) { return {JsonValue::Kind::kBoolean, value ? "true" : "false", {}, {}}; }
JsonValue Strings(const std::vector<std::string>& items) {
  JsonValue array{JsonValue::Kind::kArray, {}, {}, {}};
  for (const std::string& item : items) array.items.push_back(String(item));
  return array;
}

// Reads the members of a stored record; any member of the wrong kind makes the record corrupt.
class Reader {
 public:
  explicit Reader(const JsonValue& object) : object_(object) {}

  void Text(std::string_view name, std::string& out) {
    if (const JsonValue* value = Member(name, JsonValue::Kind::kString)) out = value->text;
  }
  void Flag(std::string_view name, bool& out) {
    if (const JsonValue* value = Member(name, JsonValue::Kind::kBoolean)) out = value->text == "true";
  }
  void Integer(std::string_view name, std::int64_t& out) {
    const JsonValue* value = Member(name, JsonValue::Kind::kNumber);
    if (!value) return;
    try {
      std::size_t used = 0;
      out = std::stoll(value->text, &used);
      ok_ = ok_ && used == value->text.size();
    } catch (const std::exception&) {
      ok_ = false;
    }
  }
  void List(std::string_view name, std::vector<std::string>& out) {
    const JsonValue* value = Member(name, JsonValue::Kind::kArray);
    if (!value) return;
    for (const JsonValue& item : value->items) {
      if (item.kind != JsonValue::Kind::kString) ok_ = false;
      out.push_back(item.text);
    }
  }
  bool ok() const { return ok_; }

 private:
  const JsonValue* Member(std::string_view name, JsonValue::Kind kind) {
    const JsonValue* value = object_.Find(name);
    if (value && value->kind != kind) ok_ = false;
    return value && value->kind == kind ? value : nullptr;
  }
  const JsonValue& object_;
  bool ok_ = true;
};

Result<JsonValue> ParseRecord(std::string_view json, std::string_view what) {
  Result<JsonValue> parsed = ParseJsonValue(json);
  if (!parsed || !parsed->is_object()) return Err(Status(StatusCode::kCorrupt, std::string("a stored ") + std::string(what) + " is not readable"));
  return parsed;
}

}  // namespace

Status CheckUserName(std::string_view name) {
  const bool allowed = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
  if (!allowed) return Status::Invalid("a user name has 1 to 64 lower-case letters, digits, '.', '_' or '-'");
  return Status::Ok();
}

std::string_view ClientKindName(ClientKind kind) {
  switch (kind) {
    case ClientKind::kPublic: return "public";
    case ClientKind::kConfidential: return "confidential";
    case ClientKind::kBackend: return "backend";
  }
  return "public";
}

Result<ClientKind> ParseClientKind(std::string_view name) {
  for (ClientKind kind : {ClientKind::kPublic, ClientKind::kConfidential, ClientKind::kBackend}) {
    if (ClientKindName(kind) == name) return kind;
  }
  return Err(Status::Invalid("a client kind is public, confidential or backend"));
}

std::string UserToJson(const User& user) {
  JsonValue object{JsonValue::Kind::kObject, {}, {}, {}};
  auto& m = object.members;
  m.emplace_back("name", String(user.name));
  m.emplace_back("roles", Strings(user.roles));
  m.emplace_back("fhirUser", String(user.fhir_user));
  m.emplace_back("passwordHash", String(user.password_hash));
  m.emplace_back("mustChangePassword", Boolean(user.must_change_password));
  m.emplace_back("disabled", Boolean(user.disabled));
  m.emplace_back("totpKey", String(Base64UrlEncode(user.totp_key)));
  m.emplace_back("totpLastStep", Number(user.totp_last_step));
  m.emplace_back("recoveryCodeHashes", Strings(user.recovery_code_hashes));
  m.emplace_back("totpPendingKey", String(Base64UrlEncode(user.totp_pending_key)));
  m.emplace_back("pendingRecoveryCodeHashes", Strings(user.pending_recovery_code_hashes));
  m.emplace_back("created", Number(user.created));
  m.emplace_back("credentialsSince", Number(user.credentials_since));
  return WriteJsonValue(object);
}

Result<User> UserFromJson(std::string_view json) {
  CK_ASSIGN_OR_RETURN(JsonValue object, ParseRecord(json, "user"));
  User user;
  Reader read(object);
  std::string totp_key;
  std::string pending_key;
  read.Text("name", user.name);
  read.List("roles", user.roles);
  read.Text("fhirUser", user.fhir_user);
  read.Text("passwordHash", user.password_hash);
  read.Flag("mustChangePassword", user.must_change_password);
  read.Flag("disabled", user.disabled);
  read.Text("totpKey", totp_key);
  read.Integer("totpLastStep", user.totp_last_step);
  read.List("recoveryCodeHashes", user.recovery_code_hashes);
  read.Text("totpPendingKey", pending_key);
  read.List("pendingRecoveryCodeHashes", user.pending_recovery_code_hashes);
  read.Integer("created", user.created);
  read.Integer("credentialsSince", user.credentials_since);
  Result<std::string> key = Base64UrlDecode(totp_key);
  Result<std::string> pending = Base64UrlDecode(pending_key);
  if (!read.ok() || !key || !pending || user.name.empty()) return Err(Status(StatusCode::kCorrupt, "a stored user is not readable"));
  user.totp_key = std::move(*key);
  user.totp_pending_key = std::move(*pending);
  return user;
}

std::string ClientToJson(const Client& client) {
  JsonValue object{JsonValue::Kind::kObject, {}, {}, {}};
  auto& m = object.members;
  m.emplace_back("id", String(client.id));
  m.emplace_back("name", String(client.name));
  m.emplace_back("kind", String(ClientKindName(client.kind)));
  m.emplace_back("secretHash", String(client.secret_hash));
  m.emplace_back("redirectUris", Strings(client.redirect_uris));
  m.emplace_back("scope", String(client.scope));
  m.emplace_back("publicKeyPem", String(client.public_key_pem));
  m.emplace_back("jwks", String(client.jwks));
  m.emplace_back("roles", Strings(client.roles));
  m.emplace_back("revoked", Boolean(client.revoked));
  m.emplace_back("created", Number(client.created));
  return WriteJsonValue(object);
}

Result<Client> ClientFromJson(std::string_view json) {
  CK_ASSIGN_OR_RETURN(JsonValue object, ParseRecord(json, "client"));
  Client client;
  Reader read(object);
  std::string kind;
  read.Text("id", client.id);
  read.Text("name", client.name);
  read.Text("kind", kind);
  read.Text("secretHash", client.secret_hash);
  read.List("redirectUris", client.redirect_uris);
  read.Text("scope", client.scope);
  read.Text("publicKeyPem", client.public_key_pem);
  read.Text("jwks", client.jwks);
  read.List("roles", client.roles);
  read.Flag("revoked", client.revoked);
  read.Integer("created", client.created);
  Result<ClientKind> parsed_kind = ParseClientKind(kind);
  if (!read.ok() || !parsed_kind || client.id.empty()) return Err(Status(StatusCode::kCorrupt, "a stored client is not readable"));
  client.kind = *parsed_kind;
  return client;
}

}  // namespace ck::access
