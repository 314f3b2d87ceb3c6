#pragma once
// Checkpoints the write-ahead log mostly from a thread and a connection of its own, so that no
// commit waits for the copy of ~1,000 pages. SQLite's automatic checkpoint runs in the
// connection that commits, after the commit, on the writer thread: every write and every audited
// read queued behind it waited for the copy and the database file's fsync. Here the writer's
// connection reports the log's length after each commit (a WAL hook); once kCheckpointPages
// frames were added since the last checkpoint, the thread runs a PASSIVE checkpoint, which copies
// what no reader still needs and blocks neither the writer nor the readers.
//
// The log starts over (its file written again from the start) only when a transaction of the
// writer begins with every frame copied, and while the thread copied, commits went on adding
// frames: so after each of the thread's checkpoints the writer copies those last few frames
// itself (kWriterFinishPages at most; more, and the thread copies again). Without that the log
// grows without end under steady writes and every page read searches a longer log. Should the
// thread fall far behind, the writer checkpoints itself past kWriterCheckpointPages. Private to
// store/sqlite.
// Thread safety: the hook runs on the writer's thread; everything else is internal.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_connection.h"
#include "util/status.h"

namespace ck::store::sqlite {

class WalCheckpointer {
 public:
  static constexpr int kCheckpointPages = 1000;  // SQLite's own default
  static constexpr int kWriterFinishPages = 512;
  static constexpr int kWriterCheckpointPages = 64 * 1024;

  // Opens its connection to `database` (through `vfs`, empty for SQLite's default) and starts.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::filesystem::path& database, const std::string& vfs);
  ~WalCheckpointer();  // stops after the checkpoint under way, if any
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Makes `writer` report to this after each commit instead of checkpointing itself. REQUIRES:
  // this outlives `writer`'s commits.
  void Attach(Connection& writer);
  // Checkpoints run to the end (every frame then in the log copied), by the thread or the writer.
  std::int64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

 private:
  explicit WalCheckpointer(std::unique_ptr<Connection> db);
  static int OnCommit(void* self, sqlite3* writer, const char* database, int pages);
  // Runs a PASSIVE checkpoint through `db`; true when it copied every frame of the log.
  bool Checkpoint(sqlite3* db, const char* database);
  void Loop();

  std::unique_ptr<Connection> db_;  // this thread's only
  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;       // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::atomic<std::int64_t> checkpoints_{0};
  std::atomic<int> copied_{0};              // the log's frames the last complete checkpoint copied
  std::atomic<bool> finish_due_{false};     // the thread completed one: the writer copies the rest
  int logged_ = 0;                          // the writer's thread only: the log's length at its last commit
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace ck::store::sqlite
