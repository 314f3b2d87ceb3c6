// `audit verify` speed (issue 11's goal: at least 500,000 records/s): a trail of realistic
// records (a read by a clinician of one Observation of one patient, ~330 bytes each) written
// straight into a store with checkpoints every 1,000, then verified from the first record.
// Usage: audit_verify_bench [records] (default 1,000,000). Prints one line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "audit/audit_entry.h"
#include "audit/audit_key.h"
#include "audit/audit_verify.h"
#include "store/sqlite/sqlite_store.h"
#include "util/log.h"

int main(int argc, char** argv) {
  using namespace ck;
  InitLogging("warn");
  const std::int64_t total = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const auto dir = std::filesystem::temp_directory_path() / ("ck-audit-bench-" + std::to_string(std::random_device()()));
  std::filesystem::create_directories(dir);
  auto key = audit::AuditKey::LoadOrCreate(dir / "key.pem", dir / "data");
  auto check = audit::AuditKeyCheck::FromPem((*key)->PublicKeyPem());
  SystemClock clock;
  {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir / "data",
                                                 .clock = &clock,
                                                 .audit_signer = [&](std::string_view message) { return (*key)->Sign(message); }});
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
      return 1;
    }
    constexpr std::int64_t kPerWrite = 1000;  // one commit (and seal) per thousand records
    for (std::int64_t written = 0; written < total; written += kPerWrite) {
      Status status = (*store)->Write([&](store::WriteTransaction& txn) -> Status {
        for (std::int64_t i = written; i < std::min(total, written + kPerWrite); ++i) {
          audit::AuditEntry entry;
          entry.subtype = "read";
          entry.door = "rest";
          entry.user = "clinician-" + std::to_string(i % 97);
          entry.client = "chart-app";
          entry.roles = {"clinician"};
          entry.address = "10.1.2." + std::to_string(i % 250);
          entry.request = std::to_string(i);
          entry.purpose = "TREAT";
          entry.entities = {"Observation/" + std::to_string(i) + "/_history/1"};
          entry.patients = {"patient-" + std::to_string(i % 5000)};
          CK_ASSIGN_OR_RETURN(std::int64_t sequence, txn.AppendAudit(audit::AuditContent(entry), entry.Links()));
          (void)sequence;
        }
        return Status::Ok();
      });
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 1;
      }
    }
  }
  auto store = store::sqlite::OpenSqliteStore({.data_dir = dir / "data", .clock = &clock, .read_only = true});
  const auto started = std::chrono::steady_clock::now();
  auto report = audit::VerifyTrail(**store, **check, 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::filesystem::remove_all(dir);
  if (!report || !report->ok()) {
    std::fprintf(stderr, "verify failed: %s\n", report ? report->message.c_str() : report.error().ToString().c_str());
    return 1;
  }
  std::printf("audit verify: %lld records and %lld checkpoints in %.2f s: %.0f records/s (goal: at least 500,000)\n",
              static_cast<long long>(report->checked), static_cast<long long>(report->checkpoints), seconds,
              static_cast<double>(report->checked) / seconds);
  return 0;
}
