#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "store/audit_chain.h"
#include "store/body_codec.h"
#include "store/version_cache.h"
#include "store/sqlite/encrypted_vfs.h"
#include "store/sqlite/page_rekey.h"
#include "store/sqlite/sqlite_connection.h"
#include "store/sqlite/search_index_rows.h"
#include "store/sqlite/name_ids.h"
#include "store/sqlite/sqlite_search.h"
#include "store/sqlite/version_rows.h"
#include "store/sqlite/wal_checkpointer.h"
#include "util/log.h"

namespace ck {
extern const char kSqliteSchemaV1[];
extern const char kSqliteSchemaV2[];
extern const char kSqliteSchemaV3[];
extern const char kSqliteSchemaV4[];
extern const char kSqliteSchemaV5[];
extern const char kSqliteSchemaV6[];
extern const char kSqliteSchemaV7[];
extern const char kSqliteSchemaV8[];
extern const char kSqliteSchemaV9[];
extern const char kSqliteSchemaV10[];
extern const char kSqliteSchemaV11[];
extern const char kSqliteSchemaV12[];
}

namespace ck::store::sqlite {
namespace {

// Migrations in order: entry i brings the schema from version i to i + 1.
const char* const kMigrations[] = {kSqliteSchemaV1, kSqliteSchemaV2, kSqliteSchemaV3, kSqliteSchemaV4, kSqliteSchemaV5, kSqliteSchemaV6,
                                     kSqliteSchemaV7, kSqliteSchemaV8, kSqliteSchemaV9, kSqliteSchemaV10,
                                     kSqliteSchemaV11, kSqliteSchemaV12};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));
constexpr std::size_t kMaxIdleReaders = 16;
// How many records' links wait in audit_link_recent before the oldest move to audit_link_run
// (searches scan the recent ones), and at most how many rows move in one transaction, as one run
// (whole records; a record of more, alone): a bounded step, so that the commit that carries it
// does not hold up the writes and audited reads queued behind it (a search's record has a row per
// resource returned: a page of $everything, a thousand).
constexpr std::int64_t kAuditLinksWaiting = 4096;
constexpr std::int64_t kAuditLinkRowsMovedTogether = 4096;

// Built once: statements are cached by their text, so the text must not be rebuilt per call.
const std::string kSelectCurrent = std::string(kSelectVersionColumns) + "JOIN resource r ON r.seq = v.seq WHERE r.type_id = ? AND r.id = ?";
const std::string kSelectVersion = std::string(kSelectVersionColumns) + "WHERE v.type_id = ? AND v.id = ? AND v.version = ?";
const std::string kScanCurrent =
    std::string(kSelectVersionColumns) + "JOIN resource r ON r.seq = v.seq WHERE r.type_id = ? AND r.id > ? AND r.deleted = 0 ORDER BY r.id LIMIT ?";

Result<std::optional<std::string>> ReadMetaValue(Connection& db, const std::string& key) {
  CK_ASSIGN_OR_RETURN(ScopedStatement select, db.Prepare("SELECT value FROM store_meta WHERE key = ?"));
  select->Bind(1, key);
  CK_ASSIGN_OR_RETURN(bool found, select->Step());
  if (!found) return std::optional<std::string>();
  return std::optional(std::string(select->Text(0)));
}

Result<std::vector<AuditRecord>> AuditRows(Statement& select) {
  std::vector<AuditRecord> out;
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return out;
    out.push_back({select.Int(0), select.Int(1), std::string(select.Text(2)), std::string(select.Text(3))});
  }
}

Result<std::vector<AuditSeal>> SealRows(Statement& select) {
  std::vector<AuditSeal> out;
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return out;
    out.push_back({select.Int(0), std::string(select.Text(1)), select.Int(2), std::string(select.Text(3))});
  }
}

class SqliteWriteTransaction final : public WriteTransaction {
 public:
  SqliteWriteTransaction(Connection& db, NameIds& types, NameIds& params, const Clock& clock, Millis& last_time, bool& clock_behind,
                         bool stage_index, const std::optional<AuditSeal>& committed_audit_head)
      : db_(db), types_(types), params_(params), clock_(clock), last_time_(last_time), clock_behind_(clock_behind),
        stage_index_(stage_index), committed_audit_head_(committed_audit_head) {}

