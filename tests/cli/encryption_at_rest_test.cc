// Encryption at rest, end to end with the real binary: after Synthea patients are loaded, no file
// of the data folder holds any of their names, identifiers or birth dates (after a clean stop
// and after SIGKILL, the write-ahead log included); a changed page makes reads fail with an
// integrity error (500) and /healthz unhealthy, never answers with wrong data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <set>

#include "cli/input_file.h"
#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

const std::filesystem::path kSynthea = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The hospital and practitioner bundles, then the first `patients` patient bundles, in name order.
std::vector<std::filesystem::path> SyntheaFiles(std::size_t patients) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSynthea)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // "0-hospital...", "0-practitioner..." first
  files.resize(std::min(files.size(), patients + 2));
  return files;
}

// What must never appear at rest: each Patient's names, identifiers and birth date, as written
// and folded to lower case (the search index keeps a folded form).
std::set<std::string> SecretsOf(const std::vector<std::filesystem::path>& files) {
  std::set<std::string> secrets;
  for (const auto& file : files) {
    auto input = cli::InputFile::Open(file);
    auto text = (*input)->ReadAll();
    rapidjson::Document bundle = testing::ParseJson(*text);
    for (const auto& entry : bundle["entry"].GetArray()) {
      const auto& resource = entry["resource"];
      if (std::string(resource["resourceType"].GetString()) != "Patient") continue;
      secrets.insert(resource["birthDate"].GetString());
      for (const auto& name : resource["name"].GetArray()) {
        if (name.HasMember("family")) secrets.insert(name["family"].GetString());
        if (name.HasMember("given")) {
          for (const auto& given : name["given"].GetArray()) secrets.insert(given.GetString());
        }
      }
      for (const auto& identifier : resource["identifier"].GetArray()) secrets.insert(identifier["value"].GetString());
    }
  }
  std::set<std::string> all;
  for (const std::string& secret : secrets) {
    if (secret.size() < 5) continue;  // too short to tell from chance
    all.insert(secret);
    all.insert(Lower(secret));
  }
  return all;
}

// The secrets found in any file of the folder (and the key files beside it).
std::vector<std::string> FoundAtRest(const std::filesystem::path& folder, const std::set<std::string>& secrets) {
  std::string bytes;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) bytes += ReadFile(entry.path());
  }
  std::vector<std::string> found;
  for (const std::string& secret : secrets) {
    if (bytes.find(secret) != std::string::npos) found.push_back(secret);
  }
  return found;
}

TEST(EncryptionAtRestTest, NoPatientDetailIsInAnyFileAfterAStopOrAKill) {
  testing::TempDir dir;
  const std::filesystem::path data = dir.path() / "var";
  const auto files = SyntheaFiles(5);
  const std::set<std::string> secrets = SecretsOf(files);
  ASSERT_GT(secrets.size(), 20u);
  std::vector<std::string> args{"--log-level", "warn"};
  for (const auto& file : files) args.push_back(file.string());
  auto imported = testing::RunChartkeeper("import", data, args);
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_EQ(FoundAtRest(dir.path(), secrets), std::vector<std::string>());

  // Through the server, killed while its write-ahead log holds the latest writes.
  const auto more = SyntheaFiles(8);
  const std::vector<std::filesystem::path> next(more.begin() + static_cast<long>(files.size()), more.end());
  const std::set<std::string> more_secrets = SecretsOf(next);
  {
    testing::ServerProcess server(data);
    testing::HttpClient client(server.port());
    for (const auto& file : next) {
      auto input = cli::InputFile::Open(file);
      auto posted = client.Request("POST", "/fhir", *(*input)->ReadAll());
      ASSERT_EQ(posted.status, 200) << posted.body.substr(0, 500);
    }
    EXPECT_TRUE(std::filesystem::exists(data / "chartkeeper.db-wal"));
    EXPECT_EQ(FoundAtRest(dir.path(), more_secrets), std::vector<std::string>());
    server.Kill();
  }
  EXPECT_EQ(FoundAtRest(dir.path(), more_secrets), std::vector<std::string>());
  EXPECT_EQ(FoundAtRest(dir.path(), secrets), std::vector<std::string>());
}

TEST(EncryptionAtRestTest, AChangedPageIsAnIntegrityErrorAndMakesTheServerUnhealthy) {
  testing::TempDir dir;
  const std::filesystem::path data = dir.path() / "var";
  constexpr int kCount = 300;
  {
    testing::ServerProcess server(data);
    testing::HttpClient client(server.port());
    for (int i = 0; i < kCount; ++i) {
      auto put = client.Request("PUT", "/fhir/Basic/b" + std::to_string(i),
                                R"({"resourceType":"Basic","id":"b)" + std::to_string(i) + R"(","code":{"text":")" + std::string(200, 'x') + R"("}})");
      ASSERT_EQ(put.status / 100, 2) << put.body;
    }
  }
  // Changed on disk while the server runs, after its start read what it needs: the last third
  // of the file, where the latest versions went.
  const std::filesystem::path log = dir.path() / "serve.log";
  testing::ServerProcess server(data, {"--cache-mb", "0", "--page-cache-mb", "1"}, {.log_file = log});
  const std::filesystem::path file = data / "chartkeeper.db";
  std::string bytes = ReadFile(file);
  const std::size_t pages = bytes.size() / 4096;
  {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    for (std::size_t page = pages * 2 / 3; page < pages; ++page) {
      out.seekp(static_cast<std::streamoff>(page * 4096 + 300));
      out.put(static_cast<char>(bytes[page * 4096 + 300] ^ 0x20));
    }
  }
  testing::HttpClient client(server.port());
  int failed = 0;
  for (int i = 0; i < kCount; ++i) {
    auto read = client.Request("GET", "/fhir/Basic/b" + std::to_string(i));
    if (read.status == 500) {
      EXPECT_NE(read.body.find("integrity"), std::string::npos) << read.body;
      ++failed;
      continue;
    }
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(testing::ParseJson(read.body)["id"].GetString(), "b" + std::to_string(i));  // never another's data
  }
  EXPECT_GT(failed, 0);
  auto health = client.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find("integrity"), std::string::npos);
  EXPECT_NE(ReadFile(log).find("integrity fault: page"), std::string::npos);
}

}  // namespace
}  // namespace ck
