#pragma once
// The storage interface: every version of every resource, a current pointer per resource, and
// history. Backends (store/sqlite today, store/postgres later) implement it; nothing above this
// header sees SQL or a database handle.
//
// Writes are operation objects (WriteOperation) run inside a read-write transaction the store
// owns: the operation reads the current version, decides, and appends the new one; later it can
// also write search index rows and an audit record in the same transaction. The store may run
// many operations in one database transaction (group commit): each gets its own savepoint, so one
// failing operation rolls back only its own changes.
//
// Thread safety: all ResourceStore methods may be called from any thread concurrently.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "search/index_entries.h"
#include "search/search_query.h"
#include "util/status.h"
#include "util/time.h"

namespace ck::store {

enum class ChangeKind : std::uint8_t { kCreate = 0, kUpdate = 1, kDelete = 2 };

// One version of one resource.
struct StoredVersion {
  std::string type;
  std::string id;
  std::int64_t version = 0;   // 1, 2, 3... per resource
  Millis last_updated = 0;    // transaction time
  ChangeKind change = ChangeKind::kCreate;
  std::int64_t sequence = 0;  // global order of all changes, increasing
  std::string body;           // the resource JSON; empty for a delete
  // The problems a lenient validation policy let this version in with (an OperationOutcome's
  // JSON); empty for a version that met every rule when it was written.
  std::string issues;

