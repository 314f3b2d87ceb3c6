#pragma once
// A fresh folder under the system temp directory, removed when the object dies, with the keys
// a server or command makes beside it when it is used as a data folder
// ("<folder>-audit-key.pem" and "<folder>-encryption-key", cli/audited_store.h).

#include <filesystem>
#include <random>
#include <string>

namespace ck::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() / ("ck-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
    std::filesystem::remove(path_.string() + "-audit-key.pem", ignored);
    std::filesystem::remove(path_.string() + "-encryption-key", ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ck::testing
