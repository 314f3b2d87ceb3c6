#pragma once
// Request metrics in Prometheus text format: requests by FHIR interaction and HTTP status, a
// latency histogram, and storage gauges supplied at scrape time.
// Thread safety: Record and Render may be called from any thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "store/resource_store.h"

namespace ck::rest {

class Metrics {
 public:
  // REQUIRES: `interaction` names static storage (a string literal): it is kept, not copied.
  void Record(std::string_view interaction, int status, double seconds);
  // The exposition text, with `store` gauges appended.
  std::string Render(const store::StoreStats& store) const;

 private:
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,   5,     10};
  mutable std::mutex mu_;
  std::map<std::pair<std::string_view, int>, std::uint64_t> requests_;  // guarded by mu_
  std::array<std::uint64_t, kBuckets.size() + 1> buckets_{};       // guarded by mu_; last is +Inf
  double seconds_sum_ = 0;                                         // guarded by mu_
  std::uint64_t count_ = 0;                                        // guarded by mu_
};

}  // namespace ck::rest
