#pragma once
// The keys of an encrypted data folder, as the server and every command open it
// (docs/design/encryption.md): the key-encryption key from its source (the environment variable
// CHARTKEEPER_ENCRYPTION_KEY, else what encryption_key_command prints, else encryption_key_file),
// which unwraps the folder's data key (store/data_key.h); and its rotation (`chartkeeper rekey`).
// A key is 64 hexadecimal digits (32 bytes); it is never logged.

#include <filesystem>
#include <functional>
#include <memory>

#include "store/data_key.h"
#include "store/sqlite/page_rekey.h"
#include "util/config.h"
#include "util/secret.h"

namespace ck::cli {

// Where the key file is: encryption_key_file, or "<data folder>-encryption-key" beside the folder.
std::filesystem::path EncryptionKeyPath(const Config& config);

// The key-encryption key. Errors: kNotFound (its file does not exist), kInvalid (not 64 hex
// digits; the file readable by others or inside the data folder; the command failed).
Result<std::unique_ptr<Secret>> LoadKeyEncryptionKey(const Config& config);

enum class NewFolder { kEncrypt, kRefuse };
// The data keys to open config.data_dir with; null when encryption is off. A folder without a
// database yet gets a new data key (with kEncrypt), wrapped under the key-encryption key, which
// is made first as a key file when that is its source and there is none (the log says where).
// The ring loads the key-encryption key again from its source when another process rotated it.
// Errors: those of LoadKeyEncryptionKey and store::OpenDataKeys; kInvalid (an encrypted folder
// with encryption off, or a clear one with it on); kNotFound (kRefuse and no database).
Result<std::shared_ptr<store::DataKeyRing>> DataKeyFor(const Config& config, NewFolder new_folder = NewFolder::kEncrypt);

// The key-encryption key for a folder being encrypted now: made as a key file when that is its
// source and there is none (the log says where), else loaded.
Result<std::unique_ptr<Secret>> KeyEncryptionKeyForNewFolder(const Config& config);

// Rotates the key-encryption key: the data key is wrapped under the new key (from
// `new_key_file`, or, when empty, a new random key written to the key file in place of the old),
// and the old key stops opening the folder. Safe to run beside a server; a crash midway leaves a
// folder that the old or the new key opens. Errors: those of the loads; kInvalid (no new key
// file is given while the key comes from the environment or a command).
Status RotateKeyEncryptionKey(const Config& config, const std::filesystem::path& new_key_file);

// Rotates the data key (`chartkeeper rekey --data-key`): a new data key becomes current, every
// page is re-encrypted under it (store/sqlite/page_rekey.h), then the old key is dropped. Safe to
// run beside a server, which keeps serving (and takes up the new key); stopped midway, it resumes
// where it was when run again. Errors: those of LoadKeyEncryptionKey, store::BeginDataKeyRotation
// and store::sqlite::ReencryptDatabase.
Status RotateDataKey(const Config& config, const std::function<bool(const store::sqlite::RekeyProgress&)>& progress);

}  // namespace ck::cli
