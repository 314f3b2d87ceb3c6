#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/body_codec.h"
#include "store/version_cache.h"
#include "store/sqlite/sqlite_connection.h"
#include "util/log.h"

namespace ck {
extern const char kSqliteSchemaV1[];
}

namespace ck::store::sqlite {
namespace {

// Migrations in order: entry i brings the schema from version i to i + 1.
const char* const kMigrations[] = {kSqliteSchemaV1};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));
constexpr std::size_t kMaxIdleReaders = 16;

// Built once: statements are cached by their text, so the text must not be rebuilt per call.
const std::string kSelectVersionColumns =
    "SELECT v.seq, t.name, v.id, v.version, v.last_updated, v.change, v.encoding, v.body "
    "FROM resource_version v JOIN resource_type t ON t.type_id = v.type_id ";
const std::string kSelectCurrent = kSelectVersionColumns + "JOIN resource r ON r.seq = v.seq WHERE r.type_id = ? AND r.id = ?";
const std::string kSelectVersion = kSelectVersionColumns + "WHERE v.type_id = ? AND v.id = ? AND v.version = ?";

Result<StoredVersion> ReadVersionRow(const Statement& row) {
  StoredVersion out;
  out.sequence = row.Int(0);
  out.type = row.Text(1);
  out.id = row.Text(2);
  out.version = row.Int(3);
  out.last_updated = row.Int(4);
  out.change = static_cast<ChangeKind>(row.Int(5));
  if (!row.IsNull(7)) {
    CK_ASSIGN_OR_RETURN(out.body, DecodeBody(static_cast<BodyEncoding>(row.Int(6)), row.Text(7)));
  }
  return out;
}

// Resource type names to their small integer ids, shared by the writer and readers.
class TypeIds {
 public:
  std::optional<std::int64_t> Find(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = ids_.find(name);
    return it == ids_.end() ? std::nullopt : std::optional(it->second);
  }
  void Add(const std::string& name, std::int64_t id) {
    std::lock_guard lock(mu_);
    ids_.emplace(name, id);
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> ids_;  // guarded by mu_
};

// Looks a type id up in the cache, then in the database; nullopt if the type has no rows yet.
Result<std::optional<std::int64_t>> LookupTypeId(Connection& db, TypeIds& cache, const std::string& name) {
  if (auto id = cache.Find(name)) return id;
  CK_ASSIGN_OR_RETURN(ScopedStatement select, db.Prepare("SELECT type_id FROM resource_type WHERE name = ?"));
  select->Bind(1, name);
  CK_ASSIGN_OR_RETURN(bool found, select->Step());
  if (!found) return std::optional<std::int64_t>();
  return std::optional(select->Int(0));
}

class SqliteWriteTransaction final : public WriteTransaction {
 public:
  SqliteWriteTransaction(Connection& db, TypeIds& types, const Clock& clock, Millis& last_time)
      : db_(db), types_(types), clock_(clock), last_time_(last_time) {}

  Result<std::optional<CurrentVersion>> Current(const std::string& type, const std::string& id) override {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, LookupTypeId(db_, types_, type));
    if (!type_id) return std::optional<CurrentVersion>();
    CK_ASSIGN_OR_RETURN(ScopedStatement select, db_.Prepare("SELECT version, deleted FROM resource WHERE type_id = ? AND id = ?"));
    select->Bind(1, *type_id).Bind(2, id);
    CK_ASSIGN_OR_RETURN(bool found, select->Step());
    if (!found) return std::optional<CurrentVersion>();
    return std::optional(CurrentVersion{select->Int(0), select->Int(1) != 0});
  }

  Millis Now() override {
    last_time_ = std::max(last_time_, clock_.Now());
    return last_time_;
  }

