#include "store/sqlite/page_rekey.h"

#include <sqlite3.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include "store/sqlite/rekey_journal.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/sqlite_store.h"
#include "util/log.h"

namespace ck::store::sqlite {
namespace {

constexpr std::uint64_t kChunkPages = 256;
constexpr std::chrono::seconds kPatience{60};
constexpr int kMaxPasses = 5;
constexpr int kCheckpointLockSlot = 1;  // SQLite's WAL_CKPT_LOCK among its shared-memory locks

// SQLite's checkpoint lock, taken through the connection's own database file so that SQLite's
// lock bookkeeping sees it; retried while a checkpoint holds it.
class CheckpointLock {
 public:
  static Result<std::unique_ptr<CheckpointLock>> Take(sqlite3_file* file) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      const int rc = file->pMethods->xShmLock(file, kCheckpointLockSlot, 1, SQLITE_SHM_LOCK | SQLITE_SHM_EXCLUSIVE);
      if (rc == SQLITE_OK) return std::unique_ptr<CheckpointLock>(new CheckpointLock(file));
      if (rc != SQLITE_BUSY) return Err(SqliteStatus(rc, "the checkpoint lock"));
      if (std::chrono::steady_clock::now() > give_up) return Err(Status::Unavailable("SQLite's checkpoint lock stayed taken for a minute"));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~CheckpointLock() { file_->pMethods->xShmLock(file_, kCheckpointLockSlot, 1, SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE); }
  CheckpointLock(const CheckpointLock&) = delete;
  CheckpointLock& operator=(const CheckpointLock&) = delete;

 private:
  explicit CheckpointLock(sqlite3_file* file) : file_(file) {}
  sqlite3_file* file_;
};

// The database file opened through the VFS alone, with no connection, so that nothing of it is
// read but what the caller reads (a torn page 1 or schema page would stop a connection before
// the repair); its shared memory is mapped so that SQLite's locks can be taken.
class DatabaseFile {
 public:
  static Result<std::unique_ptr<DatabaseFile>> Open(const std::filesystem::path& path, const EncryptedVfs& encrypted) {
    sqlite3_vfs* vfs = sqlite3_vfs_find(encrypted.name().c_str());
    if (vfs == nullptr) return Err(Status::Internal("the encrypting VFS is not registered"));
    std::unique_ptr<DatabaseFile> out(new DatabaseFile(vfs, path));
    int flags = 0;
    if (const int rc = vfs->xOpen(vfs, out->name_, out->file(), SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READWRITE, &flags); rc != SQLITE_OK) {
      return Err(SqliteStatus(rc, "opening " + path.string()));
    }
    out->open_ = true;
    void volatile* region = nullptr;
    if (const int rc = out->file()->pMethods->xShmMap(out->file(), 0, 32 * 1024, 1, &region); rc != SQLITE_OK) {
      return Err(SqliteStatus(rc, "mapping the shared memory of " + path.string()));
    }
    out->mapped_ = true;
    return out;
  }
  ~DatabaseFile() {
    if (mapped_) file()->pMethods->xShmUnmap(file(), 0);
    if (open_) file()->pMethods->xClose(file());
    sqlite3_free_filename(name_);
  }
  DatabaseFile(const DatabaseFile&) = delete;
  DatabaseFile& operator=(const DatabaseFile&) = delete;
  sqlite3_file* file() { return reinterpret_cast<sqlite3_file*>(storage_.data()); }

