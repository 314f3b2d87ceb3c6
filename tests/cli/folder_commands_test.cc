// `chartkeeper backup`, `restore` and `encrypt` (cli/folder_commands.h): a backup made during a
// write storm restores to a database that passes SQLite's integrity check and holds every write
// acknowledged before the backup began; a changed backup, a non-empty folder and a missing key
// are refused; a folder made in the clear is encrypted in place and keeps everything.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "support/chartkeeper_command.h"
#include "support/data_folder.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

class FolderCommandsTest : public ::testing::Test {
 protected:
  std::filesystem::path data() const { return dir_.path() / "var"; }
  std::filesystem::path key() const { return dir_.path() / "var-encryption-key"; }
  std::filesystem::path backup() const { return dir_.path() / "backup"; }
  std::filesystem::path restored() const { return dir_.path() / "restored"; }

  testing::CommandRun Restore() {
    return testing::RunChartkeeper("restore", restored(), {backup().string(), "--encryption-key-file", key().string(), "--log-level", "warn"});
  }

  testing::TempDir dir_;
  Config config_;
};

// Clients writing Basic resources as fast as the server takes them, remembering which writes
// were acknowledged.
class WriteStorm {
 public:
  explicit WriteStorm(int port) {
    for (int t = 0; t < 4; ++t) {
      writers_.emplace_back([this, port, t] {
        testing::HttpClient client(port);
        for (int i = 0; !stop_; ++i) {
          const std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
          auto put = client.Request("PUT", "/fhir/Basic/" + id, R"({"resourceType":"Basic","id":")" + id + R"(","code":{"text":"storm"}})");
          std::lock_guard lock(mu_);
          if (put.status / 100 == 2) {
            acknowledged_.push_back(id);
          } else {
            ++failed_;
          }
        }
      });
    }
  }
  ~WriteStorm() { Stop(); }

  // Waits until at least `n` writes were acknowledged; returns them.
  std::vector<std::string> AwaitAcknowledged(std::size_t n) {
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::lock_guard lock(mu_);
      if (acknowledged_.size() >= n) return acknowledged_;
    }
  }
  void Stop() {
    stop_ = true;
    for (auto& writer : writers_) writer.join();
    writers_.clear();
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  std::atomic<bool> stop_ = false;
  std::mutex mu_;
  std::vector<std::string> acknowledged_;
  int failed_ = 0;
  std::vector<std::thread> writers_;
};

TEST_F(FolderCommandsTest, ABackupDuringAWriteStormRestoresEveryWriteAcknowledgedBeforeIt) {
  testing::ServerProcess server(data());
  WriteStorm storm(server.port());
  const std::vector<std::string> before = storm.AwaitAcknowledged(200);
  auto made = testing::RunChartkeeper("backup", data(), {backup().string(), "--log-level", "warn"});
  storm.Stop();
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_NE(made.output.find("encrypted"), std::string::npos) << made.output;
  EXPECT_TRUE(std::filesystem::exists(backup() / "manifest.json"));
  server.Stop();

  auto restore = Restore();
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  // The keys, beside the restored folder where the server looks for them.
  std::filesystem::copy_file(dir_.path() / "var-audit-key.pem", dir_.path() / "restored-audit-key.pem");
  std::filesystem::copy_file(key(), dir_.path() / "restored-encryption-key");
  {
    testing::RawDatabase db(restored(), SQLITE_OPEN_READONLY);
    std::string check;
    sqlite3_exec(db.get(), "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
      *static_cast<std::string*>(out) += values[0];
      return 0;
    }, &check, nullptr);
    EXPECT_EQ(check, "ok");
  }
  testing::ServerProcess again(restored());
  testing::HttpClient client(again.port());
  for (const std::string& id : before) EXPECT_EQ(client.Request("GET", "/fhir/Basic/" + id).status, 200) << id;
}

