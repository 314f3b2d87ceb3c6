#include "cli/audited_store.h"

#include <unistd.h>

#include <cstdlib>

#include "cli/encryption_keys.h"
#include "store/audit_chain.h"

namespace ck::cli {

std::filesystem::path AuditKeyPath(const Config& config) {
  if (!config.audit_key.empty()) return config.audit_key;
  std::filesystem::path data = config.data_dir.lexically_normal();
  if (data.filename().empty()) data = data.parent_path();
  return data.parent_path() / (data.filename().string() + "-audit-key.pem");
}

Result<AuditedStore> OpenAuditedStore(const Config& config, store::sqlite::SqliteOptions options) {
  const std::filesystem::path key_file = AuditKeyPath(config);
  std::error_code ec;
  const bool key_exists = std::filesystem::exists(key_file, ec);
  std::shared_ptr<const audit::AuditKey> key;
  if (key_exists) {
    CK_ASSIGN_OR_RETURN(auto loaded, audit::AuditKey::LoadOrCreate(key_file, config.data_dir));
    key = std::move(loaded);
  }
  // Filled in below once the trail is checked; the store signs nothing before a write commits.
  auto signer = std::make_shared<std::shared_ptr<const audit::AuditKey>>(key);
  options.data_dir = config.data_dir;
  CK_ASSIGN_OR_RETURN(options.data_keys, DataKeyFor(config));
  options.audit_checkpoint_every = static_cast<std::int64_t>(config.audit_checkpoint_every);
  options.audit_signer = [signer](std::string_view message) -> Result<std::string> {
    if (!*signer) return Err(Status::Internal("no audit key"));
    return (*signer)->Sign(message);
  };
  AuditedStore out;
  CK_ASSIGN_OR_RETURN(out.store, store::sqlite::OpenSqliteStore(options));
  CK_ASSIGN_OR_RETURN(std::optional<store::AuditSeal> head, out.store->AuditHead());
  if (!key) {
    if (head) {
      return Err(Status::NotFound("the audit key " + key_file.string() + " is missing, and the audit trail in " + config.data_dir.string() +
                                  " was signed with it: restore the key file (or point audit_key at it)"));
    }
    CK_ASSIGN_OR_RETURN(auto made, audit::AuditKey::LoadOrCreate(key_file, config.data_dir));
    key = std::move(made);
  }
  if (head) {
    CK_ASSIGN_OR_RETURN(auto check, audit::AuditKeyCheck::FromPem(key->PublicKeyPem()));
    if (!check->Verify(store::AuditSealMessage(store::SealKind::kHead, *head), head->signature)) {
      return Err(Status::Invalid("the audit key " + key_file.string() + " is not the key that signed the audit trail in " +
                                 config.data_dir.string()));
    }
  }
  *signer = key;
  out.key = std::move(key);
  return out;
}

std::string OperatorUser() {
  const char* login = std::getenv("USER");
  return login != nullptr && *login != '\0' ? std::string("os:") + login : "os:uid-" + std::to_string(::getuid());
}

audit::AuditEntry CommandEntry(std::string type, std::string subtype, char action) {
  audit::AuditEntry entry;
  entry.type = std::move(type);
  entry.subtype = std::move(subtype);
  entry.action = action;
  entry.door = "cli";
  entry.user = OperatorUser();
  return entry;
}

}  // namespace ck::cli