  Result<std::optional<CurrentVersion>> Current(const std::string& type, const std::string& id) override {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(db_, type));
    if (!type_id) return std::optional<CurrentVersion>();
    CK_ASSIGN_OR_RETURN(ScopedStatement select, db_.Prepare("SELECT version, deleted FROM resource WHERE type_id = ? AND id = ?"));
    select->Bind(1, *type_id).Bind(2, id);
    CK_ASSIGN_OR_RETURN(bool found, select->Step());
    if (!found) return std::optional<CurrentVersion>();
    return std::optional(CurrentVersion{select->Int(0), select->Int(1) != 0});
  }

  // One time per operation: every call of Now() and every Append of the operation use it.
  Millis Now() override {
    if (!operation_time_) {
      const Millis now = clock_.Now();
      // A clock stepped back (NTP, a restored VM): versions keep the newest time until it catches
      // up; said once per episode.
      constexpr Millis kTolerance = 1000;
      if (now + kTolerance < last_time_ && !clock_behind_) {
        CK_LOG_WARN("the system clock is {} ms behind the newest transaction time; new versions take that time "
                    "until the clock catches up",
                    last_time_ - now);
      }
      clock_behind_ = now + kTolerance < last_time_;
      last_time_ = std::max(last_time_, now);
      operation_time_ = last_time_;
    }
    return *operation_time_;
  }

  Result<std::int64_t> Append(const StoredVersion& version, const search::IndexEntries& index) override {
    if (version.body.size() > kMaxStoredBodyBytes) {
      return Err(Status(StatusCode::kTooLarge, "the resource is larger than the store accepts (" +
                                                   std::to_string(kMaxStoredBodyBytes >> 20) + " MiB)"));
    }
    bool new_type = false;
    CK_ASSIGN_OR_RETURN(std::int64_t type_id, types_.Ensure(db_, version.type, new_type));
    if (new_type) new_types_.emplace_back(version.type, type_id);
    CK_ASSIGN_OR_RETURN(std::optional<CurrentRow> replaced, CurrentRowOf(type_id, version.id));
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
    // A new resource's number (rid) is the seq of its first version; it never changes.
    CK_ASSIGN_OR_RETURN(ScopedStatement upsert, db_.Prepare(
        "INSERT INTO resource (type_id, id, version, deleted, seq, rid) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (type_id, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, seq = excluded.seq"));
    upsert->Bind(1, type_id).Bind(2, version.id).Bind(3, version.version).Bind(4, version.deleted() ? 1 : 0).Bind(5, seq).Bind(6, seq);
    CK_RETURN_IF_ERROR(upsert->Run());
    // The search index follows the current version.
    const std::int64_t rid = replaced ? replaced->rid : seq;
    if (replaced) CK_RETURN_IF_ERROR(RemoveIndexRows(db_, rid));
    if (!version.deleted()) CK_RETURN_IF_ERROR(InsertIndexRows(db_, Names(), {type_id, rid, seq}, index, stage_index_));
    if (!version.issues.empty()) {
      EncodedBody issues = EncodeBody(version.issues);
      CK_ASSIGN_OR_RETURN(ScopedStatement record, db_.Prepare("INSERT INTO version_issues (seq, encoding, issues) VALUES (?, ?, ?)"));
      record->Bind(1, seq).Bind(2, static_cast<std::int64_t>(issues.encoding)).BindBlob(3, issues.bytes);
      CK_RETURN_IF_ERROR(record->Run());
    }
    StoredVersion& appended = appended_.emplace_back(version);
    appended.sequence = seq;
    appended.last_updated = Now();
    return seq;
  }

  Result<bool> ReplaceIndex(const std::string& type, const std::string& id, std::int64_t sequence,
                            const search::IndexEntries& index) override {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(db_, type));
    if (!type_id) return false;
    CK_ASSIGN_OR_RETURN(std::optional<CurrentRow> current, CurrentRowOf(*type_id, id));
    if (!current || current->seq != sequence) return false;
    CK_RETURN_IF_ERROR(RemoveIndexRows(db_, current->rid));
    CK_RETURN_IF_ERROR(InsertIndexRows(db_, Names(), {*type_id, current->rid, current->seq}, index, stage_index_));
    return true;
  }

  Result<bool> ReplaceParameterIndex(const std::string& type, const std::string& id, std::int64_t sequence,
                                     const std::string& param_url, const search::IndexEntries& index) override {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(db_, type));
    if (!type_id) return false;
    CK_ASSIGN_OR_RETURN(std::optional<CurrentRow> current, CurrentRowOf(*type_id, id));
    if (!current || current->seq != sequence) return false;
    CK_RETURN_IF_ERROR(ReplaceParameterRows(db_, Names(), {*type_id, current->rid, current->seq}, param_url, index));
    return true;
  }

  Result<SearchPage> Search(const search::SearchQuery& query) override { return RunSearch(db_, types_, params_, query); }

  // One seek of search_reference's key (source type, parameter, target id) per parameter.
  Result<std::vector<std::string>> Referrers(const std::string& type, const std::string& id,
                                             const std::vector<std::pair<std::string, std::string>>& params,
                                             std::size_t limit) override {
    std::vector<std::string> out;
    for (const auto& [source_type, url] : params) {
      if (out.size() >= limit) break;
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(db_, source_type));
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params_.Lookup(db_, url));
      if (!type_id || !param_id) continue;
      CK_ASSIGN_OR_RETURN(ScopedStatement select,
                          db_.Prepare("SELECT DISTINCT r.id FROM search_reference s JOIN resource r ON r.type_id = s.type_id AND r.rid = s.rid "
                                      "WHERE s.type_id = ? AND s.param_id = ? AND s.target_id = ? AND s.target_type = ? AND r.deleted = 0 "
                                      "LIMIT ?"));
      select->Bind(1, *type_id).Bind(2, *param_id).Bind(3, id).Bind(4, type).Bind(5, static_cast<std::int64_t>(limit));
      while (out.size() < limit) {
        CK_ASSIGN_OR_RETURN(bool row, select->Step());
        if (!row) break;
        std::string referrer = source_type + "/" + std::string(select->Text(0));
        if (std::find(out.begin(), out.end(), referrer) == out.end()) out.push_back(std::move(referrer));
      }
    }
    return out;
  }

  Result<std::optional<std::string>> ReadMeta(const std::string& key) override { return ReadMetaValue(db_, key); }

  Result<std::int64_t> AppendAudit(std::string_view content, const AuditLinks& links) override {
    // The record before: this transaction's last, or the last committed (kept by the store once
    // read), or the database's.
    AuditSeal head{0, std::string(kAuditGenesisHash), Now(), ""};
    if (audit_head_) {
      head = {audit_head_->sequence, audit_head_->hash, head.time, ""};
    } else if (committed_audit_head_) {
      head = {committed_audit_head_->sequence, committed_audit_head_->hash, head.time, ""};
    } else {
      CK_ASSIGN_OR_RETURN(ScopedStatement last, db_.Prepare("SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1"));
      CK_ASSIGN_OR_RETURN(bool found, last->Step());
      if (found) head = {last->Int(0), std::string(last->Text(1)), head.time, ""};
    }
    head.hash = AuditChainHash(head.hash, ++head.sequence, head.time, content);
    CK_ASSIGN_OR_RETURN(ScopedStatement insert, db_.Prepare("INSERT INTO audit_record (seq, time, content, hash) VALUES (?, ?, ?, ?)"));
    insert->Bind(1, head.sequence).Bind(2, head.time).Bind(3, content).Bind(4, head.hash);
    CK_RETURN_IF_ERROR(insert->Run());
    CK_ASSIGN_OR_RETURN(ScopedStatement link, db_.Prepare("INSERT OR IGNORE INTO audit_link_recent (seq, kind, value) VALUES (?, ?, ?)"));
    std::int64_t kind = 0;
    for (const std::vector<std::string>* values : {&links.patients, &links.agents, &links.entities}) {
      ++kind;
      for (const std::string& value : *values) {
        link->Bind(1, head.sequence).Bind(2, kind).Bind(3, value);
        CK_RETURN_IF_ERROR(link->Run());
        link->Reset();
      }
    }
    audit_head_ = head;
    return head.sequence;
  }

  Result<ReferenceTargetIds> ReferenceTargets(const std::string& type, const std::string& id,
                                              const std::vector<std::string>& param_urls, const std::string& target_type) override {
    ReferenceTargetIds out;
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(db_, type));
    if (!type_id) return out;
    CK_ASSIGN_OR_RETURN(std::optional<CurrentRow> current, CurrentRowOf(*type_id, id));
    if (!current) return out;
    out.sequence = current->seq;
    // One look-up of the resource's rows (search_reference_by_rid) for every parameter.
    std::vector<std::int64_t> param_ids;
    for (const std::string& url : param_urls) {
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params_.Lookup(db_, url));
      if (param_id) param_ids.push_back(*param_id);
    }
    if (param_ids.empty()) return out;
    std::string sql = "SELECT target_id FROM search_reference WHERE rid = ? AND target_type = ? AND url = '' AND param_id IN (?";
    for (std::size_t i = 1; i < param_ids.size(); ++i) sql += ", ?";
    CK_ASSIGN_OR_RETURN(ScopedStatement select, db_.Prepare(sql + ")"));
    select->Bind(1, current->rid).Bind(2, target_type);
    for (std::size_t i = 0; i < param_ids.size(); ++i) select->Bind(static_cast<int>(i + 3), param_ids[i]);
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, select->Step());
      if (!row) break;
      std::string target(select->Text(0));
      if (std::find(out.ids.begin(), out.ids.end(), target) == out.ids.end()) out.ids.push_back(std::move(target));
    }
    return out;
  }

  // If this transaction added audit records: signs the trail's head, and a checkpoint when one is
  // due, and moves the recent links when enough wait. The last step before COMMIT.
  Status FinishAudit(const SqliteOptions& options) {
    if (!audit_head_) return Status::Ok();
    if (options.audit_signer) CK_RETURN_IF_ERROR(SealAudit(options));
    return MoveRecentAuditLinks(audit_head_->sequence);
  }
  Status SealAudit(const SqliteOptions& options) {
    AuditSeal seal = *audit_head_;
    CK_ASSIGN_OR_RETURN(seal.signature, options.audit_signer(AuditSealMessage(SealKind::kHead, seal)));
    CK_ASSIGN_OR_RETURN(ScopedStatement head, db_.Prepare("INSERT OR REPLACE INTO audit_head (one, seq, hash, time, signature) "
                                                          "VALUES (1, ?, ?, ?, ?)"));
    head->Bind(1, seal.sequence).Bind(2, seal.hash).Bind(3, seal.time).BindBlob(4, seal.signature);
    CK_RETURN_IF_ERROR(head->Run());
    std::int64_t last_checkpoint = 0;
    {
      CK_ASSIGN_OR_RETURN(ScopedStatement last, db_.Prepare("SELECT coalesce(max(seq), 0) FROM audit_checkpoint"));
      CK_ASSIGN_OR_RETURN(bool found, last->Step());
      if (found) last_checkpoint = last->Int(0);
    }
    if (seal.sequence - last_checkpoint >= std::max<std::int64_t>(options.audit_checkpoint_every, 1)) {
      CK_ASSIGN_OR_RETURN(seal.signature, options.audit_signer(AuditSealMessage(SealKind::kCheckpoint, seal)));
      CK_ASSIGN_OR_RETURN(ScopedStatement checkpoint,
                          db_.Prepare("INSERT INTO audit_checkpoint (seq, hash, time, signature) VALUES (?, ?, ?, ?)"));
      checkpoint->Bind(1, seal.sequence).Bind(2, seal.hash).Bind(3, seal.time).BindBlob(4, seal.signature);
      CK_RETURN_IF_ERROR(checkpoint->Run());
    }
    return Status::Ok();
  }

  Status WriteMeta(const std::string& key, const std::optional<std::string>& value) override {
    CK_ASSIGN_OR_RETURN(ScopedStatement write, db_.Prepare(value ? "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                                                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                                                             : "DELETE FROM store_meta WHERE key = ?"));
    write->Bind(1, key);
    if (value) write->Bind(2, *value);
    return write->Run();
  }

  // Moves the rows of audit_link_recent's oldest records, at most kAuditLinkRowsMovedTogether,
  // to audit_link_run (schema_v12.sql) as one run once it spans kAuditLinksWaiting records. The
  // run is numbered by its first record, after every earlier run, so its rows are appended at
  // the table's end.
  Status MoveRecentAuditLinks(std::int64_t head) {
    std::int64_t first = 0;  // the records from it up to end move
    std::int64_t end = 0;
    {
      CK_ASSIGN_OR_RETURN(ScopedStatement oldest, db_.Prepare("SELECT seq FROM audit_link_recent ORDER BY seq LIMIT 1"));
      CK_ASSIGN_OR_RETURN(bool any, oldest->Step());
      if (!any || head - oldest->Int(0) + 1 < kAuditLinksWaiting) return Status::Ok();
      CK_ASSIGN_OR_RETURN(ScopedStatement past, db_.Prepare("SELECT seq FROM audit_link_recent ORDER BY seq LIMIT 1 OFFSET ?"));
      past->Bind(1, kAuditLinkRowsMovedTogether);
      CK_ASSIGN_OR_RETURN(bool more, past->Step());
      first = oldest->Int(0);
      end = !more ? head + 1 : std::max(past->Int(0), first + 1);
    }
    CK_ASSIGN_OR_RETURN(ScopedStatement move, db_.Prepare("INSERT INTO audit_link_run (run, kind, value, seq) SELECT ?, kind, value, seq "
                                                          "FROM audit_link_recent WHERE seq < ? ORDER BY kind, value, seq"));
    move->Bind(1, first).Bind(2, end);
    CK_RETURN_IF_ERROR(move->Run());
    CK_ASSIGN_OR_RETURN(ScopedStatement moved, db_.Prepare("DELETE FROM audit_link_recent WHERE seq < ?"));
    moved->Bind(1, end);
    return moved->Run();
  }

  // Marks where the next operation starts: it gets its own time, and Forget drops what it adds.
  struct Mark {
    std::size_t types;
    std::size_t params;
    std::size_t appended;
    std::optional<AuditSeal> audit_head;
  };
  Mark BeginOperation() {
    operation_time_.reset();
    return {new_types_.size(), new_params_.size(), appended_.size(), audit_head_};
  }
  // Drops what was added since `mark` (the operation was rolled back).
  void Forget(Mark mark) {
    new_types_.resize(mark.types);
    new_params_.resize(mark.params);
    appended_.resize(mark.appended);
    audit_head_ = std::move(mark.audit_head);
  }

  // Type and search parameter rows inserted in this transaction; published to the shared caches
  // only after commit.
  void PublishNames() {
    for (const auto& [name, id] : new_types_) types_.Publish(name, id);
    for (const auto& [url, id] : new_params_) params_.Publish(url, id);
  }
  // Moves one index table's staged rows into it (search_index_rows.h): how many; 0 when done.
  Result<std::int64_t> MergeStaged() { return MergeStagedRows(db_); }
  // Versions appended in this transaction; they become the version cache's after commit.
  const std::vector<StoredVersion>& appended() const { return appended_; }
  // The last audit record this transaction appended, if any.
  const std::optional<AuditSeal>& audit_head() const { return audit_head_; }

 private:
  struct CurrentRow {
    std::int64_t seq;  // the current version's
    std::int64_t rid;  // the resource's number
  };
  WriteNames Names() { return {types_, params_, new_types_, new_params_}; }
  // The current version of (type, id), or nullopt for a new resource.
  Result<std::optional<CurrentRow>> CurrentRowOf(std::int64_t type_id, const std::string& id) {
    CK_ASSIGN_OR_RETURN(ScopedStatement select, db_.Prepare("SELECT seq, rid FROM resource WHERE type_id = ? AND id = ?"));
    select->Bind(1, type_id).Bind(2, id);
    CK_ASSIGN_OR_RETURN(bool found, select->Step());
    if (!found) return std::optional<CurrentRow>();
    return std::optional(CurrentRow{select->Int(0), select->Int(1)});
  }

  Connection& db_;
  NameIds& types_;
  NameIds& params_;
  const Clock& clock_;
  Millis& last_time_;
  bool& clock_behind_;
  const bool stage_index_;
  const std::optional<AuditSeal>& committed_audit_head_;  // the store's: the last record committed, once known
  std::optional<Millis> operation_time_;
  NewNames new_types_;
  NewNames new_params_;
  std::vector<StoredVersion> appended_;
  std::optional<AuditSeal> audit_head_;  // the newest audit record this transaction added (unsigned)
};

// Network file systems on which SQLite's WAL mode (shared memory between processes of one host)
// and flock cannot be trusted.
bool IsNetworkFileSystem(long type) {
  constexpr long kCifs = 0xFF534D42;
  constexpr long kSmb2 = 0xFE534D42;
  constexpr long kCeph = 0x00C36400;
  switch (type) {
    case NFS_SUPER_MAGIC: case SMB_SUPER_MAGIC: case kCifs: case kSmb2: case AFS_SUPER_MAGIC: case CODA_SUPER_MAGIC:
    case NCP_SUPER_MAGIC: case kCeph:
      return true;
    default:
      return false;
  }
}

// An exclusive lock on the data folder itself, held for the store's lifetime: one process at a
// time (the version cache is per process, so a second writer would make it stale). Locking the
// folder, not a file in it, means no file can be deleted to get around the lock. Released by the
// kernel if the process dies.
class FolderLock {
 public:
  static Result<std::unique_ptr<FolderLock>> Acquire(const std::filesystem::path& data_dir) {
    int fd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Err(Status::Internal("cannot open the data folder").WithDetail(data_dir.string()));
    std::unique_ptr<FolderLock> lock(new FolderLock(fd));
    struct statfs fs{};
    if (::fstatfs(fd, &fs) == 0 && IsNetworkFileSystem(static_cast<long>(fs.f_type))) {
      return Err(Status::Unavailable("the data folder " + data_dir.string() +
                                     " is on a network file system; SQLite's WAL mode needs a local disk"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      return Err(Status::Unavailable("another Chartkeeper process (a server or an import) is using " + data_dir.string() +
                                     "; stop it first, or send the data to the running server over REST"));
    }
    // The folder locked must be the one at the path (it could have been renamed meanwhile).
    struct stat held{};
    struct stat named{};
    if (::fstat(fd, &held) != 0 || ::stat(data_dir.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
        held.st_ino != named.st_ino) {
      return Err(Status::Unavailable("the data folder " + data_dir.string() + " was replaced while it was being locked"));
    }
    return lock;
  }
  ~FolderLock() { ::close(fd_); }

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_;
};

class SqliteStore final : public ResourceStore {
 public:
  SqliteStore(SqliteOptions options, std::unique_ptr<EncryptedVfs> encryption, std::unique_ptr<FolderLock> lock,
              std::unique_ptr<WalCheckpointer> checkpointer, std::unique_ptr<Connection> writer, Millis newest_time)
      : options_(std::move(options)),
        encryption_(std::move(encryption)),
        lock_(std::move(lock)),
        checkpointer_(std::move(checkpointer)),
        writer_(std::move(writer)),
        cache_(options_.cache_bytes),
        last_time_(newest_time),
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
    WriteAsync(std::move(operation), [&done](Status status) { done.set_value(std::move(status)); });
    return result.get();
  }

  void WriteAsync(WriteOperation operation, std::function<void(Status)> done) override {
    if (!writer_) return done(Status::Unavailable("the database was opened read-only"));
    {
      std::unique_lock lock(mu_);
      if (stopping_) {
        lock.unlock();
        return done(Status::Unavailable("the server is shutting down"));
      }
      queue_.push_back({std::move(operation), std::move(done), 0});
    }
    queue_cv_.notify_one();
  }

  Result<std::optional<StoredVersion>> ReadCurrent(const std::string& type, const std::string& id) override {
    if (auto cached = cache_.Get(type, id)) return cached;
    std::uint64_t ticket = cache_.Ticket(type, id);
    CK_ASSIGN_OR_RETURN(std::optional<StoredVersion> found, ReadOne(type, kSelectCurrent, id, std::nullopt));
    if (found) cache_.Offer(*found, ticket);
    return found;
  }

  std::optional<StoredVersion> ReadCurrentCached(const std::string& type, const std::string& id) override {
    return cache_.Get(type, id);
  }

  Result<std::optional<StoredVersion>> ReadVersion(const std::string& type, const std::string& id,
                                                   std::int64_t version) override {
    return ReadOne(type, kSelectVersion, id, version);
  }

  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<StoreStats> Stats() override;

  Status CompleteIndex() override {
    while (true) {
      std::int64_t merged = 0;
      CK_RETURN_IF_ERROR(Write([&merged](WriteTransaction& txn) -> Status {
        CK_ASSIGN_OR_RETURN(merged, static_cast<SqliteWriteTransaction&>(txn).MergeStaged());
        return Status::Ok();
      }));
      if (merged == 0) return Status::Ok();
      CK_LOG_INFO("search index: {} staged rows merged", merged);
    }
  }

  Result<SearchPage> Search(const search::SearchQuery& query) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    return RunSearch(**reader, types_, params_, query);
  }

  Result<SearchPage> SearchMerged(const std::vector<search::SearchQuery>& parts, const std::string& cursor) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    return RunMergedSearch(**reader, types_, params_, parts, cursor);
  }

  Result<CompartmentReach> Reach(const search::CompartmentFilter& compartment) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    return RunReach(**reader, types_, params_, compartment);
  }

  Result<std::optional<std::string>> ReadMeta(const std::string& key) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    return ReadMetaValue(**reader, key);
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListMeta(const std::string& prefix, std::size_t limit) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    // The keys starting with `prefix` are those from it up to (not including) the prefix with its
    // last byte raised by one; a last byte of 0xFF is dropped and the one before raised.
    std::string end = prefix;
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
    if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare("SELECT key, value FROM store_meta WHERE key >= ?1 "
                                                                   "AND (?2 = '' OR key < ?2) ORDER BY key LIMIT ?3"));
    select->Bind(1, prefix).Bind(2, end).Bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<std::pair<std::string, std::string>> out;
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, select->Step());
      if (!row) break;
      out.emplace_back(std::string(select->Text(0)), std::string(select->Text(1)));
    }
    return out;
  }

  Result<std::vector<AuditRecord>> ReadAudit(std::int64_t from, std::size_t limit) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare("SELECT seq, time, content, hash FROM audit_record WHERE seq >= ? "
                                                                   "ORDER BY seq LIMIT ?"));
    select->Bind(1, from).Bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    return AuditRows(*select);
  }

  Result<std::vector<AuditRecord>> SearchAudit(const AuditQuery& query) override;

  Result<std::vector<AuditSeal>> AuditCheckpoints(std::int64_t from) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(ScopedStatement select,
                        (*reader)->Prepare("SELECT seq, hash, time, signature FROM audit_checkpoint WHERE seq >= ? ORDER BY seq"));
    select->Bind(1, from);
    return SealRows(*select);
  }

  Result<std::optional<AuditSeal>> AuditHead() override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare("SELECT seq, hash, time, signature FROM audit_head WHERE one = 1"));
    CK_ASSIGN_OR_RETURN(std::vector<AuditSeal> heads, SealRows(*select));
    if (heads.empty()) return std::optional<AuditSeal>();
    return std::optional(std::move(heads.front()));
  }

  Result<std::vector<StoredVersion>> ScanCurrent(const std::string& type, const std::string& after_id, std::uint32_t limit) override {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(**reader, type));
    std::vector<StoredVersion> out;
    if (!type_id) return out;
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare(kScanCurrent));
    select->Bind(1, *type_id).Bind(2, after_id).Bind(3, static_cast<std::int64_t>(limit));
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, select->Step());
      if (!row) break;
      CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(*select));
      out.push_back(std::move(version));
    }
    return out;
  }

 private:
  struct Pending {
    WriteOperation operation;
    std::function<void(Status)> done;
    int attempts;  // batches it was in that a database fault rolled back
  };

  // A read-only connection borrowed from the pool for one call, under the query time limit.
  class Reader {
   public:
    Reader(SqliteStore& store, std::unique_ptr<Connection> db) : store_(store), db_(std::move(db)) {
      db_->SetTimeLimit(store_.options_.query_time_limit);
    }
    ~Reader() {
      db_->SetTimeLimit(std::chrono::milliseconds(0));
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
    CK_RETURN_IF_ERROR(db->Execute("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -" +
                                   std::to_string(std::max<std::size_t>(options_.reader_cache_bytes >> 10, 64))));
    return std::make_unique<Reader>(*this, std::move(db));
  }

  Result<std::optional<StoredVersion>> ReadOne(const std::string& type, const std::string& sql, const std::string& id,
                                               std::optional<std::int64_t> version) {
    CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types_.Lookup(**reader, type));
    if (!type_id) return std::optional<StoredVersion>();
    CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare(sql));
    select->Bind(1, *type_id).Bind(2, id);
    if (version) select->Bind(3, *version);
    CK_ASSIGN_OR_RETURN(bool found, select->Step());
    if (!found) return std::optional<StoredVersion>();
    CK_ASSIGN_OR_RETURN(StoredVersion out, ReadVersionRow(*select));
    return std::optional(std::move(out));
  }

  // The outcome of one operation run in its savepoint.
  struct Step {
    Status status;     // the operation's own result, or the savepoint's failure
    bool intact;       // whether the batch's transaction is still open and sound afterwards
  };

  void WriterLoop();
  // `isolated`: each operation in a savepoint of its own. A bulk load (stage_index) runs a group
  // without (a savepoint copies each page the operation changes, pages the group's other
  // operations share: a tenth of an import's time); if one of its operations fails, the group is
  // rolled back and run again isolated, so the failure stays that operation's own.
  void CommitBatch(std::vector<Pending>& batch, bool isolated);
  Status BeginBatch();
  Step RunOperation(Pending& pending, SqliteWriteTransaction& txn, bool isolated);
  void RecoverLostBatch(std::vector<Pending>& batch, std::vector<Status>& results, std::size_t lost_at);
  void FailCommit(std::vector<Status>& results, const Status& committed, int result_code);

  const SqliteOptions options_;
  const std::unique_ptr<EncryptedVfs> encryption_;  // before the connections: outlives them
  std::unique_ptr<FolderLock> lock_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // before the writer: outlives its commits
  std::unique_ptr<Connection> writer_;  // used by the writer thread only
  NameIds types_{"resource_type", "type_id", "name"};
  NameIds params_{"search_param", "param_id", "url"};
  VersionCache cache_;
  Millis last_time_;      // writer thread only: the newest transaction time given
  bool clock_behind_ = false;  // writer thread only: the clock was last seen behind last_time_
  Status write_failure_;  // writer thread only: once set, every write fails with it
  std::optional<AuditSeal> committed_audit_head_;  // writer thread only: the last audit record committed, once known

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
    CommitBatch(batch, /*isolated=*/!options_.stage_index || batch.size() == 1);
  }
}

