#include "util/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ck {
namespace {

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ::fsync(fd) == 0;
}

Status SyncFolder(const std::filesystem::path& file) {
  const std::filesystem::path folder = file.has_parent_path() ? file.parent_path() : ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Internal("cannot open the folder " + folder.string());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status::Ok() : Status::Internal("cannot sync the folder " + folder.string());
}

}  // namespace

Result<std::string> ReadKeyFile(const std::filesystem::path& file, std::string_view what) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return Err(Status::NotFound(std::string(what) + " " + file.string() + " does not exist"));
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Err(Status::Invalid(std::string(what) + " " + file.string() + " is readable by others; chmod 600 it"));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Err(Status::Invalid("cannot read " + std::string(what) + " " + file.string()));
  return text.str();
}

Status CreateKeyFile(const std::filesystem::path& file, std::string_view bytes, std::string_view what) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create " + std::string(what) + " " + file.string());
  const bool written = WriteAll(fd, bytes);
  ::close(fd);
  if (!written) return Status::Internal("cannot write " + std::string(what) + " " + file.string());
  return SyncFolder(file);
}

Status ReplaceKeyFile(const std::filesystem::path& file, std::string_view bytes, std::string_view what) {
  const std::filesystem::path next = file.string() + ".next";
  std::error_code ec;
  std::filesystem::remove(next, ec);
  CK_RETURN_IF_ERROR(CreateKeyFile(next, bytes, what));
  std::filesystem::rename(next, file, ec);
  if (ec) return Status::Internal("cannot replace " + std::string(what) + " " + file.string() + ": " + ec.message());
  return SyncFolder(file);
}

bool IsInside(const std::filesystem::path& file, const std::filesystem::path& folder) {
  std::error_code ec;
  std::filesystem::path f = std::filesystem::weakly_canonical(file, ec);
  std::filesystem::path d = std::filesystem::weakly_canonical(folder, ec);
  auto [end, _] = std::mismatch(d.begin(), d.end(), f.begin(), f.end());
  return end == d.end();
}

}  // namespace ck