  Result<std::int64_t> Append(const StoredVersion& version) override {
    CK_ASSIGN_OR_RETURN(std::int64_t type_id, EnsureTypeId(version.type));
    EncodedBody body = EncodeBody(version.body);
    CK_ASSIGN_OR_RETURN(ScopedStatement insert, db_.Prepare(
        "INSERT INTO resource_version (type_id, id, version, last_updated, change, encoding, body) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    insert->Bind(1, type_id).Bind(2, version.id).Bind(3, version.version).Bind(4, Now());
    insert->Bind(5, static_cast<std::int64_t>(version.change)).Bind(6, static_cast<std::int64_t>(body.encoding));
    if (version.deleted()) {
      insert->BindNull(7);
    } else {
      insert->BindBlob(7, body.bytes);
    }
    CK_RETURN_IF_ERROR(insert->Run());
    std::int64_t seq = db_.LastInsertRowId();
    CK_ASSIGN_OR_RETURN(ScopedStatement upsert, db_.Prepare(
        "INSERT INTO resource (type_id, id, version, deleted, seq) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (type_id, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, seq = excluded.seq"));
    upsert->Bind(1, type_id).Bind(2, version.id).Bind(3, version.version).Bind(4, version.deleted() ? 1 : 0).Bind(5, seq);
    CK_RETURN_IF_ERROR(upsert->Run());
    StoredVersion& appended = appended_.emplace_back(version);
    appended.sequence = seq;
    appended.last_updated = last_time_;
    return seq;
  }

  // Type rows inserted in this transaction; published to the shared cache only after commit.
  std::vector<std::pair<std::string, std::int64_t>>& new_types() { return new_types_; }
  // Versions appended in this transaction; they become the version cache's after commit.
  std::vector<StoredVersion>& appended() { return appended_; }

 private:
  Result<std::int64_t> EnsureTypeId(const std::string& name) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> existing, LookupTypeId(db_, types_, name));
    if (existing) return *existing;
    CK_ASSIGN_OR_RETURN(ScopedStatement insert, db_.Prepare("INSERT INTO resource_type (name) VALUES (?)"));
    insert->Bind(1, name);
    CK_RETURN_IF_ERROR(insert->Run());
    new_types_.emplace_back(name, db_.LastInsertRowId());
    return db_.LastInsertRowId();
  }

  Connection& db_;
  TypeIds& types_;
  const Clock& clock_;
  Millis& last_time_;
  std::vector<std::pair<std::string, std::int64_t>> new_types_;
  std::vector<StoredVersion> appended_;
};

// An exclusive lock on the data folder, held for the store's lifetime: one process at a time
// (the version cache is per process, so a second writer would make it stale). Released by the
// kernel if the process dies.
class FolderLock {
 public:
  static Result<std::unique_ptr<FolderLock>> Acquire(const std::filesystem::path& data_dir) {
    std::string path = (data_dir / "chartkeeper.lock").string();
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Err(Status::Internal("cannot create the lock file").WithDetail(path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Err(Status::Unavailable("another Chartkeeper process (a server or an import) is using " + data_dir.string() +
                                     "; stop it first, or send the data to the running server over REST"));
    }
    return std::unique_ptr<FolderLock>(new FolderLock(fd));
  }
  ~FolderLock() { ::close(fd_); }

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_;
};

class SqliteStore final : public ResourceStore {
 public:
  SqliteStore(SqliteOptions options, std::unique_ptr<FolderLock> lock, std::unique_ptr<Connection> writer)
      : options_(std::move(options)),
        lock_(std::move(lock)),
        writer_(std::move(writer)),
        cache_(options_.cache_bytes),
        writer_thread_([this] { WriterLoop(); }) {}

  ~SqliteStore() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_thread_.join();
  }

