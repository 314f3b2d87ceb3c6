#include "rest/metrics.h"

#include <fmt/format.h>

namespace ck::rest {

void Metrics::Record(std::string_view interaction, int status, double seconds) {
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  std::lock_guard lock(mu_);
  ++requests_[{interaction, status}];
  ++buckets_[bucket];
  seconds_sum_ += seconds;
  ++count_;
}

std::string Metrics::Render(const store::StoreStats& store) const {
  std::string out;
  out += "# HELP chartkeeper_requests_total HTTP requests by FHIR interaction and status.\n";
  out += "# TYPE chartkeeper_requests_total counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [key, count] : requests_) {
    out += fmt::format("chartkeeper_requests_total{{interaction=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
  }
  out += "# HELP chartkeeper_request_duration_seconds Time from a parsed request to its response.\n";
  out += "# TYPE chartkeeper_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out += fmt::format("chartkeeper_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], cumulative);
  }
  out += fmt::format("chartkeeper_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", count_);
  out += fmt::format("chartkeeper_request_duration_seconds_sum {}\n", seconds_sum_);
  out += fmt::format("chartkeeper_request_duration_seconds_count {}\n", count_);
  out += "# HELP chartkeeper_database_bytes Size of the database files.\n";
  out += "# TYPE chartkeeper_database_bytes gauge\n";
  out += fmt::format("chartkeeper_database_bytes {}\n", store.database_bytes);
  out += "# HELP chartkeeper_store_writes_total Write operations made durable.\n";
  out += "# TYPE chartkeeper_store_writes_total counter\n";
  out += fmt::format("chartkeeper_store_writes_total {}\n", store.committed_operations);
  out += "# HELP chartkeeper_store_commits_total Database transactions committed (one fsync each).\n";
  out += "# TYPE chartkeeper_store_commits_total counter\n";
  out += fmt::format("chartkeeper_store_commits_total {}\n", store.commits);
  out += "# HELP chartkeeper_store_wal_checkpoints_total Write-ahead log checkpoints that copied every frame (most by a thread of their own).\n";
  out += "# TYPE chartkeeper_store_wal_checkpoints_total counter\n";
  out += fmt::format("chartkeeper_store_wal_checkpoints_total {}\n", store.wal_checkpoints);
  out += "# HELP chartkeeper_store_integrity_faults_total Stored pages that failed to authenticate (encryption at rest).\n";
  out += "# TYPE chartkeeper_store_integrity_faults_total counter\n";
  out += fmt::format("chartkeeper_store_integrity_faults_total {}\n", store.integrity_faults);
  return out;
}

}  // namespace ck::rest
