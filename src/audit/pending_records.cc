#include "audit/pending_records.h"

namespace ck::audit {

std::function<void(Status)> PendingRecords::Expect() {
  {
    std::lock_guard lock(mu_);
    ++expected_;
  }
  return [self = shared_from_this()](Status status) { self->Finished(std::move(status)); };
}

void PendingRecords::Finished(Status status) {
  std::function<void(Status)> done;
  Status result;
  {
    std::lock_guard lock(mu_);
    ++finished_;
    if (!status.ok() && failure_.ok()) failure_ = std::move(status);
    if (finished_ < expected_ || !done_) return;
    done = std::move(done_);
    done_ = nullptr;
    result = failure_;
  }
  done(std::move(result));
}

void PendingRecords::WhenDurable(std::function<void(Status)> done) {
  Status result;
  {
    std::lock_guard lock(mu_);
    if (finished_ < expected_) {
      done_ = std::move(done);
      return;
    }
    result = failure_;
  }
  done(std::move(result));
}

bool PendingRecords::any() const {
  std::lock_guard lock(mu_);
  return expected_ > 0;
}

}  // namespace ck::audit