  Status Write(WriteOperation operation) override {
    std::promise<Status> done;
    std::future<Status> result = done.get_future();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Status::Unavailable("the server is shutting down");
      queue_.push_back({std::move(operation), std::move(done)});
    }
    queue_cv_.notify_one();
    return result.get();
  }

  Result<std::optional<StoredVersion>> ReadCurrent(const std::string& type, const std::string& id) override {
    if (auto cached = cache_.Get(type, id)) return cached;
    std::uint64_t ticket = cache_.Ticket(type, id);
    CK_ASSIGN_OR_RETURN(std::optional<StoredVersion> found, ReadOne(type, kSelectCurrent, id, std::nullopt));
    if (found) cache_.Offer(*found, ticket);
    return found;
  }

  Result<std::optional<StoredVersion>> ReadVersion(const std::string& type, const std::string& id,
                                                   std::int64_t version) override {
    return ReadOne(type, kSelectVersion, id, version);
  }

  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<StoreStats> Stats() override;

 private:
  struct Pending {
    WriteOperation operation;
    std::promise<Status> done;
  };

  // A read-only connection borrowed from the pool for one call.
  class Reader {
   public:
    Reader(SqliteStore& store, std::unique_ptr<Connection> db) : store_(store), db_(std::move(db)) {}
    ~Reader() {
      std::lock_guard lock(store_.readers_mu_);
      if (store_.idle_readers_.size() < kMaxIdleReaders) store_.idle_readers_.push_back(std::move(db_));
    }
    Connection& operator*() { return *db_; }
    Connection* operator->() { return db_.get(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<Connection> db_;
  };

  Result<std::unique_ptr<Reader>> BorrowReader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!idle_readers_.empty()) {
        auto db = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return std::make_unique<Reader>(*this, std::move(db));
      }
    }
    CK_ASSIGN_OR_RETURN(auto db, Connection::Open(SqliteDatabasePath(options_.data_dir), Connection::Mode::kReadOnly, options_.vfs));
    return std::make_unique<Reader>(*this, std::move(db));
  }

  Result<std::optional<StoredVersion>> ReadOne(const std::string& type, const std::string& sql, const std::string& id,
                                               std::optional<std::int64_t> version) {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, LookupTypeId(**reader, types_, type));
    if (!type_id) return std::optional<StoredVersion>();
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare(sql));
    select->Bind(1, *type_id).Bind(2, id);
    if (version) select->Bind(3, *version);
    CK_ASSIGN_OR_RETURN(bool found, select->Step());
    if (!found) return std::optional<StoredVersion>();
    CK_ASSIGN_OR_RETURN(StoredVersion out, ReadVersionRow(*select));
    return std::optional(std::move(out));
  }

  void WriterLoop();
  void CommitBatch(std::vector<Pending>& batch);

  const SqliteOptions options_;
  std::unique_ptr<FolderLock> lock_;
  std::unique_ptr<Connection> writer_;  // used by the writer thread only
  TypeIds types_;
  VersionCache cache_;
  Millis last_time_ = 0;  // writer thread only

  std::mutex mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::atomic<std::int64_t> committed_operations_{0};
  std::atomic<std::int64_t> commits_{0};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mu_

  std::thread writer_thread_;  // last: starts after everything it uses
};

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void SqliteStore::CommitBatch(std::vector<Pending>& batch) {
  std::vector<Status> results(batch.size());
  Status begun = writer_->Execute("BEGIN IMMEDIATE");
  SqliteWriteTransaction txn(*writer_, types_, *options_.clock, last_time_);
  std::size_t succeeded = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!begun.ok()) {
      results[i] = begun;
      continue;
    }
    Status savepoint = writer_->Execute("SAVEPOINT op");
    if (!savepoint.ok()) {
      results[i] = savepoint;
      continue;
    }
    std::size_t types_before = txn.new_types().size();
    std::size_t appended_before = txn.appended().size();
    try {
      results[i] = batch[i].operation(txn);
    } catch (const std::exception& e) {
      results[i] = Status::Internal("write failed").WithDetail(e.what());
    }
    if (results[i].ok()) {
      ++succeeded;
    } else {
      (void)writer_->Execute("ROLLBACK TO op");
      txn.new_types().resize(types_before);
      txn.appended().resize(appended_before);
    }
    (void)writer_->Execute("RELEASE op");
  }
  if (begun.ok()) {
    // Readers go to the database for these resources until the commit's outcome is known.
    for (const StoredVersion& version : txn.appended()) cache_.Committing(version);
    Status committed = writer_->Execute("COMMIT");
    if (committed.ok()) {
      for (const auto& [name, id] : txn.new_types()) types_.Add(name, id);
      for (const StoredVersion& version : txn.appended()) cache_.Committed(version);  // before anyone is answered
      committed_operations_ += static_cast<std::int64_t>(succeeded);
      ++commits_;
    } else {
      CK_LOG_ERROR("group commit failed: {}", committed.ToString());
      (void)writer_->Execute("ROLLBACK");
      for (const StoredVersion& version : txn.appended()) cache_.Abandoned(version);
      for (Status& r : results) {
        if (r.ok()) r = committed;
      }
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
}

Result<HistoryPage> SqliteStore::History(const HistoryQuery& query) {
  CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
  Connection& db = **reader;
  CK_RETURN_IF_ERROR(db.Execute("BEGIN"));  // one snapshot for the count and the page
  struct EndRead {
    Connection& db;
    ~EndRead() { (void)db.Execute("COMMIT"); }
  } end_read{db};

  HistoryPage page;
  page.snapshot = query.snapshot;
  if (page.snapshot == 0) {
    CK_ASSIGN_OR_RETURN(ScopedStatement max_seq, db.Prepare("SELECT coalesce(max(seq), 0) FROM resource_version"));
    CK_ASSIGN_OR_RETURN(bool row, max_seq->Step());
    page.snapshot = row ? max_seq->Int(0) : 0;
  }
  std::optional<std::int64_t> type_id;
  if (!query.type.empty()) {
    CK_ASSIGN_OR_RETURN(type_id, LookupTypeId(db, types_, query.type));
    if (!type_id) return page;
  }
  // Scope of the query, applied to the versions (v) and, for _at, to the earlier versions (w).
  auto scope = [&](const char* alias) {
    std::string s;
    if (type_id) s += std::string(" AND ") + alias + ".type_id = :type";
    if (!query.id.empty()) s += std::string(" AND ") + alias + ".id = :id";
    return s;
  };
  std::string where = " WHERE v.seq <= :snapshot" + scope("v");
  if (query.since) where += " AND v.last_updated >= :since";
  if (query.at) {
    where += " AND ((v.last_updated >= :at_start AND v.last_updated < :at_end) OR v.seq IN (SELECT max(w.seq) FROM resource_version w "
             "WHERE w.seq <= :snapshot AND w.last_updated < :at_start" + scope("w") + " GROUP BY w.type_id, w.id))";
  }
  auto bind_all = [&](Statement& s) {
    s.BindNamed(":snapshot", page.snapshot);
    if (type_id) s.BindNamed(":type", *type_id);
    if (!query.id.empty()) s.BindNamed(":id", query.id);
    if (query.since) s.BindNamed(":since", *query.since);
    if (query.at) s.BindNamed(":at_start", query.at->start).BindNamed(":at_end", query.at->end);
  };

  std::string count_sql = "SELECT count(*) FROM resource_version v" + where;
  CK_ASSIGN_OR_RETURN(ScopedStatement count, db.Prepare(count_sql));
  bind_all(*count);
  CK_ASSIGN_OR_RETURN(bool counted, count->Step());
  page.total = counted ? count->Int(0) : 0;

  std::string page_sql = kSelectVersionColumns + where + " ORDER BY v.seq DESC LIMIT :limit OFFSET :offset";
  CK_ASSIGN_OR_RETURN(ScopedStatement select, db.Prepare(page_sql));
  bind_all(*select);
  select->BindNamed(":limit", static_cast<std::int64_t>(query.count)).BindNamed(":offset", static_cast<std::int64_t>(query.offset));
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) break;
    CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(*select));
    page.versions.push_back(std::move(version));
  }
  return page;
}