// A group commit, and what each caller is told on each kind of fault (docs/design/storage.md):
// - an operation fails on its own (a precondition, a bad body): its savepoint is rolled back and
//   it gets its status; the rest of the batch goes on (a bulk load's batch, run without
//   savepoints, is rolled back and run again with them);
// - the database fails mid-batch so that SQLite rolls the whole transaction back (an I/O error
//   or a full disk while pages spill): the operation that hit it gets the fault's status; the
//   others' work is lost with the transaction, so they are queued again once (their own work
//   never failed); nothing more runs in the lost transaction;
// - COMMIT fails and SQLite rolled back (disk full, busy): every operation is told that status,
//   and nothing was stored;
// - COMMIT fails with an I/O error: whether the data is durable is unknown, so every operation is
//   told kOutcomeUnknown and the store takes no more writes until it is reopened.
void SqliteStore::CommitBatch(std::vector<Pending>& batch, bool isolated) {
  std::vector<Status> results(batch.size());
  Status begun = BeginBatch();
  if (!begun.ok()) {
    for (Pending& pending : batch) pending.done(begun);
    return;
  }
  SqliteWriteTransaction txn(*writer_, types_, params_, *options_.clock, last_time_, clock_behind_, options_.stage_index,
                             committed_audit_head_);
  std::size_t succeeded = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Step step = RunOperation(batch[i], txn, isolated);
    if (!isolated && step.intact && !step.status.ok()) {
      (void)writer_->Execute("ROLLBACK");
      return CommitBatch(batch, /*isolated=*/true);
    }
    results[i] = std::move(step.status);
    if (!step.intact) return RecoverLostBatch(batch, results, i);
    if (results[i].ok()) ++succeeded;
  }
  // The audit trail's seals commit with the records they sign, or nothing commits.
  if (Status sealed = txn.FinishAudit(options_); !sealed.ok()) {
    if (!writer_->InAutocommit()) (void)writer_->Execute("ROLLBACK");
    CK_LOG_ERROR("the audit trail could not be sealed; a group of {} writes was rolled back: {}", batch.size(), sealed.ToString());
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i].ok() ? sealed : std::move(results[i]));
    return;
  }
  // Readers go to the database for these resources until the commit's outcome is known.
  for (const StoredVersion& version : txn.appended()) cache_.Committing(version);
  Status committed = writer_->Execute("COMMIT");
  if (committed.ok()) {
    txn.PublishNames();
    if (txn.audit_head()) committed_audit_head_ = txn.audit_head();
    for (const StoredVersion& version : txn.appended()) cache_.Committed(version);  // before anyone is answered
    committed_operations_ += static_cast<std::int64_t>(succeeded);
    ++commits_;
  } else {
    int result_code = sqlite3_extended_errcode(writer_->handle());
    for (const StoredVersion& version : txn.appended()) cache_.Abandoned(version);
    FailCommit(results, committed, result_code);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
}

