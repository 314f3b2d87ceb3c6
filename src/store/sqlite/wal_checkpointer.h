#pragma once
// Checkpoints the write-ahead log from a thread and a connection of its own, so that no commit
// waits for one. SQLite's automatic checkpoint runs in the connection that commits, after the
// commit, on the writer thread: every write and every audited read queued behind it waited for
// the copy of ~1,000 pages and the database file's fsync. Here the writer's connection only
// reports the log's size after each commit (a WAL hook); past kCheckpointPages the thread runs a
// PASSIVE checkpoint, which copies what no reader still needs and blocks neither the writer nor
// the readers. Should the thread fall far behind, the writer checkpoints itself past
// kWriterCheckpointPages, so the log stays bounded. Private to store/sqlite.
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
  static constexpr int kWriterCheckpointPages = 64 * 1024;

  // Opens its connection to `database` (through `vfs`, empty for SQLite's default) and starts.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::filesystem::path& database, const std::string& vfs);
  ~WalCheckpointer();  // stops after the checkpoint under way, if any
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Makes `writer` report to this after each commit instead of checkpointing itself. REQUIRES:
  // this outlives `writer`'s commits.
  void Attach(Connection& writer);
  // Checkpoints run to the end (every frame then in the log copied), by this thread.
  std::int64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

 private:
  explicit WalCheckpointer(std::unique_ptr<Connection> db);
  static int OnCommit(void* self, sqlite3* writer, const char* database, int pages);
  void Loop();

  std::unique_ptr<Connection> db_;  // this thread's only
  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;       // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::atomic<std::int64_t> checkpoints_{0};
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace ck::store::sqlite
