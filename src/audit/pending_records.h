#pragma once
// The audit records of one request on their way to disk. A front door that must not block (the
// HTTP server's threads) sends its answer only once every record the request made is durable,
// or answers with the failure instead: there is no unaudited access, and no thread waits for an
// fsync. Shared (std::shared_ptr) between the request and the store's callbacks.
// Thread safety: all methods are safe from any thread.

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "util/status.h"

namespace ck::audit {

class PendingRecords : public std::enable_shared_from_this<PendingRecords> {
 public:
  static std::shared_ptr<PendingRecords> Make() { return std::shared_ptr<PendingRecords>(new PendingRecords()); }
  // One more record under way: call the result once with the store's answer for it.
  std::function<void(Status)> Expect();
  // Calls `done` once every record expected so far is durable (OK) or one failed (its status);
  // at once when there are none. Once only.
  void WhenDurable(std::function<void(Status)> done);
  // Whether a record was expected.
  bool any() const;

 private:
  PendingRecords() = default;
  void Finished(Status status);

  mutable std::mutex mu_;
  std::size_t expected_ = 0;
  std::size_t finished_ = 0;
  Status failure_;
  std::function<void(Status)> done_;
};

}  // namespace ck::audit