Status SqliteStore::BeginBatch() {
  if (!write_failure_.ok()) return write_failure_;
  if (!writer_->InAutocommit()) {
    CK_LOG_WARN("the writer was left inside a transaction; rolling it back");
    (void)writer_->Execute("ROLLBACK");
    if (!writer_->InAutocommit()) {
      write_failure_ = Status::Unavailable("writes are stopped: the database connection is in an unknown state; restart the server");
      return write_failure_;
    }
  }
  return writer_->Execute("BEGIN IMMEDIATE");
}

SqliteStore::Step SqliteStore::RunOperation(Pending& pending, SqliteWriteTransaction& txn, bool isolated) {
  // SQLite may have rolled the transaction back on its own; a SAVEPOINT would then open a new
  // one, and its RELEASE commit it alone.
  if (writer_->InAutocommit()) return {Status::Unavailable("the database transaction was lost"), false};
  if (isolated) {
    Status savepoint = writer_->Execute("SAVEPOINT op");
    if (!savepoint.ok()) return {std::move(savepoint), false};
  }
  SqliteWriteTransaction::Mark mark = txn.BeginOperation();
  Status status;
  try {
    status = pending.operation(txn);
  } catch (const std::exception& e) {
    status = Status::Internal("write failed").WithDetail(e.what());
  } catch (...) {
    status = Status::Internal("write failed").WithDetail("an exception that is not a std::exception");
  }
  if (writer_->InAutocommit()) return {std::move(status), false};
  if (!isolated) return {std::move(status), true};  // a failure rolls the whole group back
  if (!status.ok()) {
    txn.Forget(mark);
    Status rolled_back = writer_->Execute("ROLLBACK TO op");
    if (!rolled_back.ok() || writer_->InAutocommit()) return {std::move(status), false};
  }
  Status released = writer_->Execute("RELEASE op");
  if (!released.ok() || writer_->InAutocommit()) return {status.ok() ? std::move(released) : std::move(status), false};
  return {std::move(status), true};
}

