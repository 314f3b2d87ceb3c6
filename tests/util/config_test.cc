#include "util/config.h"

#include <fstream>

#include <gtest/gtest.h>

namespace ck {
namespace {

std::filesystem::path WriteTempFile(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsAreDocumented) {
  Config config;
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.data_dir, "var");
  EXPECT_EQ(config.BaseUrl(), "http://127.0.0.1:8080/fhir");
}

TEST(ConfigTest, FileThenEnvironmentThenFlagsWin) {
  Config config;
  auto file = WriteTempFile("ck-config", "listen = \"0.0.0.0:9000\"\ndata = \"/srv/ck\"\nthreads = 3\n");
  ASSERT_TRUE(ApplyConfigFile(config, file).ok());
  EXPECT_EQ(config.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.threads, 3u);
  ASSERT_TRUE(ApplyConfigEnvironment(config, {{"CHARTKEEPER_LISTEN", "127.0.0.1:9100"}}).ok());
  EXPECT_EQ(config.listen, "127.0.0.1:9100");
  EXPECT_EQ(config.data_dir, "/srv/ck");
  ASSERT_TRUE(ApplyConfigValue(config, "listen", "127.0.0.1:9200").ok());
  EXPECT_EQ(config.listen, "127.0.0.1:9200");
  std::filesystem::remove(file);
}

TEST(ConfigTest, RejectsUnknownKeysAndBadNumbers) {
  Config config;
  EXPECT_EQ(ApplyConfigValue(config, "lisen", "x").code(), StatusCode::kInvalid);
  EXPECT_EQ(ApplyConfigValue(config, "threads", "two").code(), StatusCode::kInvalid);
  EXPECT_EQ(ApplyConfigValue(config, "threads", "-1").code(), StatusCode::kInvalid);
  auto file = WriteTempFile("ck-bad", "listen = [1, 2\n");
  Status s = ApplyConfigFile(config, file);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_NE(s.message().find("config file"), std::string::npos);
  std::filesystem::remove(file);
}

TEST(ConfigTest, PackagesAreAListFromACommaSeparatedValueOrATomlArray) {
  Config config;
  EXPECT_TRUE(config.packages.empty());
  ASSERT_TRUE(ApplyConfigValue(config, "packages", "a.tgz, /opt/ig/b.tgz").ok());
  EXPECT_EQ(config.packages, (std::vector<std::filesystem::path>{"a.tgz", "/opt/ig/b.tgz"}));
  auto file = WriteTempFile("ck-packages", "packages = [\"us-core.tgz\", \"ips.tgz\"]\n");
  ASSERT_TRUE(ApplyConfigFile(config, file).ok());
  EXPECT_EQ(config.packages, (std::vector<std::filesystem::path>{"us-core.tgz", "ips.tgz"}));
  std::filesystem::remove(file);
  ASSERT_TRUE(ApplyConfigValue(config, "packages", "").ok());
  EXPECT_TRUE(config.packages.empty());
  Status empty_item = ApplyConfigValue(config, "packages", "a.tgz,,b.tgz");
  EXPECT_EQ(empty_item.code(), StatusCode::kInvalid);
  EXPECT_NE(empty_item.message().find("empty item"), std::string::npos);
  auto numbers = WriteTempFile("ck-packages-bad", "packages = [1, 2]\n");
  EXPECT_EQ(ApplyConfigFile(config, numbers).code(), StatusCode::kInvalid);
  std::filesystem::remove(numbers);
}

TEST(ConfigTest, ASwitchTakesATomlBooleanOrTrueOrFalse) {
  Config config;
  EXPECT_EQ(config.referential_integrity, "true");
  auto file = WriteTempFile("ck-switch", "referential_integrity = false\n");
  ASSERT_TRUE(ApplyConfigFile(config, file).ok());
  EXPECT_EQ(config.referential_integrity, "false");
  std::filesystem::remove(file);
  ASSERT_TRUE(ApplyConfigValue(config, "referential_integrity", "true").ok());
  EXPECT_EQ(config.referential_integrity, "true");
  EXPECT_EQ(ApplyConfigValue(config, "referential_integrity", "off").code(), StatusCode::kInvalid);
}

// Every key a user can set is in the README's configuration table, with its default.
TEST(ConfigTest, TheReadmeDocumentsEveryKey) {
  std::ifstream readme(std::filesystem::path(CK_SOURCE_DIR) / "README.md");
  std::string text((std::istreambuf_iterator<char>(readme)), std::istreambuf_iterator<char>());
  for (std::string_view key : ConfigKeys()) {
    EXPECT_NE(text.find("| `" + std::string(key) + "` |"), std::string::npos) << key;
  }
}

TEST(ConfigTest, SetsTheFrontDoorLimits) {
  Config config;
  EXPECT_EQ(config.header_timeout_seconds, 10u);
  EXPECT_EQ(config.max_issues, 100u);
  ASSERT_TRUE(ApplyConfigValue(config, "max_connections", "500").ok());
  ASSERT_TRUE(ApplyConfigValue(config, "query_time_limit_ms", "2500").ok());
  EXPECT_EQ(config.max_connections, 500u);
  EXPECT_EQ(config.query_time_limit_ms, 2500u);
}

}  // namespace
}  // namespace ck
