#include "store/sqlite/wal_checkpointer.h"

#include "util/log.h"

namespace ck::store::sqlite {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::filesystem::path& database, const std::string& vfs) {
  CK_ASSIGN_OR_RETURN(auto db, Connection::Open(database, Connection::Mode::kReadWrite, vfs));
  // A connection learns that the database is in WAL mode at its first read; until then a
  // checkpoint through it does nothing and reports -1 frames.
  CK_RETURN_IF_ERROR(db->Execute("SELECT count(*) FROM sqlite_master"));
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db)));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Connection> db) : db_(std::move(db)), thread_([this] { Loop(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WalCheckpointer::Attach(Connection& writer) { sqlite3_wal_hook(writer.handle(), &WalCheckpointer::OnCommit, this); }

bool WalCheckpointer::Checkpoint(sqlite3* db, const char* database) {
  int logged = 0;
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db, database, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
  if (rc == SQLITE_OK && logged >= 0 && copied == logged) {
    copied_.store(copied, std::memory_order_relaxed);
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {  // busy: another checkpoint (a rekey's) runs
    CK_LOG_WARN("the write-ahead log could not be checkpointed: {} (tried again later)", sqlite3_errstr(rc));
  }
  return false;
}

int WalCheckpointer::OnCommit(void* self, sqlite3* writer, const char* database, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages < checkpointer->logged_) checkpointer->copied_.store(0, std::memory_order_relaxed);  // the log started over
  checkpointer->logged_ = pages;
  const int copied = checkpointer->copied_.load(std::memory_order_relaxed);
  const int added = pages > copied ? pages - copied : pages;
  const bool finish = checkpointer->finish_due_.load(std::memory_order_relaxed);
  if (added >= kWriterCheckpointPages) {  // far behind: the writer's own, as SQLite's automatic one
    checkpointer->Checkpoint(writer, database);
  } else if (finish && added <= kWriterFinishPages) {
    checkpointer->finish_due_.store(false, std::memory_order_relaxed);
    checkpointer->Checkpoint(writer, database);
  } else if (finish || added >= kCheckpointPages) {  // too many for the writer: the thread again
    checkpointer->finish_due_.store(false, std::memory_order_relaxed);
    {
      std::lock_guard lock(checkpointer->mu_);
      checkpointer->due_ = true;
    }
    checkpointer->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
    }
    if (Checkpoint(db_->handle(), "main")) finish_due_.store(true, std::memory_order_relaxed);
  }
}

}  // namespace ck::store::sqlite