void SqliteStore::RecoverLostBatch(std::vector<Pending>& batch, std::vector<Status>& results, std::size_t lost_at) {
  (void)writer_->Execute("ROLLBACK");  // if SQLite has not already: run nothing more in this transaction
  Status fault = results[lost_at];
  if (fault.ok()) fault = Status::Unavailable("the database failed while storing the write; it was not stored");
  CK_LOG_ERROR("a database fault rolled back a group of {} writes: {}", batch.size(), fault.ToString());
  constexpr int kMaxAttempts = 2;
  std::vector<Pending> again;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Operations that failed on their own before the fault keep their answer.
    const bool own_failure = i < lost_at && !results[i].ok();
    if (i == lost_at || own_failure || batch[i].attempts + 1 >= kMaxAttempts) {
      batch[i].done(i == lost_at || !own_failure ? fault : std::move(results[i]));
      continue;
    }
    ++batch[i].attempts;
    again.push_back(std::move(batch[i]));
  }
  if (again.empty()) return;
  std::lock_guard lock(mu_);
  for (auto it = again.rbegin(); it != again.rend(); ++it) queue_.push_front(std::move(*it));
}

void SqliteStore::FailCommit(std::vector<Status>& results, const Status& committed, int result_code) {
  if (!writer_->InAutocommit()) (void)writer_->Execute("ROLLBACK");
  const bool unknown = (result_code & 0xFF) == SQLITE_IOERR || !writer_->InAutocommit();
  Status answer = committed;
  if (unknown) {
    answer = Status(StatusCode::kOutcomeUnknown,
                    "the database failed while committing this write: it may or may not be stored; read it back before retrying")
                 .WithDetail(committed.detail());
    write_failure_ = Status::Unavailable("writes are stopped after a failed commit whose outcome is unknown; "
                                         "restart the server once the disk is healthy");
    CK_LOG_ERROR("COMMIT failed with an I/O error, outcome unknown; no more writes until restart: {}", committed.ToString());
  } else {
    CK_LOG_ERROR("group commit failed and was rolled back: {}", committed.ToString());
  }
  for (Status& result : results) {
    if (result.ok()) result = answer;
  }
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
    CK_ASSIGN_OR_RETURN(type_id, types_.Lookup(db, query.type));
    if (!type_id) {
      if (query.count_total) page.total = 0;
      return page;
    }
  }
  // Transaction time never goes backwards as seq grows, so the versions since a time are those
  // from the first seq stamped at or after it: the page stays one range of seq.
  std::int64_t since_seq = 0;
  if (query.since) {
    CK_ASSIGN_OR_RETURN(ScopedStatement first, db.Prepare("SELECT seq FROM resource_version WHERE last_updated >= ? "
                                                          "ORDER BY last_updated, seq LIMIT 1"));
    first->Bind(1, *query.since);
    CK_ASSIGN_OR_RETURN(bool row, first->Step());
    since_seq = row ? first->Int(0) : page.snapshot + 1;
  }
  // Scope of the query, applied to the versions (v) and, for _at, to the earlier versions (w).
  auto scope = [&](const char* alias) {
    std::string s;
    if (type_id) s += std::string(" AND ") + alias + ".type_id = :type";
    if (!query.id.empty()) s += std::string(" AND ") + alias + ".id = :id";
    return s;
  };
  std::string where = " WHERE v.seq <= :snapshot AND v.seq >= :since_seq" + scope("v");
  if (query.at) {
    where += " AND ((v.last_updated >= :at_start AND v.last_updated < :at_end) OR v.seq IN (SELECT max(w.seq) FROM resource_version w "
             "WHERE w.seq <= :snapshot AND w.last_updated < :at_start" + scope("w") + " GROUP BY w.type_id, w.id))";
  }
  auto bind_all = [&](Statement& s) {
    s.BindNamed(":snapshot", page.snapshot).BindNamed(":since_seq", since_seq);
    if (type_id) s.BindNamed(":type", *type_id);
    if (!query.id.empty()) s.BindNamed(":id", query.id);
    if (query.at) s.BindNamed(":at_start", query.at->start).BindNamed(":at_end", query.at->end);
  };

  if (query.count_total) {
    CK_ASSIGN_OR_RETURN(ScopedStatement count, db.Prepare("SELECT count(*) FROM resource_version v" + where));
    bind_all(*count);
    CK_ASSIGN_OR_RETURN(bool counted, count->Step());
    page.total = counted ? count->Int(0) : 0;
  }

  // One more row than the page says whether more follow in the direction read.
  const bool backward = query.after > 0;
  std::string page_sql = std::string(kSelectVersionColumns) + where;
  if (backward) {
    page_sql += " AND v.seq > :after ORDER BY v.seq ASC LIMIT :limit";
  } else {
    page_sql += query.before > 0 ? " AND v.seq < :before ORDER BY v.seq DESC LIMIT :limit" : " ORDER BY v.seq DESC LIMIT :limit";
  }
  CK_ASSIGN_OR_RETURN(ScopedStatement select, db.Prepare(page_sql));
  bind_all(*select);
  if (backward) select->BindNamed(":after", query.after);
  if (!backward && query.before > 0) select->BindNamed(":before", query.before);
  select->BindNamed(":limit", static_cast<std::int64_t>(query.count) + 1);
  bool more = false;
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, select->Step());
    if (!row) break;
    if (page.versions.size() == query.count) {
      more = true;
      break;
    }
    CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(*select));
    page.versions.push_back(std::move(version));
  }
  if (backward) {
    std::reverse(page.versions.begin(), page.versions.end());
    page.newer = more;
    page.older = true;  // the page the walk came back from
  } else {
    page.older = more;
    page.newer = query.before > 0;
  }
  return page;
}

