#pragma once
// The data folder's data key: 32 random bytes that encrypt the database's pages
// (store/sqlite/encrypted_vfs.h), kept in the folder only wrapped (AES-256-GCM) under
// key-encryption keys that live elsewhere (a key file, the environment, a KMS). Rotating the
// key-encryption key rewraps this small file and touches no page.
// The file, <data>/data-key: the line "chartkeeper-data-key 1", then one line per wrapping,
// base64(nonce | wrapped key | tag). Normally one; two while a rotation is under way, so that a
// crash in the middle leaves a folder that either key opens.
// Thread safety: plain functions over the file system; one process changes the file at a time.

#include <filesystem>
#include <memory>

#include "util/secret.h"
#include "util/status.h"

namespace ck::store {

std::filesystem::path DataKeyPath(const std::filesystem::path& data_dir);
bool HasDataKey(const std::filesystem::path& data_dir);

// The data key, unwrapped with `kek`. Errors: kNotFound (the folder has no data key),
// kInvalid (`kek` opens none of its wrappings: the wrong key), kCorrupt (the file is damaged).
Result<std::shared_ptr<const Secret>> OpenDataKey(const std::filesystem::path& data_dir, const Secret& kek);
// Makes a new data key wrapped under `kek`. Errors: kInternal (one exists, or the file
// cannot be written).
Result<std::shared_ptr<const Secret>> CreateDataKey(const std::filesystem::path& data_dir, const Secret& kek);
// Rotation in two durable steps: the key wrapped under `new_kek` is added beside the wrappings
// `kek` opens; then every wrapping but the one `new_kek` opens is dropped. Errors: those of
// OpenDataKey (with the key each step opens with), kInternal (cannot write the file).
Status AddDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek, const Secret& new_kek);
Status KeepOnlyDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek);

}  // namespace ck::store
