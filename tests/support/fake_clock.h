#pragma once
// A Clock that tests move by hand.

#include <atomic>

#include "util/time.h"

namespace ck::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis Now() const override { return now_; }
  void Set(Millis t) { now_ = t; }
  void Advance(Millis delta) { now_ += delta; }

 private:
  std::atomic<Millis> now_;
};

}  // namespace ck::testing
