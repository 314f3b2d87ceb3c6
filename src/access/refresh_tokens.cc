#include "access/refresh_tokens.h"

#include "util/crypto.h"
#include "util/json_value.h"

namespace ck::access {

namespace {

constexpr char kTokenPrefix[] = "access/refresh/";
constexpr char kFamilyPrefix[] = "access/refresh-family/";
constexpr std::size_t kSweepBatch = 200;

Status Refused(std::string why) { return Status(StatusCode::kUnauthenticated, "refresh token refused: " + std::move(why)); }

std::string TextOf(const JsonValue& object, std::string_view name) {
  const JsonValue* value = object.Find(name);
  return value && value->kind == JsonValue::Kind::kString ? value->text : std::string();
}
Millis NumberOf(const JsonValue& object, std::string_view name) {
  const JsonValue* value = object.Find(name);
  if (!value || value->kind != JsonValue::Kind::kNumber || value->text.empty() || value->text.size() > 18) return -1;
  return value->text.find_first_not_of("0123456789") == std::string::npos ? std::stoll(value->text) : -1;
}

}  // namespace

std::string RefreshTokens::Key(std::string_view token) { return kTokenPrefix + Sha256Hex(token); }

std::string RefreshTokens::ToJson(const Stored& stored) {
  const RefreshGrant& grant = stored.grant;
  JsonValue out = JsonObject();
  out.members.emplace_back("family", JsonString(grant.family));
  out.members.emplace_back("user", JsonString(grant.user));
  out.members.emplace_back("client", JsonString(grant.client_id));
  out.members.emplace_back("scope", JsonString(grant.scope));
  out.members.emplace_back("patient", JsonString(grant.patient));
  out.members.emplace_back("authTime", JsonNumber(grant.auth_time));
  out.members.emplace_back("expires", JsonNumber(grant.expires));
  out.members.emplace_back("idle", JsonNumber(grant.idle));
  out.members.emplace_back("lastUsed", JsonNumber(stored.last_used));
  out.members.emplace_back("spent", JsonBoolean(stored.spent));
  return WriteJsonValue(out);
}

Result<RefreshTokens::Stored> RefreshTokens::FromJson(std::string_view json) {
  Result<JsonValue> parsed = ParseJsonValue(json, 4);
  if (!parsed || !parsed->is_object()) return Err(Status(StatusCode::kCorrupt, "a stored refresh token cannot be read"));
  Stored stored;
  RefreshGrant& grant = stored.grant;
  grant.family = TextOf(*parsed, "family");
  grant.user = TextOf(*parsed, "user");
  grant.client_id = TextOf(*parsed, "client");
  grant.scope = TextOf(*parsed, "scope");
  grant.patient = TextOf(*parsed, "patient");
  grant.auth_time = NumberOf(*parsed, "authTime");
  grant.expires = NumberOf(*parsed, "expires");
  grant.idle = NumberOf(*parsed, "idle");
  stored.last_used = NumberOf(*parsed, "lastUsed");
  const JsonValue* spent = parsed->Find("spent");
  stored.spent = spent && spent->text == "true";
  if (grant.family.empty() || grant.expires < 0 || grant.idle < 0 || stored.last_used < 0) {
    return Err(Status(StatusCode::kCorrupt, "a stored refresh token cannot be read"));
  }
  return stored;
}

std::string RefreshTokens::Lapsed(const Stored& stored, bool family_revoked, Millis now) const {
  if (family_revoked) return "this sign-in was revoked";
  if (now >= stored.grant.expires) return "this sign-in has expired; sign in again";
  if (now - stored.last_used >= stored.grant.idle) return "unused for too long (automatic logoff); sign in again";
  return "";
}

Result<std::string> RefreshTokens::Issue(RefreshGrant grant) {
  CK_ASSIGN_OR_RETURN(std::string random, RandomBytes(32));
  const std::string token = "ckr_" + Base64UrlEncode(random);
  if (grant.family.empty()) {
    CK_ASSIGN_OR_RETURN(std::string family, RandomBytes(16));
    grant.family = Base64UrlEncode(family);
  }
  const Millis now = clock_.Now();
  // Tokens of families that ended are dropped a batch at a time (spent ones are kept until then:
  // their reuse must still be recognized).
  CK_ASSIGN_OR_RETURN(auto kept, store_.ListMeta(kTokenPrefix, kSweepBatch));
  Stored stored{std::move(grant), now, false};
  CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) -> Status {
    for (const auto& [key, json] : kept) {
      Result<Stored> old = FromJson(json);
      if (!old || old->grant.expires <= now) CK_RETURN_IF_ERROR(txn.WriteMeta(key, std::nullopt));
    }
    return txn.WriteMeta(Key(token), ToJson(stored));
  }));
  return token;
}

Result<std::pair<RefreshGrant, std::string>> RefreshTokens::Rotate(std::string_view token, const std::string& client_id) {
  const Millis now = clock_.Now();
  std::string refused;
  RefreshGrant grant;
  CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) -> Status {
    refused.clear();
    CK_ASSIGN_OR_RETURN(std::optional<std::string> json, txn.ReadMeta(Key(token)));
    if (!json) {
      refused = "unknown token";
      return Status::Ok();
    }
    CK_ASSIGN_OR_RETURN(Stored stored, FromJson(*json));
    if (stored.grant.client_id != client_id) {
      refused = "issued to another client";
      return Status::Ok();
    }
    const std::string family_key = kFamilyPrefix + stored.grant.family;
    CK_ASSIGN_OR_RETURN(std::optional<std::string> revoked, txn.ReadMeta(family_key));
    if (stored.spent && !revoked) {
      // A spent token again: someone else holds this family. Revoke it all, keep the refusal.
      refused = "it was used before, so it may be stolen: every token of this sign-in is now revoked";
      return txn.WriteMeta(family_key, std::to_string(stored.grant.expires));
    }
    refused = Lapsed(stored, revoked.has_value() || stored.spent, now);
    if (!refused.empty()) return Status::Ok();
    stored.spent = true;
    grant = stored.grant;
    return txn.WriteMeta(Key(token), ToJson(stored));
  }));
  if (!refused.empty()) return Err(Refused(refused));
  CK_ASSIGN_OR_RETURN(std::string next, Issue(grant));
  return std::pair(std::move(grant), std::move(next));
}

Result<std::optional<RefreshGrant>> RefreshTokens::Find(std::string_view token) {
  CK_ASSIGN_OR_RETURN(std::optional<std::string> json, store_.ReadMeta(Key(token)));
  if (!json) return std::optional<RefreshGrant>();
  CK_ASSIGN_OR_RETURN(Stored stored, FromJson(*json));
  CK_ASSIGN_OR_RETURN(std::optional<std::string> revoked, store_.ReadMeta(kFamilyPrefix + stored.grant.family));
  if (stored.spent || !Lapsed(stored, revoked.has_value(), clock_.Now()).empty()) return std::optional<RefreshGrant>();
  return std::optional<RefreshGrant>(std::move(stored.grant));
}

Status RefreshTokens::Revoke(std::string_view token, const std::string& client_id) {
  return store_.Write([&](store::WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(std::optional<std::string> json, txn.ReadMeta(Key(token)));
    if (!json) return Status::Ok();
    CK_ASSIGN_OR_RETURN(Stored stored, FromJson(*json));
    if (stored.grant.client_id != client_id) return Status::Ok();
    return txn.WriteMeta(kFamilyPrefix + stored.grant.family, std::to_string(stored.grant.expires));
  });
}

}  // namespace ck::access
