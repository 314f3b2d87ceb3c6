#pragma once
// A data folder the chartkeeper binary made, opened from a test the way the binary opens it:
// with the folder's data key when it is encrypted (its key file beside it, cli/encryption_keys.h),
// as a store or as a raw SQLite connection (through the encrypting VFS), for tests that check or
// change what is stored.

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>

#include "cli/encryption_keys.h"
#include "store/data_key.h"
#include "store/sqlite/encrypted_vfs.h"
#include "store/sqlite/sqlite_store.h"

namespace ck::testing {

// The folder's data keys; null for a folder in the clear.
inline std::shared_ptr<store::DataKeyRing> DataKeyOf(const std::filesystem::path& data_dir) {
  if (!store::HasDataKey(data_dir)) return nullptr;
  Config config;
  config.data_dir = data_dir;
  auto key = cli::DataKeyFor(config, cli::NewFolder::kRefuse);
  if (!key) throw std::runtime_error(key.error().ToString());
  return *key;
}

// The folder's store, opened as the binary opens it (a new folder is made encrypted, its key
// file beside it).
inline std::unique_ptr<store::ResourceStore> OpenDataFolder(const std::filesystem::path& data_dir, const Clock& clock) {
  Config config;
  config.data_dir = data_dir;
  auto key = cli::DataKeyFor(config);
  if (!key) throw std::runtime_error(key.error().ToString());
  auto store = store::sqlite::OpenSqliteStore({.data_dir = data_dir, .clock = &clock, .data_keys = *key});
  if (!store) throw std::runtime_error(store.error().ToString());
  return std::move(*store);
}

// A raw connection to the folder's database; closed (and its VFS unregistered) when it goes.
class RawDatabase {
 public:
  explicit RawDatabase(const std::filesystem::path& data_dir, int flags = SQLITE_OPEN_READWRITE) {
    if (auto key = DataKeyOf(data_dir)) {
      auto vfs = store::sqlite::EncryptedVfs::Register(std::move(key));
      if (!vfs) throw std::runtime_error(vfs.error().ToString());
      vfs_ = std::move(*vfs);
    }
    if (sqlite3_open_v2(store::sqlite::SqliteDatabasePath(data_dir).c_str(), &db_, flags, vfs_ ? vfs_->name().c_str() : nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open the database of " + data_dir.string());
    }
    sqlite3_exec(db_, "PRAGMA temp_store = MEMORY", nullptr, nullptr, nullptr);
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  sqlite3* get() const { return db_; }

 private:
  std::unique_ptr<store::sqlite::EncryptedVfs> vfs_;  // outlives the connection
  sqlite3* db_ = nullptr;
};

}  // namespace ck::testing