TEST_F(FolderCommandsTest, AChangedBackupANonEmptyFolderAndAMissingKeyAreRefused) {
  {
    testing::ServerProcess server(data());
    testing::HttpClient client(server.port());
    ASSERT_EQ(client.Request("PUT", "/fhir/Basic/a", R"({"resourceType":"Basic","id":"a","code":{"text":"x"}})").status, 201);
  }
  auto made = testing::RunChartkeeper("backup", data(), {backup().string(), "--log-level", "warn"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto twice = testing::RunChartkeeper("backup", data(), {backup().string(), "--log-level", "warn"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.output.find("exists already"), std::string::npos) << twice.output;

  std::filesystem::create_directories(restored());
  std::ofstream(restored() / "something") << "x";
  auto not_empty = Restore();
  EXPECT_NE(not_empty.exit_code, 0);
  EXPECT_NE(not_empty.output.find("not empty"), std::string::npos) << not_empty.output;
  std::filesystem::remove_all(restored());

  auto no_key = testing::RunChartkeeper("restore", restored(), {backup().string(), "--log-level", "warn"});
  EXPECT_NE(no_key.exit_code, 0);
  EXPECT_NE(no_key.output.find("encryption key file"), std::string::npos) << no_key.output;
  std::filesystem::remove_all(restored());

  {
    std::fstream db(backup() / "chartkeeper.db", std::ios::in | std::ios::out | std::ios::binary);
    db.seekp(5000);
    db.put('\x7f');
  }
  auto changed = Restore();
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(changed.output.find("changed or damaged"), std::string::npos) << changed.output;
  EXPECT_FALSE(std::filesystem::exists(restored() / "chartkeeper.db"));
}

TEST_F(FolderCommandsTest, AfterRekeyTheServerReadsEverythingAndTheOldKeyOpensNothing) {
  {
    testing::ServerProcess server(data());
    testing::HttpClient client(server.port());
    ASSERT_EQ(client.Request("PUT", "/fhir/Basic/a", R"({"resourceType":"Basic","id":"a","code":{"text":"x"}})").status, 201);
  }
  std::filesystem::copy_file(key(), dir_.path() / "old-key");
  auto rekeyed = testing::RunChartkeeper("rekey", data(), {"--log-level", "warn"});
  ASSERT_EQ(rekeyed.exit_code, 0) << rekeyed.output;
  {
    testing::ServerProcess server(data());
    EXPECT_EQ(testing::HttpClient(server.port()).Request("GET", "/fhir/Basic/a").status, 200);
  }
  auto old = testing::RunChartkeeper("audit verify", data(), {"--encryption-key-file", (dir_.path() / "old-key").string()});
  EXPECT_NE(old.exit_code, 0);
  EXPECT_NE(old.output.find("does not open"), std::string::npos) << old.output;
}

TEST_F(FolderCommandsTest, ADataKeyRotationWithTheWrongKeyOrNoEncryptionChangesNothing) {
  {
    testing::ServerProcess server(data());
    ASSERT_EQ(testing::HttpClient(server.port()).Request("PUT", "/fhir/Basic/a", R"({"resourceType":"Basic","id":"a","code":{"text":"x"}})").status, 201);
  }
  auto bytes = [](const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string key_file = bytes(store::DataKeyPath(data())), database = bytes(store::sqlite::SqliteDatabasePath(data()));
  const std::filesystem::path wrong = dir_.path() / "wrong-key";
  std::ofstream(wrong) << std::string(64, 'a') << "\n";
  std::filesystem::permissions(wrong, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto refused = testing::RunChartkeeper("rekey", data(), {"--data-key", "--encryption-key-file", wrong.string(), "--log-level", "warn"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("does not open"), std::string::npos) << refused.output;
  auto off = testing::RunChartkeeper("rekey", data(), {"--data-key", "--encryption", "off", "--log-level", "warn"});
  EXPECT_NE(off.exit_code, 0);
  EXPECT_NE(off.output.find("encryption is off"), std::string::npos) << off.output;
  auto both = testing::RunChartkeeper("rekey", data(), {"--data-key", "--new-key-file", wrong.string()});
  EXPECT_NE(both.exit_code, 0);
  EXPECT_EQ(bytes(store::DataKeyPath(data())), key_file);
  EXPECT_EQ(bytes(store::sqlite::SqliteDatabasePath(data())), database);
}

TEST_F(FolderCommandsTest, ADataKeyRotationUnderLoadKeepsEveryWriteAndTheOldDataKeyOpensNothing) {
  auto kek = [&] {
    config_.data_dir = data();
    return *cli::LoadKeyEncryptionKey(config_);
  };
  std::shared_ptr<const Secret> old_data_key;
  std::vector<std::string> written;
  {
    testing::ServerProcess server(data());
    WriteStorm storm(server.port());
    storm.AwaitAcknowledged(1000);
    old_data_key = store::OpenDataKeys(data(), *kek())->current;
    auto rotated = testing::RunChartkeeper("rekey", data(), {"--data-key", "--log-level", "warn"});
    const std::size_t during = storm.acknowledged().size();
    storm.AwaitAcknowledged(during + 100);  // the server goes on writing, under the new key
    storm.Stop();
    ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
    EXPECT_NE(rotated.output.find("re-encrypted"), std::string::npos) << rotated.output;
    EXPECT_EQ(storm.failed(), 0);
    written = storm.acknowledged();
    testing::HttpClient client(server.port());
    for (std::size_t i = 0; i < written.size(); i += 17) EXPECT_EQ(client.Request("GET", "/fhir/Basic/" + written[i]).status, 200) << written[i];
    EXPECT_EQ(client.Request("GET", "/healthz").status, 200);
  }
  const store::DataKeys keys = *store::OpenDataKeys(data(), *kek());
  EXPECT_TRUE(keys.previous.empty());
  EXPECT_NE(keys.current->bytes(), old_data_key->bytes());
  {
    testing::ServerProcess server(data());
    testing::HttpClient client(server.port());
    for (const std::string& id : written) EXPECT_EQ(client.Request("GET", "/fhir/Basic/" + id).status, 200) << id;
  }
  auto old = store::sqlite::EncryptedVfs::Register(store::DataKeyRing::Of(old_data_key));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(store::sqlite::SqliteDatabasePath(data()).c_str(), &db, SQLITE_OPEN_READONLY, (*old)->name().c_str()), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "SELECT count(*) FROM resource_version", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_GT((*old)->integrity_failures(), 0);
}

TEST_F(FolderCommandsTest, AFolderMadeInTheClearIsEncryptedInPlaceAndKeepsEverything) {
  const std::string marker = "Obadiah-Thistlewood";
  {
    testing::ServerProcess server(data(), {"--encryption", "off"});
    testing::HttpClient client(server.port());
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(client.Request("PUT", "/fhir/Patient/p" + std::to_string(i),
                               R"({"resourceType":"Patient","id":"p)" + std::to_string(i) + R"(","name":[{"family":")" + marker + R"("}]})").status,
                201);
    }
  }
  auto refused = testing::RunChartkeeper("serve", data(), {"--listen", "127.0.0.1:0", "--auth", "off"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("chartkeeper encrypt"), std::string::npos) << refused.output;

  auto encrypted = testing::RunChartkeeper("encrypt", data(), {"--log-level", "warn"});
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.output;
  EXPECT_TRUE(std::filesystem::exists(key()));
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(data())) {
    std::ifstream in(entry.path(), std::ios::binary);
    bytes += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(bytes.find(marker), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "var.encrypting"));
  auto again = testing::RunChartkeeper("encrypt", data(), {"--log-level", "warn"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("encrypted already"), std::string::npos) << again.output;

  {
    testing::ServerProcess server(data());
    testing::HttpClient client(server.port());
    for (int i = 0; i < 50; ++i) {
      auto read = client.Request("GET", "/fhir/Patient/p" + std::to_string(i));
      ASSERT_EQ(read.status, 200);
      EXPECT_NE(read.body.find(marker), std::string::npos);
    }
    EXPECT_EQ(client.Request("GET", "/fhir/Patient?family=" + marker + "&_summary=count").status, 200);
  }
  auto verified = testing::RunChartkeeper("audit verify", data(), {});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace ck
