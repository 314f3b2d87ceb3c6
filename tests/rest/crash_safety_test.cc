// Crash safety: concurrent writers, the server killed with SIGKILL at a random moment, restarted
// on the same data; every write that got a 2xx answer must be there, and SQLite's integrity
// check must pass. Repeated for several rounds on the same database.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

constexpr int kRounds = 5;
constexpr int kWriters = 12;

std::string IntegrityCheck(const std::filesystem::path& db_file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "cannot open";
  std::string result;
  sqlite3_exec(db, "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) += values[0] != nullptr ? values[0] : "";
    return 0;
  }, &result, nullptr);
  sqlite3_close(db);
  return result;
}

std::int64_t VersionOf(const std::string& etag) { return std::stoll(etag.substr(3, etag.size() - 4)); }

TEST(CrashSafetyTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  std::mutex mu;
  std::map<std::string, std::int64_t> acknowledged;  // "Type/id" -> version answered with 2xx
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < kRounds; ++round) {
    auto server = std::make_unique<testing::ServerProcess>(dir.path());
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, port = server->port()] {
        try {
          testing::HttpClient client(port);
          for (int i = 0;; ++i) {
            // Half new resources, half new versions of one resource per writer.
            std::string id = i % 2 ? "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" + std::to_string(i)
                                   : "shared-w" + std::to_string(w);
            std::string body = R"({"resourceType":"Observation","id":")" + id +
                               R"(","status":"final","code":{"text":"crash"},"valueInteger":)" + std::to_string(i) + "}";
            auto result = client.Put("/fhir/Observation/" + id, body);
            if (result.status != 200 && result.status != 201) continue;
            std::lock_guard lock(mu);
            acknowledged["Observation/" + id] = VersionOf(result.Header("etag"));
          }
        } catch (const std::exception&) {
          // The server died under us: expected.
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(200, 1200)(random)));
    server->Kill();
    for (auto& writer : writers) writer.join();

    server = std::make_unique<testing::ServerProcess>(dir.path());
    testing::HttpClient client(server->port());
    std::size_t checked = 0;
    for (const auto& [reference, version] : acknowledged) {
      auto read = client.Get("/fhir/" + reference);
      ASSERT_EQ(read.status, 200) << reference << " acknowledged but lost in round " << round;
      EXPECT_GE(VersionOf(read.Header("etag")), version) << reference;
      ++checked;
    }
    server->Stop();
    EXPECT_EQ(IntegrityCheck(dir.path() / "chartkeeper.db"), "ok");
    std::printf("round %d: %zu acknowledged resources present after SIGKILL\n", round, checked);
  }
  EXPECT_GT(acknowledged.size(), 0u);
}

}  // namespace
}  // namespace ck
