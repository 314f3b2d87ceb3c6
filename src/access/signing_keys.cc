#include "access/signing_keys.h"

#include <algorithm>

#include "util/crypto.h"
#include "util/log.h"

namespace ck::access {

namespace {

constexpr char kPrefix[] = "access/signing-key/";

std::string KeyRecord(const JoseKey& key, Millis created) {
  JsonValue object{JsonValue::Kind::kObject, {}, {}, {}};
  object.members.emplace_back("kid", JsonValue{JsonValue::Kind::kString, key.kid(), {}, {}});
  object.members.emplace_back("created", JsonValue{JsonValue::Kind::kNumber, std::to_string(created), {}, {}});
  object.members.emplace_back("privateKey", JsonValue{JsonValue::Kind::kString, key.PrivatePem(), {}, {}});
  return WriteJsonValue(object);
}

}  // namespace

SigningKeys::SigningKeys(store::ResourceStore& store, const Clock& clock, SigningKeyOptions options)
    : store_(store), clock_(clock), options_(options) {}

Status SigningKeys::LoadLocked() {
  if (loaded_) return Status::Ok();
  CK_ASSIGN_OR_RETURN(auto rows, store_.ListMeta(kPrefix, 10'000));
  for (const auto& [name, json] : rows) {
    Result<JsonValue> record = ParseJsonValue(json);
    const JsonValue* kid = record ? record->Find("kid") : nullptr;
    const JsonValue* created = record ? record->Find("created") : nullptr;
    const JsonValue* pem = record ? record->Find("privateKey") : nullptr;
    const Status unreadable = Status(StatusCode::kCorrupt, "a stored signing key is not readable").WithDetail(name);
    if (!kid || !created || !pem || created->kind != JsonValue::Kind::kNumber ||
        created->text.find_first_not_of("0123456789") != std::string::npos || created->text.size() > 18) {
      return unreadable;
    }
    Result<JoseKey> key = JoseKey::FromPrivatePem(pem->text, kid->text);
    if (!key) return unreadable;
    keys_.push_back({std::make_shared<const JoseKey>(std::move(*key)), std::stoll(created->text)});
  }
  std::sort(keys_.begin(), keys_.end(), [](const Held& a, const Held& b) { return a.created < b.created; });
  loaded_ = true;
  return Status::Ok();
}

// A key retired (a newer one exists) more than the longest token lifetime ago verifies nothing
// any more.
Status SigningKeys::ForgetExpiredLocked(Millis now) {
  while (keys_.size() > 1 && keys_[1].created + options_.max_token_lifetime < now) {
    const std::string key = kPrefix + keys_.front().key->kid();
    CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) { return txn.WriteMeta(key, std::nullopt); }));
    keys_.erase(keys_.begin());
  }
  return Status::Ok();
}

Result<std::shared_ptr<const JoseKey>> SigningKeys::Current() {
  std::lock_guard lock(mu_);
  CK_RETURN_IF_ERROR(LoadLocked());
  const Millis now = clock_.Now();
  if (keys_.empty() || keys_.back().created + options_.rotation <= now) {
    CK_ASSIGN_OR_RETURN(std::string id, RandomBytes(12));
    CK_ASSIGN_OR_RETURN(JoseKey key, JoseKey::GenerateEs256(Base64UrlEncode(id)));
    const std::string record = KeyRecord(key, now);
    const std::string name = kPrefix + key.kid();
    CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) { return txn.WriteMeta(name, record); }));
    CK_LOG_INFO("token signing key {} made", key.kid());
    keys_.push_back({std::make_shared<const JoseKey>(std::move(key)), now});
  }
  CK_RETURN_IF_ERROR(ForgetExpiredLocked(now));
  return keys_.back().key;
}

std::shared_ptr<const JoseKey> SigningKeys::Find(std::string_view kid) {
  std::lock_guard lock(mu_);
  if (!LoadLocked().ok()) return nullptr;
  const Millis now = clock_.Now();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const bool usable = i + 1 == keys_.size() || keys_[i + 1].created + options_.max_token_lifetime >= now;
    if (keys_[i].key->kid() == kid && usable) return keys_[i].key;
  }
  return nullptr;
}

JsonValue SigningKeys::Jwks() {
  std::lock_guard lock(mu_);
  JsonValue keys{JsonValue::Kind::kArray, {}, {}, {}};
  if (LoadLocked().ok()) {
    const Millis now = clock_.Now();
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (i + 1 == keys_.size() || keys_[i + 1].created + options_.max_token_lifetime >= now) keys.items.push_back(keys_[i].key->PublicJwk());
    }
  }
  JsonValue set{JsonValue::Kind::kObject, {}, {}, {}};
  set.members.emplace_back("keys", std::move(keys));
  return set;
}

}  // namespace ck::access