  bool deleted() const { return change == ChangeKind::kDelete; }
};

// WriteTransaction::ReferenceTargets' answer.
struct ReferenceTargetIds {
  std::int64_t sequence = 0;  // the current version's StoredVersion::sequence; 0: no such resource
  std::vector<std::string> ids;
};

// The current state of a resource as a write sees it.
struct CurrentVersion {
  std::int64_t version = 0;
  bool deleted = false;
};

// ResourceStore::Reach: of a compartment's member types and their parameters, those through
// which at least one current resource points into the compartment, and the resources that those
// members and the compartment's own resource refer to (literal references; whether they exist
// is not checked).
struct CompartmentReach {
  std::vector<search::CompartmentFilter::Members> members;
  std::map<std::string, std::vector<std::string>> referenced;  // type: ids, each once, in order
};

// A page of search results, in id order.
struct SearchPage {
  std::vector<StoredVersion> versions;
  bool more = false;                  // more matches follow the page
  std::string next_cursor;            // when `more`: the cursor of the next page
  std::string previous_cursor;        // the cursor of the page before, if this one did not start the search
  std::optional<std::int64_t> total;  // every match, when the query asked
  // Empty, or one per version: for a contained resource that matched (search::ContainedMode),
  // its position in the `contained` of its container, whose current version stands in
  // `versions`; nullopt for a resource that matched itself.
  std::vector<std::optional<std::size_t>> contained_positions;
  std::vector<StoredVersion> included;  // _include and _revinclude, each once, none a match
  bool included_capped = false;         // search::kMaxIncluded reached: some were left out
  // search::SearchQuery::explain: the plan chosen, each condition's estimated and actual rows,
  // the database's own plan and the time taken, one line each.
  std::vector<std::string> explanation;
};

// One record of the audit trail: what the audit layer wrote (`content`, its canonical bytes),
// numbered and timed by the store and chained to the record before it (store/audit_chain.h).
struct AuditRecord {
  std::int64_t sequence = 0;  // 1, 2, 3... with no gaps
  Millis time = 0;            // transaction time, as the versions of the same write
  std::string content;
  std::string hash;           // 64 hex digits: AuditChainHash(previous record's hash, this record)
};

// A signed statement that the trail ran up to `sequence` with `hash`: a checkpoint (kept for
// ever, every AuditOptions::checkpoint_every records) or the head (the newest, replaced with
// every commit that adds records).
struct AuditSeal {
  std::int64_t sequence = 0;
  std::string hash;  // hex, as AuditRecord's
  Millis time = 0;
  std::string signature;  // over AuditSealMessage (store/audit_chain.h)
};

// What an audit record is filed under, for searches and disclosure reports (not part of the
// hashed record: the record's content says the same).
struct AuditLinks {
  std::vector<std::string> patients;  // patient ids
  std::vector<std::string> agents;    // user names and client ids
  std::vector<std::string> entities;  // "Type/id"
};

// A search of the audit trail, newest first (or oldest first). Non-empty lists are ANDed; a
// record matches a list when it is filed under one of its values.
struct AuditQuery {
  std::vector<std::string> patients;
  std::vector<std::string> agents;
  std::vector<std::string> entities;
  // Top-level string fields of the content, each with the values allowed ("action", {"R"}).
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::optional<TimeRange> time;
  bool oldest_first = false;
  std::int64_t after = 0;   // > 0: only records with a larger sequence (paging oldest first)
  std::int64_t before = 0;  // > 0: only records with a smaller sequence (paging newest first)
  std::size_t count = 50;
};

class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;
  // The current version of (type, id), or nullopt if it never existed.
  virtual Result<std::optional<CurrentVersion>> Current(const std::string& type, const std::string& id) = 0;
  // The transaction time to stamp this operation's versions with; never earlier than the time
  // given to any operation committed before it.
  virtual Millis Now() = 0;
  // Appends `version` and makes it current, with `index` as its search index rows (replacing those
  // of the version before; a delete has none). REQUIRES: version.version is the current version
  // + 1 (1 for a new resource); version.sequence and version.last_updated are filled in by the
  // store (last_updated from Now()). Returns the sequence number given.
  virtual Result<std::int64_t> Append(const StoredVersion& version, const search::IndexEntries& index) = 0;
  Result<std::int64_t> Append(const StoredVersion& version) { return Append(version, {}); }
  // Replaces the search index rows of version `sequence` of (type, id) with `index` (reindexing
  // stored resources), if it is still the current version; otherwise does nothing (a newer
  // version, or a delete, has its own rows already). Returns whether it replaced them.
  virtual Result<bool> ReplaceIndex(const std::string& type, const std::string& id, std::int64_t sequence,
                              const search::IndexEntries& index) = 0;
  // Replaces the index rows of one search parameter (`param_url`) of version `sequence` of
  // (type, id) with `index`, which holds that parameter's entries only (reindexing a custom
  // parameter), if it is still the current version. Returns whether it was (false: a newer
  // version or a delete has its own rows, made by whatever extracted them).
  virtual Result<bool> ReplaceParameterIndex(const std::string& type, const std::string& id, std::int64_t sequence,
                                             const std::string& param_url, const search::IndexEntries& index) = 0;
  // Sets (or, with nullopt, removes) a store-wide state value (ResourceStore::ReadMeta).
  virtual Status WriteMeta(const std::string& key, const std::optional<std::string>& value) = 0;
  // A store-wide state value as this transaction sees it (for a read-modify-write that no other
  // write may come between), or nullopt.
  virtual Result<std::optional<std::string>> ReadMeta(const std::string& key) = 0;
  // The matches of `query` (ResourceStore::Search) as this transaction sees them, its own writes
  // and those of the operations before it in the same commit included: a conditional write's
  // check and its write are then one step that no other write comes between. Index rows a bulk
  // load staged are not seen.
  virtual Result<SearchPage> Search(const search::SearchQuery& query) = 0;
  // The current resources ("Type/id", at most `limit`) whose reference parameters `params`
  // (source resource type, parameter URL) point at type/id, as this transaction sees them:
  // what deleting type/id would leave dangling. Staged index rows are not seen.
  // Appends a record to the audit trail (AuditRecord), filed under `links`. Returns its
  // sequence number.
  virtual Result<std::int64_t> AppendAudit(std::string_view content, const AuditLinks& links) = 0;
  // The ids of the resources of `target_type` that the current resource type/id refers to
  // through the reference parameters `param_urls` (by its index rows; none for a resource not
  // indexed yet), and which version's rows those are.
  virtual Result<ReferenceTargetIds> ReferenceTargets(const std::string& type, const std::string& id,
                                                      const std::vector<std::string>& param_urls,
                                                      const std::string& target_type) = 0;
  virtual Result<std::vector<std::string>> Referrers(const std::string& type, const std::string& id,
                                                     const std::vector<std::pair<std::string, std::string>>& params,
                                                     std::size_t limit) = 0;
};

// Work to run in a write transaction. A non-OK status rolls back the operation's changes and is
// returned by Write.
using WriteOperation = std::function<Status(WriteTransaction&)>;

// A page of history, newest first. Pages are keyed by the versions' `sequence`, so a page is one index range whatever the history's length: the first page, then
// `before` the last version shown (older), or `after` the first one shown (newer, for a
// previous link). `snapshot` pins the versions a walk sees while writes go on.
struct HistoryQuery {
  std::string type;                  // empty: the whole system
  std::string id;                    // empty: every resource of `type`
  std::optional<Millis> since;       // only versions with last_updated >= since
  std::optional<TimeRange> at;       // only versions current at some point in this range
  std::int64_t snapshot = 0;         // only versions with sequence <= snapshot; 0: the latest
  std::int64_t before = 0;           // > 0: only versions older than this sequence
  std::int64_t after = 0;            // > 0: only versions newer than this sequence (before is then ignored)
  std::uint32_t count = 50;
  bool count_total = false;          // count every matching version (a scan of the history's range)
};

struct HistoryPage {
  std::vector<StoredVersion> versions;  // newest first
  std::optional<std::int64_t> total;    // matching versions in the snapshot, when asked for
  std::int64_t snapshot = 0;            // the snapshot used; pass it back for the next page
  bool older = false;                   // versions older than the page's last match
  bool newer = false;                   // versions newer than the page's first match
};