Result<StoreStats> SqliteStore::Stats() {
  StoreStats stats;
  std::error_code ec;
  std::filesystem::path file = SqliteDatabasePath(options_.data_dir);
  for (const auto& path : {file, std::filesystem::path(file.string() + "-wal")}) {
    auto size = std::filesystem::file_size(path, ec);
    if (!ec) stats.database_bytes += static_cast<std::int64_t>(size);
  }
  stats.committed_operations = committed_operations_;
  stats.commits = commits_;
  return stats;
}

Status Migrate(Connection& db) {
  CK_ASSIGN_OR_RETURN(ScopedStatement version_query, db.Prepare("PRAGMA user_version"));
  CK_ASSIGN_OR_RETURN(bool row, version_query->Step());
  int version = row ? static_cast<int>(version_query->Int(0)) : 0;
  version_query->Reset();  // before the migration transaction starts
  if (version > kSchemaVersion) {
    return Status::Internal("the database was written by a newer Chartkeeper")
        .WithDetail("schema version " + std::to_string(version) + ", this build knows " + std::to_string(kSchemaVersion));
  }
  for (; version < kSchemaVersion; ++version) {
    CK_RETURN_IF_ERROR(db.Execute("BEGIN IMMEDIATE"));
    Status applied = db.Execute(kMigrations[version]);
    if (applied.ok()) applied = db.Execute("PRAGMA user_version = " + std::to_string(version + 1));
    if (!applied.ok()) {
      (void)db.Execute("ROLLBACK");
      return applied;
    }
    CK_RETURN_IF_ERROR(db.Execute("COMMIT"));
    CK_LOG_INFO("database schema migrated to version {}", version + 1);
  }
  return Status::Ok();
}

}  // namespace

std::filesystem::path SqliteDatabasePath(const std::filesystem::path& data_dir) { return data_dir / "chartkeeper.db"; }

Result<std::unique_ptr<ResourceStore>> OpenSqliteStore(const SqliteOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Err(Status::Internal("cannot create the data folder").WithDetail(options.data_dir.string() + ": " + ec.message()));
  CK_ASSIGN_OR_RETURN(auto lock, FolderLock::Acquire(options.data_dir));
  CK_ASSIGN_OR_RETURN(auto writer, Connection::Open(SqliteDatabasePath(options.data_dir), Connection::Mode::kReadWrite, options.vfs));
  CK_RETURN_IF_ERROR(writer->Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));
  CK_RETURN_IF_ERROR(Migrate(*writer));
  return std::unique_ptr<ResourceStore>(new SqliteStore(options, std::move(lock), std::move(writer)));
}

}  // namespace ck::store::sqlite