// Each filter is a condition on the record (a) with positional parameters bound in order.
Result<std::vector<AuditRecord>> SqliteStore::SearchAudit(const AuditQuery& query) {
  std::string sql = "SELECT a.seq, a.time, a.content, a.hash FROM audit_record a WHERE 1";
  std::vector<std::variant<std::int64_t, std::string>> values;
  auto in_list = [&](const std::vector<std::string>& list) {
    std::string text = "(";
    for (const std::string& value : list) {
      text += text.size() == 1 ? "?" : ", ?";
      values.emplace_back(value);
    }
    return text + ")";
  };
  // Each run of audit_link_run is found by a seek from the one after it (runs), and the values
  // by a seek in each run: a search costs a few seeks per run, not a scan of the table.
  std::int64_t kind = 0;
  bool linked = false;
  for (const std::vector<std::string>* list : {&query.patients, &query.agents, &query.entities}) {
    ++kind;
    if (list->empty()) continue;
    linked = true;
    const std::string values_in = in_list(*list);
    sql += " AND a.seq IN (SELECT l.seq FROM runs JOIN audit_link_run l ON l.run = runs.run AND l.kind = " + std::to_string(kind) +
           " AND l.value IN " + values_in + " UNION ALL SELECT seq FROM audit_link_recent WHERE kind = " + std::to_string(kind) +
           " AND value IN " + in_list(*list) + ")";
  }
  if (linked) {
    sql = "WITH RECURSIVE runs(run) AS (SELECT max(run) FROM audit_link_run UNION ALL "
          "SELECT (SELECT max(run) FROM audit_link_run WHERE run < runs.run) FROM runs WHERE runs.run IS NOT NULL) " + sql;
  }
  for (const auto& [field, allowed] : query.fields) {
    values.emplace_back("$." + field);
    sql += " AND json_extract(a.content, ?) IN " + in_list(allowed);
  }
  if (query.time) {
    sql += " AND a.time >= ? AND a.time < ?";
    values.emplace_back(query.time->start);
    values.emplace_back(query.time->end);
  }
  if (query.after > 0) {
    sql += " AND a.seq > ?";
    values.emplace_back(query.after);
  }
  if (query.before > 0) {
    sql += " AND a.seq < ?";
    values.emplace_back(query.before);
  }
  sql += query.oldest_first ? " ORDER BY a.seq LIMIT ?" : " ORDER BY a.seq DESC LIMIT ?";
  values.emplace_back(static_cast<std::int64_t>(std::min<std::size_t>(query.count, INT64_MAX)));
  CK_ASSIGN_OR_RETURN(auto reader, BorrowReader());
  CK_ASSIGN_OR_RETURN(ScopedStatement select, (*reader)->Prepare(sql));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (const auto* number = std::get_if<std::int64_t>(&values[i])) {
      select->Bind(static_cast<int>(i + 1), *number);
    } else {
      select->Bind(static_cast<int>(i + 1), std::get<std::string>(values[i]));
    }
  }
  return AuditRows(*select);
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
  stats.wal_checkpoints = checkpointer_ ? checkpointer_->checkpoints() : 0;
  stats.integrity_faults = encryption_ ? encryption_->integrity_failures() : 0;
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

