// Crash safety: concurrent writers, the server killed with SIGKILL at a random moment, restarted
// on the same data; every write that got a 2xx answer must be there, and SQLite's integrity
// check must pass. Repeated for several rounds on the same database. Then the same with a stream
// of large transactions: each one acknowledged is there whole, and none is there in part.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/data_folder.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

constexpr int kRounds = 5;
constexpr int kWriters = 12;

// Through the encrypting VFS: the server encrypts its folder.
std::string IntegrityCheck(const std::filesystem::path& data_dir) {
  testing::RawDatabase db(data_dir, SQLITE_OPEN_READONLY);
  std::string result;
  sqlite3_exec(db.get(), "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) += values[0] != nullptr ? values[0] : "";
    return 0;
  }, &result, nullptr);
  return result;
}

std::int64_t VersionOf(const std::string& etag) { return std::stoll(etag.substr(3, etag.size() - 4)); }

// `clients` threads call send(client, thread, i) for i = 0, 1, ... until the server dies; it is
// killed with SIGKILL after a random delay in [min_ms, max_ms], and the threads are joined.
void KillWhileSending(testing::ServerProcess& server, int clients, std::mt19937& random, int min_ms, int max_ms,
                      const std::function<void(testing::HttpClient&, int, int)>& send) {
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t, port = server.port()] {
      try {
        testing::HttpClient client(port);
        for (int i = 0;; ++i) send(client, t, i);
      } catch (const std::exception&) {
        // The server died under us: expected.
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution(min_ms, max_ms)(random)));
  server.Kill();
  for (auto& thread : threads) thread.join();
}

TEST(CrashSafetyTest, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir dir;
  std::mutex mu;
  std::map<std::string, std::int64_t> acknowledged;  // "Type/id" -> version answered with 2xx
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < kRounds; ++round) {
    auto server = std::make_unique<testing::ServerProcess>(dir.path());
    KillWhileSending(*server, kWriters, random, 200, 1200, [&](testing::HttpClient& client, int w, int i) {
      // Half new resources, half new versions of one resource per writer.
      std::string id = i % 2 ? "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" + std::to_string(i)
                             : "shared-w" + std::to_string(w);
      std::string body = R"({"resourceType":"Observation","id":")" + id +
                         R"(","status":"final","code":{"text":"crash"},"valueInteger":)" + std::to_string(i) + "}";
      auto result = client.Put("/fhir/Observation/" + id, body);
      if (result.status != 200 && result.status != 201) return;
      std::lock_guard lock(mu);
      acknowledged["Observation/" + id] = VersionOf(result.Header("etag"));
    });

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
    EXPECT_EQ(IntegrityCheck(dir.path()), "ok");
    std::printf("round %d: %zu acknowledged resources present after SIGKILL\n", round, checked);
  }
  EXPECT_GT(acknowledged.size(), 0u);
}

// A transaction Bundle of one Patient and kObservations Observations of it, every resource
// carrying the Bundle's key as an identifier, so what of it is stored can be counted.
constexpr int kObservations = 40;

std::string TransactionBundle(const std::string& key) {
  const std::string identifier = R"("identifier":[{"system":"http://crash.example/bundle","value":")" + key + R"("}])";
  std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:6d1e0c2a-0000-4000-8000-000000000001",)"
                       R"("resource":{"resourceType":"Patient",)" + identifier + R"(},"request":{"method":"POST","url":"Patient"}})";
  for (int i = 0; i < kObservations; ++i) {
    bundle += R"(,{"resource":{"resourceType":"Observation",)" + identifier +
              R"(,"status":"final","code":{"text":"crash"},"subject":{"reference":"urn:uuid:6d1e0c2a-0000-4000-8000-000000000001"},"valueInteger":)" +
              std::to_string(i) + R"(},"request":{"method":"POST","url":"Observation"}})";
  }
  return bundle + "]}";
}

TEST(CrashSafetyTest, TransactionsAreWholeOrAbsentAfterSigkill) {
  constexpr int kTransactionRounds = 10;
  constexpr int kSenders = 4;
  testing::TempDir dir;
  std::mutex mu;
  std::map<std::string, bool> sent;  // Bundle key -> acknowledged (200)
  std::mt19937 random(std::random_device{}());
  std::size_t acknowledged_total = 0;
  for (int round = 0; round < kTransactionRounds; ++round) {
    auto server = std::make_unique<testing::ServerProcess>(dir.path());
    KillWhileSending(*server, kSenders, random, 300, 1500, [&](testing::HttpClient& client, int w, int i) {
      const std::string key = std::to_string(round) + "-" + std::to_string(w) + "-" + std::to_string(i);
      {
        std::lock_guard lock(mu);
        sent[key] = false;
      }
      auto result = client.Post("/fhir", TransactionBundle(key));
      if (result.status != 200) return;
      std::lock_guard lock(mu);
      sent[key] = true;
    });

    server = std::make_unique<testing::ServerProcess>(dir.path());
    testing::HttpClient client(server->port());
    auto count = [&](const std::string& type, const std::string& key) {
      auto result = client.Get("/fhir/" + type + "?identifier=http://crash.example/bundle|" + key + "&_summary=count");
      const std::string total = "\"total\":";
      std::size_t at = result.body.find(total);
      return at == std::string::npos ? -1 : std::stoi(result.body.substr(at + total.size()));
    };
    std::size_t acknowledged = 0;
    for (const auto& [key, acked] : sent) {
      if (!key.starts_with(std::to_string(round) + "-")) continue;
      const int stored = count("Patient", key) + count("Observation", key);
      if (acked) {
        EXPECT_EQ(stored, 1 + kObservations) << "acknowledged transaction " << key << " not whole after SIGKILL";
        ++acknowledged;
      } else {
        // Killed before its answer: the commit may or may not have happened, but never in part.
        EXPECT_TRUE(stored == 0 || stored == 1 + kObservations) << "transaction " << key << " stored in part: " << stored;
      }
    }
    server->Stop();
    EXPECT_EQ(IntegrityCheck(dir.path()), "ok");
    std::printf("round %d: %zu acknowledged transactions whole after SIGKILL\n", round, acknowledged);
    acknowledged_total += acknowledged;
  }
  EXPECT_GT(acknowledged_total, 0u);
}

}  // namespace
}  // namespace ck
