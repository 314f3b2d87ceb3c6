#include "store/sqlite/wal_checkpointer.h"

#include "util/log.h"

namespace ck::store::sqlite {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::filesystem::path& database, const std::string& vfs) {
  CK_ASSIGN_OR_RETURN(auto db, Connection::Open(database, Connection::Mode::kReadWrite, vfs));
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

int WalCheckpointer::OnCommit(void* self, sqlite3* writer, const char* database, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= kWriterCheckpointPages) {  // far behind: the writer's own, as SQLite's automatic one
    (void)sqlite3_wal_checkpoint_v2(writer, database, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages) {
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
    int logged = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &logged, &copied);
    if (rc == SQLITE_OK && copied == logged) {
      checkpoints_.fetch_add(1, std::memory_order_relaxed);
    } else if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {  // busy: another checkpoint (a rekey's) runs
      CK_LOG_WARN("the write-ahead log could not be checkpointed: {} (tried again after the next commit)", sqlite3_errstr(rc));
    }
  }
}

}  // namespace ck::store::sqlite