struct StoreStats {
  std::int64_t database_bytes = 0;
  std::int64_t committed_operations = 0;  // write operations made durable
  std::int64_t commits = 0;               // database transactions committed (fsyncs)
  std::int64_t wal_checkpoints = 0;       // write-ahead log checkpoints that copied every frame
  std::int64_t integrity_faults = 0;      // stored pages that failed to authenticate (encryption)
};

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  // Runs `operation` in a read-write transaction and returns once its changes are durable (or
  // rolled back). Errors: the operation's own status; kUnavailable if the store is closing, the
  // database is busy or failed to read or write (nothing was committed); kInsufficientStorage
  // if the disk is full (nothing was committed); kOutcomeUnknown if the commit itself failed so
  // that the change may or may not be durable (the store then refuses writes with kUnavailable
  // until it is reopened). An operation may run more than once when a database fault rolled
  // back the work of a group (its effects are only those of the run that commits).
  virtual Status Write(WriteOperation operation) = 0;
  // As Write without waiting: `done` gets what Write would return, on the store's writer thread
  // once the outcome is known (it must be quick and must not call the store).
  virtual void WriteAsync(WriteOperation operation, std::function<void(Status)> done) = 0;

  // The current version (possibly a delete), or nullopt if the resource never existed.
  virtual Result<std::optional<StoredVersion>> ReadCurrent(const std::string& type, const std::string& id) = 0;
  // The current version if the store holds it in memory, without touching the database (so it
  // may run on an I/O thread); nullopt means "ask ReadCurrent", not "absent".
  virtual std::optional<StoredVersion> ReadCurrentCached(const std::string& type, const std::string& id) = 0;
  // Reads return kCorrupt for stored data that fails its checksum, kTooCostly for a query that
  // runs past the store's time limit, kUnavailable for a busy or failing database.
  // A specific version, or nullopt.
  virtual Result<std::optional<StoredVersion>> ReadVersion(const std::string& type, const std::string& id,
                                                           std::int64_t version) = 0;
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;
  // The current versions of `type` that are not deleted, in id order after `after_id` (empty:
  // from the first), at most `limit`: a whole-type scan in pages of bounded memory, each page
  // its own snapshot (the quality report; later, reindexing).
  virtual Result<std::vector<StoredVersion>> ScanCurrent(const std::string& type, const std::string& after_id,
                                                         std::uint32_t limit) = 0;
  // The current versions of query.type that meet every condition (search/search_query.h), in
  // the query's order, one page from query.cursor; count and page read one snapshot.
  // Errors: kInvalid (a cursor this store did not make), as reads.
  virtual Result<SearchPage> Search(const search::SearchQuery& query) = 0;
  // The matches of several queries with the same _sort keys, page size and total request (such
  // as one per type), merged in that order (ties: by the query's place in `parts`, then as one
  // query orders them): one page from `cursor` (empty, or a next_cursor of this call with the
  // same parts), in one snapshot. Pages go forward only (no previous_cursor).
  // Errors: kInvalid (a cursor this store did not make), as reads.
  virtual Result<SearchPage> SearchMerged(const std::vector<search::SearchQuery>& parts, const std::string& cursor) = 0;
  // What a compartment's $everything can hold (its compartment has an id; `referenced_by` lists
  // each member type's parameters): so that it searches only the types that can have a match.
  // Errors: as reads.
  virtual Result<CompartmentReach> Reach(const search::CompartmentFilter& compartment) = 0;
  virtual Result<StoreStats> Stats() = 0;
  // Makes the index rows a bulk load staged searchable; nothing to do when none are staged.
  // Errors: as writes.
  virtual Status CompleteIndex() = 0;
  // A store-wide state value, or nullopt if none is set. "search_reindex": present while stored
  // resources still need their search index rows; its value is where that work resumes.
  virtual Result<std::optional<std::string>> ReadMeta(const std::string& key) = 0;
  // The state values whose keys start with `prefix` (key, value), in key order, at most `limit`.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListMeta(const std::string& prefix, std::size_t limit) = 0;

  // The audit trail's records from sequence `from` on, in order, at most `limit`.
  virtual Result<std::vector<AuditRecord>> ReadAudit(std::int64_t from, std::size_t limit) = 0;
  // The records matching `query`, in its order.
  virtual Result<std::vector<AuditRecord>> SearchAudit(const AuditQuery& query) = 0;
  // The signed checkpoints from sequence `from` on, in order; the signed head, if any.
  virtual Result<std::vector<AuditSeal>> AuditCheckpoints(std::int64_t from) = 0;
  virtual Result<std::optional<AuditSeal>> AuditHead() = 0;
};

}  // namespace ck::store