// Readers must never block the writer: without WAL mode they would. SQLite answers the PRAGMA
// with the mode it is in, which stays the old one when WAL cannot be used (no shared memory).
Status EnableWal(Connection& db) {
  CK_ASSIGN_OR_RETURN(ScopedStatement pragma, db.Prepare("PRAGMA journal_mode = WAL"));
  CK_ASSIGN_OR_RETURN(bool row, pragma->Step());
  std::string mode = row ? std::string(pragma->Text(0)) : "";
  if (mode != "wal") {
    return Status::Unavailable("the database cannot use WAL mode (it is in '" + mode +
                               "' mode); put the data folder on a local file system");
  }
  return Status::Ok();
}

// Transaction time continues from the newest version stored, so a clock that is behind (an NTP
// step, a restored VM, a moved disk) never stamps a new version before an old one (the first
// write then warns that the clock is behind).
Result<Millis> NewestTime(Connection& db) {
  CK_ASSIGN_OR_RETURN(ScopedStatement newest, db.Prepare("SELECT coalesce(max(last_updated), 0) FROM resource_version"));
  CK_ASSIGN_OR_RETURN(bool row, newest->Step());
  return row ? newest->Int(0) : 0;
}

// Whether the database file is encrypted, by the reserved bytes per page its header declares
// (byte 20); nullopt when there is no database yet.
Result<std::optional<bool>> IsEncrypted(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::optional<bool>();
  char header[100] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) return std::optional<bool>();
  if (in.gcount() < static_cast<std::streamsize>(sizeof header) || std::string_view(header, 16) != std::string_view("SQLite format 3\0", 16)) {
    return Err(Status(StatusCode::kCorrupt, file.string() + " is not a Chartkeeper database"));
  }
  return std::optional<bool>(static_cast<unsigned char>(header[20]) == kEncryptionReserve);
}

// Checks that the database is encrypted if and only if a data key is given, and registers the
// encrypting VFS for it (`options.vfs` then names it).
Result<std::unique_ptr<EncryptedVfs>> PrepareEncryption(SqliteOptions& options) {
  const std::filesystem::path file = SqliteDatabasePath(options.data_dir);
  CK_ASSIGN_OR_RETURN(std::optional<bool> encrypted, IsEncrypted(file));
  if (encrypted && *encrypted && !options.data_keys) {
    return Err(Status::Invalid("the database in " + options.data_dir.string() + " is encrypted, and no data key was given"));
  }
  if (encrypted && !*encrypted && options.data_keys) {
    return Err(Status::Invalid("the database in " + options.data_dir.string() +
                               " is not encrypted: encrypt it with `chartkeeper encrypt`, or open it with encryption off"));
  }
  if (!options.data_keys) return std::unique_ptr<EncryptedVfs>();
  CK_ASSIGN_OR_RETURN(auto vfs, EncryptedVfs::Register(options.data_keys, options.vfs));
  options.vfs = vfs->name();
  return vfs;
}

Result<std::unique_ptr<ResourceStore>> OpenReadOnly(SqliteOptions options) {
  const std::filesystem::path file = SqliteDatabasePath(options.data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Err(Status::NotFound("there is no database in " + options.data_dir.string()));
  CK_ASSIGN_OR_RETURN(auto encryption, PrepareEncryption(options));
  CK_ASSIGN_OR_RETURN(auto db, Connection::Open(file, Connection::Mode::kReadOnly, options.vfs));
  CK_ASSIGN_OR_RETURN(ScopedStatement version_query, db->Prepare("PRAGMA user_version"));
  CK_ASSIGN_OR_RETURN(bool row, version_query->Step());
  if (!row || version_query->Int(0) != kSchemaVersion) {
    return Err(Status::Unavailable("the database in " + options.data_dir.string() + " needs a schema migration; start the server once first"));
  }
  return std::unique_ptr<ResourceStore>(new SqliteStore(std::move(options), std::move(encryption), nullptr, nullptr, nullptr, 0));
}

}  // namespace

