#pragma once
// The data folder's data keys: 32 random bytes that encrypt the database's pages
// (store/sqlite/encrypted_vfs.h), kept in the folder only wrapped (AES-256-GCM) under
// key-encryption keys that live elsewhere (a key file, the environment, a KMS). Rotating the
// key-encryption key rewraps this small file and touches no page; rotating the data key
// (store/sqlite/page_rekey.h) makes a new current key and re-encrypts every page under it.
// The file, <data>/data-key: the line "chartkeeper-data-key 2", then one line per wrapping,
// "<role> <id> base64(nonce | wrapped key | tag)", role "current" (what is written is encrypted
// under it) or "previous" (a data key being rotated out: pages still under it are read with it),
// id 16 hex digits of a hash of the key, so that a process can see whether its key is current. A
// key-encryption key rotation holds each key under both key-encryption keys for a moment, so that
// a crash in the middle leaves a folder that either opens. Version 1 files (base64 lines, no
// role) hold one current key.
// Thread safety: the functions work on the file system, one process changing the file at a
// time; a DataKeyRing is shared by every thread of a process.

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "util/secret.h"
#include "util/status.h"

namespace ck::store {

std::filesystem::path DataKeyPath(const std::filesystem::path& data_dir);
bool HasDataKey(const std::filesystem::path& data_dir);

struct DataKeys {
  std::shared_ptr<const Secret> current;
  std::string current_id;
  std::vector<std::shared_ptr<const Secret>> previous;  // not empty while a data key rotation is under way
};

// The data keys, unwrapped with `kek`. Errors: kNotFound (the folder has no data key),
// kInvalid (`kek` opens none of its wrappings: the wrong key), kCorrupt (the file is damaged).
Result<DataKeys> OpenDataKeys(const std::filesystem::path& data_dir, const Secret& kek);
// Makes a new data key wrapped under `kek`. Errors: kInternal (one exists, or the file
// cannot be written).
Result<std::shared_ptr<const Secret>> CreateDataKey(const std::filesystem::path& data_dir, const Secret& kek);

// Key-encryption key rotation in two durable steps: every key `kek` opens is wrapped under
// `new_kek` too; then every wrapping but those `new_kek` opens is dropped. Errors: those of
// OpenDataKeys (with the key each step opens with), kInternal (cannot write the file).
Status AddDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek, const Secret& new_kek);
Status KeepOnlyDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek);

// Data key rotation, around the re-encryption of every page: Begin makes a new current key and
// keeps the old as previous (when a rotation is under way already, it changes nothing, so that a
// stopped rotation resumes); Finish drops the previous keys, once no page is under them. Errors:
// those of OpenDataKeys; kInvalid (a key-encryption key rotation is unfinished: the file holds
// wrappings `kek` does not open); kInternal.
Status BeginDataKeyRotation(const std::filesystem::path& data_dir, const Secret& kek);
Status FinishDataKeyRotation(const std::filesystem::path& data_dir, const Secret& kek);

// The data keys as a process holds them while the folder is open. When another process rotates
// the data key, the file changes: Refresh reads it again (the encrypting VFS calls it before it
// writes, and when a page does not authenticate under the keys held).
class DataKeyRing {
 public:
  // Where the key-encryption key comes from; called again when the file no longer opens with the
  // one held (it was rotated too).
  using KeyLoader = std::function<Result<std::unique_ptr<Secret>>()>;
  // The folder's keys, unwrapped with the key-encryption key, which is kept (locked in memory)
  // to read the file again. Errors: those of `load_kek` and OpenDataKeys.
  static Result<std::shared_ptr<DataKeyRing>> Open(const std::filesystem::path& data_dir, KeyLoader load_kek);
  // Fixed keys, with no file behind them (a copy being made; tests).
  static std::shared_ptr<DataKeyRing> Of(std::shared_ptr<const Secret> key);

  std::shared_ptr<const DataKeys> keys() const { return keys_.load(); }
  // Reads the file again if it changed since it was read (one stat when it did not). True when
  // the keys changed. Error kUnavailable: the file names a current key this process cannot open
  // (writing under the old one would lose the write after the rotation ends), or cannot be read.
  Result<bool> Refresh();

 private:
  DataKeyRing() = default;
  std::filesystem::path data_dir_;
  KeyLoader load_kek_;
  std::unique_ptr<Secret> kek_;
  std::atomic<std::shared_ptr<const DataKeys>> keys_;
  std::mutex refresh_;
  struct stat seen_ {};
};

}  // namespace ck::store