 private:
  DatabaseFile(sqlite3_vfs* vfs, const std::filesystem::path& path)
      : name_(sqlite3_create_filename(path.c_str(), (path.string() + "-journal").c_str(), (path.string() + "-wal").c_str(), 0, nullptr)),
        storage_(static_cast<std::size_t>(vfs->szOsFile) / sizeof(std::max_align_t) + 1) {}
  sqlite3_filename name_;
  std::vector<std::max_align_t> storage_;  // the VFS's sqlite3_file, szOsFile bytes
  bool open_ = false;
  bool mapped_ = false;
};

// A connection to the database, its shared memory mapped (so its locks can be taken), and its
// database file.
struct OpenDatabase {
  std::unique_ptr<Connection> connection;
  sqlite3_file* file = nullptr;
};

Result<OpenDatabase> OpenThrough(const std::filesystem::path& data_dir, const EncryptedVfs& vfs) {
  const std::filesystem::path path = SqliteDatabasePath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Err(Status::NotFound("there is no database in " + data_dir.string()));
  OpenDatabase db;
  CK_ASSIGN_OR_RETURN(db.connection, Connection::Open(path, Connection::Mode::kReadWrite, vfs.name()));
  CK_RETURN_IF_ERROR(db.connection->Execute("PRAGMA temp_store = MEMORY; SELECT count(*) FROM sqlite_schema"));
  if (sqlite3_file_control(db.connection->handle(), "main", SQLITE_FCNTL_FILE_POINTER, &db.file) != SQLITE_OK || db.file == nullptr) {
    return Err(Status::Internal("SQLite gave no database file"));
  }
  return db;
}

Result<std::uint64_t> PagesIn(sqlite3_file* file) {
  sqlite3_int64 size = 0;
  if (const int rc = file->pMethods->xFileSize(file, &size); rc != SQLITE_OK) return Err(SqliteStatus(rc, "the database's size"));
  return static_cast<std::uint64_t>(size) / kEncryptedPageSize;
}

Status PutBackTornPages(const std::filesystem::path& data_dir, const EncryptedVfs& vfs, sqlite3_file* file) {
  CK_ASSIGN_OR_RETURN(std::vector<JournalPage> journal, ReadRekeyJournal(data_dir));
  std::vector<unsigned char> stored(kEncryptedPageSize);
  for (const JournalPage& page : journal) {
    const int rc = EncryptedVfs::ReadStoredPage(file, page.number, stored.data());
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return SqliteStatus(rc, "reading a page to repair");
    if (rc == SQLITE_OK && vfs.KeyOfStoredPage(page.number, stored.data()) != EncryptedVfs::PageKey::kNone) continue;
    const auto* copy = reinterpret_cast<const unsigned char*>(page.stored.data());
    if (vfs.KeyOfStoredPage(page.number, copy) == EncryptedVfs::PageKey::kNone) {
      return Status(StatusCode::kCorrupt, "page " + std::to_string(page.number) + " was torn while the data key was rotated, and its copy in " +
                                              RekeyJournalPath(data_dir).string() + " does not authenticate either");
    }
    CK_LOG_WARN("page {} of the database was torn while the data key was rotated; its copy from the rekey journal is put back", page.number);
    if (const int put = EncryptedVfs::WriteStoredPage(file, page.number, copy); put != SQLITE_OK) return SqliteStatus(put, "repairing a torn page");
  }
  if (const int rc = file->pMethods->xSync(file, SQLITE_SYNC_FULL); rc != SQLITE_OK) return SqliteStatus(rc, "syncing the database");
  return RemoveRekeyJournal(data_dir);
}

// Rewrites the pages [first, end) that are not under the current key, journalled.
Status RewriteChunk(const std::filesystem::path& data_dir, const EncryptedVfs& vfs, sqlite3_file* file, std::uint64_t first,
                    std::uint64_t end, RekeyProgress& progress) {
  std::vector<JournalPage> journal;
  std::vector<unsigned char> stored(kEncryptedPageSize);
  for (std::uint64_t page = first; page < end; ++page) {
    if (const int rc = EncryptedVfs::ReadStoredPage(file, page, stored.data()); rc != SQLITE_OK) return SqliteStatus(rc, "reading a page");
    const EncryptedVfs::PageKey key = vfs.KeyOfStoredPage(page, stored.data());
    if (key == EncryptedVfs::PageKey::kCurrent) continue;
    if (key == EncryptedVfs::PageKey::kNone) {
      return Status(StatusCode::kCorrupt, "integrity fault: page " + std::to_string(page) + " of the database authenticates under none of the data keys");
    }
    journal.push_back({page, std::string(stored.begin(), stored.end())});
  }
  progress.checked += end - first;
  if (journal.empty()) return Status::Ok();
  CK_RETURN_IF_ERROR(WriteRekeyJournal(data_dir, journal));
  for (const JournalPage& page : journal) {
    std::memcpy(stored.data(), page.stored.data(), kEncryptedPageSize);
    if (!vfs.Reseal(page.number, stored.data())) return Status::Internal("cannot encrypt page " + std::to_string(page.number));
    if (const int rc = EncryptedVfs::WriteStoredPage(file, page.number, stored.data()); rc != SQLITE_OK) return SqliteStatus(rc, "rewriting a page");
  }
  if (const int rc = file->pMethods->xSync(file, SQLITE_SYNC_FULL); rc != SQLITE_OK) return SqliteStatus(rc, "syncing the database");
  progress.rewritten += journal.size();
  return RemoveRekeyJournal(data_dir);
}

// Checkpoints the whole write-ahead log into the database and truncates it, waiting for readers
// of older snapshots to finish.
Status TruncateLog(Connection& db) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    CK_ASSIGN_OR_RETURN(ScopedStatement checkpoint, db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
    auto row = checkpoint->Step();
    if (row && *row && checkpoint->Int(0) == 0) return Status::Ok();
    if (!row && row.error().code() != StatusCode::kUnavailable) return row.error();
    if (std::chrono::steady_clock::now() > give_up) return Status::Unavailable("the write-ahead log could not be checkpointed whole for a minute");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Status RestoreTornPages(const std::filesystem::path& data_dir, const EncryptedVfs& vfs) {
  std::error_code ec;
  if (!std::filesystem::exists(RekeyJournalPath(data_dir), ec)) return Status::Ok();
  CK_ASSIGN_OR_RETURN(std::unique_ptr<DatabaseFile> database, DatabaseFile::Open(SqliteDatabasePath(data_dir), vfs));
  CK_ASSIGN_OR_RETURN(auto lock, CheckpointLock::Take(database->file()));
  return PutBackTornPages(data_dir, vfs, database->file());
}

Status ReencryptDatabase(const std::filesystem::path& data_dir, std::shared_ptr<DataKeyRing> keys,
                         const std::function<bool(const RekeyProgress&)>& progress) {
  CK_ASSIGN_OR_RETURN(auto vfs, EncryptedVfs::Register(std::move(keys)));
  CK_RETURN_IF_ERROR(RestoreTornPages(data_dir, *vfs));
  CK_ASSIGN_OR_RETURN(OpenDatabase db, OpenThrough(data_dir, *vfs));
  for (int pass = 1; pass <= kMaxPasses; ++pass) {
    RekeyProgress done{.pages = 0, .checked = 0, .rewritten = 0, .pass = pass};
    for (std::uint64_t first = 1;; first += kChunkPages) {
      CK_ASSIGN_OR_RETURN(auto lock, CheckpointLock::Take(db.file));
      CK_ASSIGN_OR_RETURN(done.pages, PagesIn(db.file));
      if (first > done.pages) break;
      CK_RETURN_IF_ERROR(RewriteChunk(data_dir, *vfs, db.file, first, std::min(first + kChunkPages, done.pages + 1), done));
      if (!progress(done)) return Status::Unavailable("the data key rotation was stopped; run it again to resume");
    }
    // Frames written under an older key before every writer took up the new one are
    // checkpointed (under the new key) and the log restarts empty.
    CK_RETURN_IF_ERROR(TruncateLog(*db.connection));
    if (pass > 1 && done.rewritten == 0) return Status::Ok();
  }
  return Status::Unavailable("pages under the old data key were still being written after " + std::to_string(kMaxPasses) +
                             " passes (a process that cannot take up the new key?)");
}

}  // namespace ck::store::sqlite