std::filesystem::path SqliteDatabasePath(const std::filesystem::path& data_dir) { return data_dir / "chartkeeper.db"; }

Result<std::unique_ptr<ResourceStore>> OpenSqliteStore(SqliteOptions options) {
  if (options.read_only) return OpenReadOnly(std::move(options));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Err(Status::Internal("cannot create the data folder").WithDetail(options.data_dir.string() + ": " + ec.message()));
  CK_ASSIGN_OR_RETURN(auto lock, FolderLock::Acquire(options.data_dir));
  CK_ASSIGN_OR_RETURN(auto encryption, PrepareEncryption(options));
  if (encryption) {
    CK_RETURN_IF_ERROR(RestoreTornPages(options.data_dir, *encryption));  // a data key rotation stopped by a power cut
  }
  CK_ASSIGN_OR_RETURN(auto writer, Connection::Open(SqliteDatabasePath(options.data_dir), Connection::Mode::kReadWrite, options.vfs));
  if (encryption) {
    // A new database takes the page size and the reserve (an existing one keeps its own), and
    // switches to WAL with its journal in memory: the VFS writes no rollback journal.
    int reserve = kEncryptionReserve;
    CK_RETURN_IF_ERROR(writer->Execute("PRAGMA page_size = " + std::to_string(kEncryptedPageSize) + "; PRAGMA journal_mode = MEMORY"));
    if (sqlite3_file_control(writer->handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
      return Err(Status::Internal("SQLite cannot reserve bytes per page for encryption"));
    }
  }
  CK_RETURN_IF_ERROR(EnableWal(*writer));
  CK_RETURN_IF_ERROR(writer->Execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"));
  CK_RETURN_IF_ERROR(writer->Execute("PRAGMA cache_size = -" + std::to_string(std::max<std::size_t>(options.writer_cache_bytes >> 10, 64))));
  CK_RETURN_IF_ERROR(Migrate(*writer));
  CK_ASSIGN_OR_RETURN(Millis newest, NewestTime(*writer));
  CK_ASSIGN_OR_RETURN(auto checkpointer, WalCheckpointer::Start(SqliteDatabasePath(options.data_dir), options.vfs));
  checkpointer->Attach(*writer);
  return std::unique_ptr<ResourceStore>(
      new SqliteStore(std::move(options), std::move(encryption), std::move(lock), std::move(checkpointer), std::move(writer), newest));
}

namespace {

// Copies `from`'s database into the new, empty database of `to` in one read transaction of
// `from` (a consistent snapshot while others write) with SQLite's online backup; `to` keeps no
// journal (it is new: a failure leaves a file to delete, nothing to roll back) and takes the
// page size and reserve of `from`. Then syncs `target`, the file of `to`.
Status CopyDatabase(Connection& from, std::unique_ptr<Connection> to, const std::filesystem::path& target) {
  CK_RETURN_IF_ERROR(to->Execute("PRAGMA journal_mode = OFF"));
  sqlite3_backup* backup = sqlite3_backup_init(to->handle(), "main", from.handle(), "main");
  if (backup == nullptr) return SqliteError(to->handle(), "backup");
  const int stepped = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (stepped != SQLITE_DONE) return SqliteStatus(stepped, "backup of the database");
  to.reset();
  const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  return synced ? Status::Ok() : Status::Internal("cannot sync " + target.string());
}

}  // namespace

Result<std::int64_t> BackupSqliteDatabase(SqliteOptions options, const std::filesystem::path& target) {
  const std::filesystem::path file = SqliteDatabasePath(options.data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Err(Status::NotFound("there is no database in " + options.data_dir.string()));
  if (std::filesystem::exists(target, ec)) return Err(Status::Invalid(target.string() + " exists already"));
  CK_ASSIGN_OR_RETURN(auto encryption, PrepareEncryption(options));
  {
    CK_ASSIGN_OR_RETURN(auto db, Connection::Open(file, Connection::Mode::kReadOnly, options.vfs));
    CK_RETURN_IF_ERROR(db->Execute("PRAGMA temp_store = MEMORY"));
    CK_ASSIGN_OR_RETURN(auto copy, Connection::Open(target, Connection::Mode::kReadWrite, options.vfs));
    CK_RETURN_IF_ERROR(CopyDatabase(*db, std::move(copy), target));
  }
  CK_ASSIGN_OR_RETURN(auto copy, Connection::Open(target, Connection::Mode::kReadOnly, options.vfs));
  CK_ASSIGN_OR_RETURN(ScopedStatement last, copy->Prepare("SELECT coalesce(max(seq), 0) FROM resource_version"));
  CK_ASSIGN_OR_RETURN(bool row, last->Step());
  return row ? last->Int(0) : 0;
}

Status EncryptSqliteDatabase(const std::filesystem::path& clear_dir, const std::filesystem::path& target_dir,
                             std::shared_ptr<const Secret> data_key) {
  const std::filesystem::path source = SqliteDatabasePath(clear_dir);
  const std::filesystem::path target = SqliteDatabasePath(target_dir);
  CK_ASSIGN_OR_RETURN(std::optional<bool> encrypted, IsEncrypted(source));
  if (!encrypted) return Status::NotFound("there is no database in " + clear_dir.string());
  if (*encrypted) return Status::Invalid("the database in " + clear_dir.string() + " is encrypted already");
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) return Status::Invalid(target.string() + " exists already");
  CK_ASSIGN_OR_RETURN(auto db, Connection::Open(source, Connection::Mode::kReadWrite, ""));
  CK_ASSIGN_OR_RETURN(ScopedStatement page_size, db->Prepare("PRAGMA page_size"));
  CK_ASSIGN_OR_RETURN(bool row, page_size->Step());
  if (!row || page_size->Int(0) != kEncryptedPageSize) {
    return Status::Invalid("the database in " + clear_dir.string() + " has pages of another size than " + std::to_string(kEncryptedPageSize) +
                           " bytes; export and import it instead");
  }
  page_size->Reset();
  // First the clear database makes room for the nonce and tag in each page (VACUUM applies the
  // requested reserve), then the copy encrypts each page on its way to the new file.
  int reserve = kEncryptionReserve;
  if (sqlite3_file_control(db->handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
    return Status::Internal("SQLite cannot reserve bytes per page for encryption");
  }
  CK_RETURN_IF_ERROR(db->Execute("VACUUM"));
  CK_ASSIGN_OR_RETURN(auto vfs, EncryptedVfs::Register(DataKeyRing::Of(std::move(data_key))));
  CK_ASSIGN_OR_RETURN(auto copy, Connection::Open(target, Connection::Mode::kReadWrite, vfs->name()));
  return CopyDatabase(*db, std::move(copy), target);
}

}  // namespace ck::store::sqlite
