#include "store/sqlite/rekey_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "store/sqlite/encrypted_vfs.h"
#include "util/crypto.h"

namespace ck::store::sqlite {
namespace {

constexpr std::string_view kMagic = "chartkeeper-rekey-journal-1\n";
constexpr std::size_t kHead = kMagic.size() + 8, kEntry = 8 + kEncryptedPageSize, kDigest = 32;

void PutNumber(std::string& out, std::uint64_t n) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
}
std::uint64_t GetNumber(std::string_view in) {
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = n << 8 | static_cast<unsigned char>(in[i]);
  return n;
}

Status SyncFolder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  return synced ? Status::Ok() : Status::Internal("cannot sync the folder " + folder.string());
}

}  // namespace

std::filesystem::path RekeyJournalPath(const std::filesystem::path& data_dir) { return data_dir / "rekey-journal"; }

Status WriteRekeyJournal(const std::filesystem::path& data_dir, const std::vector<JournalPage>& pages) {
  std::string bytes(kMagic);
  PutNumber(bytes, pages.size());
  for (const JournalPage& page : pages) {
    PutNumber(bytes, page.number);
    bytes += page.stored;
  }
  bytes += Sha256(bytes);
  const std::filesystem::path file = RekeyJournalPath(data_dir);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + file.string());
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == bytes.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::Internal("cannot write " + file.string());
  return SyncFolder(data_dir);
}

Result<std::vector<JournalPage>> ReadRekeyJournal(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = RekeyJournalPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::vector<JournalPage>();
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Err(Status::Internal("cannot read " + file.string()));
  const std::string_view view(bytes);
  const bool whole = view.size() >= kHead + kDigest && view.substr(0, kMagic.size()) == kMagic &&
                     view.size() == kHead + GetNumber(view.substr(kMagic.size())) * kEntry + kDigest &&
                     Sha256(view.substr(0, view.size() - kDigest)) == view.substr(view.size() - kDigest);
  std::vector<JournalPage> pages;
  if (!whole) return pages;
  for (std::size_t at = kHead; at + kDigest < view.size(); at += kEntry) {
    pages.push_back({GetNumber(view.substr(at)), std::string(view.substr(at + 8, kEncryptedPageSize))});
  }
  return pages;
}

Status RemoveRekeyJournal(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::remove(RekeyJournalPath(data_dir), ec);
  if (ec) return Status::Internal("cannot remove " + RekeyJournalPath(data_dir).string());
  return SyncFolder(data_dir);
}

}  // namespace ck::store::sqlite
