#pragma once
// The embedded default backend: one SQLite database file in WAL mode under the data folder.
// One writer thread owns the read-write connection and commits concurrent Write calls in groups
// (one transaction and one fsync per group, a savepoint per operation); readers use a pool of
// read-only connections and never block the writer. Schema migrations run at open
// (PRAGMA user_version; SQL files embedded at build time).
// Thread safety: all methods are safe from any thread.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "store/resource_store.h"
#include "store/data_key.h"
#include "util/secret.h"
#include "util/time.h"

namespace ck::store::sqlite {

struct SqliteOptions {
  std::filesystem::path data_dir;  // created if missing; the database is <data_dir>/chartkeeper.db
  const Clock* clock = nullptr;    // REQUIRES: non-null, outlives the store
  std::size_t max_batch = 512;     // most operations per group commit
  std::string vfs;                 // SQLite VFS name (empty: the default)
  // The data keys (store/data_key.h): the database and its log are encrypted page by page under
  // the current one (store/sqlite/encrypted_vfs.h), above `vfs`. Null: the database is in the
  // clear. A database made one way is refused the other way (kInvalid).
  std::shared_ptr<DataKeyRing> data_keys;
  std::size_t cache_bytes = 256u << 20;  // budget of the current-version cache; 0 disables it
  // SQLite's page cache of each read-only connection: the index and record pages a search
  // probes stay in memory instead of being read from the file again (a read costs a system call
  // and a copy, even from the OS cache). Grows only as pages are read.
  std::size_t reader_cache_bytes = 2u << 20;
  // SQLite's page cache of the writer: a group commit's dirty pages stay in it until the commit
  // instead of being spilled to the WAL and read back (a Synthea patient's transaction touches
  // thousands of index pages; a bulk load's merge far more). A transaction larger still spills.
  std::size_t writer_cache_bytes = 64u << 20;
  std::chrono::milliseconds query_time_limit{10'000};  // reads running longer fail with kTooCostly
  // A bulk load: index rows are staged and become searchable at CompleteIndex (or, after a
  // crash, at the next CompleteIndex); far fewer page writes (store/sqlite/search_index_rows.h).
  bool stage_index = false;
  // Signs the audit trail's seals (store/audit_chain.h) with the audit key: the head at each
  // commit that adds records, and a checkpoint once audit_checkpoint_every records have been
  // added since the last. Empty: no seals (tests of the store alone).
  std::function<Result<std::string>(std::string_view message)> audit_signer;
  std::int64_t audit_checkpoint_every = 1000;
  // Reads only, with no lock on the folder, so a running server's data can be read (verifying
  // the audit trail); writes fail with kUnavailable. The database must exist and need no migration.
  bool read_only = false;
};

// Opens or creates the database and starts the writer, holding an exclusive lock on the data
// folder until the store is destroyed (unless read_only). Errors: kUnavailable (another process holds the folder,
// the folder is on a network file system, WAL mode cannot be used), kInternal (cannot create or
// open the file, a database written by a newer schema version), kInvalid (an encrypted
// database without its key, or the reverse), kCorrupt (a page that fails to authenticate:
// the wrong key, or a changed file);
// read_only: kNotFound when there is no database, kUnavailable when it needs a migration.
Result<std::unique_ptr<ResourceStore>> OpenSqliteStore(SqliteOptions options);

// A consistent copy of the database, made while it is in use (SQLite's online backup in one
// read transaction, through the same VFS, so encrypted with the same data key), written and
// synced to `target` (which must not exist). Uses options.data_dir, data_keys and vfs. Returns the sequence number of the last
// change it holds. Errors: kNotFound (no database), kInvalid (target exists), the store's.
Result<std::int64_t> BackupSqliteDatabase(SqliteOptions options, const std::filesystem::path& target);

// Copies the database of `clear_dir`, in the clear, into a new encrypted database in
// `target_dir` under `data_key` (the source is vacuumed to make the page reserve encryption
// needs, then copied through the encrypting VFS). REQUIRES: no other process writes the source. Errors: kNotFound (no
// database), kInvalid (already encrypted, a page size other than encryption's, target exists),
// the store's.
Status EncryptSqliteDatabase(const std::filesystem::path& clear_dir, const std::filesystem::path& target_dir,
                             std::shared_ptr<const Secret> data_key);

// The database file inside a data folder.
std::filesystem::path SqliteDatabasePath(const std::filesystem::path& data_dir);

}  // namespace ck::store::sqlite
