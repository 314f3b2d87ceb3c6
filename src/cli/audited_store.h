#pragma once
// The data folder's store with its audit trail, as the server and every command that changes
// the data open it: the audit key loaded (or made, when neither it nor a trail exists yet),
// checked against the trail's signed head (a wrong key refuses to start rather than sealing the
// trail with a key its verifier does not know), and the store sealing with it.

#include <filesystem>
#include <memory>

#include "audit/audit_key.h"
#include "audit/audit_trail.h"
#include "store/sqlite/sqlite_store.h"
#include "util/config.h"

namespace ck::cli {

// Where the audit key is: audit_key, or "<data folder>-audit-key.pem" beside the folder.
std::filesystem::path AuditKeyPath(const Config& config);

struct AuditedStore {
  std::shared_ptr<const audit::AuditKey> key;
  std::unique_ptr<store::ResourceStore> store;
};

// Opens the store with `options` (data_dir, data_key, audit_signer and audit_checkpoint_every
// are set from `config`; a new folder is encrypted unless encryption is off, cli/encryption_keys.h).
// Errors: the store's; DataKeyFor's; kInvalid (the audit key file readable by others, inside the
// data folder, not the key that signed the trail); kNotFound (the trail exists, its key does not).
Result<AuditedStore> OpenAuditedStore(const Config& config, store::sqlite::SqliteOptions options);

// Who runs an offline command, for the audit trail: "os:<login name>" (or "os:uid-<n>").
std::string OperatorUser();

// The audit entry of an offline command ("cli" front door, the operating system user).
audit::AuditEntry CommandEntry(std::string type, std::string subtype, char action);

}  // namespace ck::cli
