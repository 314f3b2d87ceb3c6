#include "store/data_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <vector>

#include "util/crypto.h"
#include "util/key_file.h"
#include "util/log.h"

namespace ck::store {
namespace {

constexpr std::string_view kFirstLine = "chartkeeper-data-key 2";
constexpr std::string_view kFirstLineVersion1 = "chartkeeper-data-key 1";
constexpr std::string_view kAad = "chartkeeper data key 1";
constexpr int kKey = 32, kNonce = 12, kTag = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// base64(nonce | key wrapped under kek | tag).
Result<std::string> Wrap(const Secret& key, const Secret& kek) {
  std::string out(kNonce + kKey + kTag, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int n = 0;
  if (RAND_bytes(bytes, kNonce) != 1 || !ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek.data(), bytes) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(kAad.data()), static_cast<int>(kAad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonce, &n, key.data(), kKey) != 1 || EVP_EncryptFinal_ex(ctx.get(), bytes + kNonce + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTag, bytes + kNonce + kKey) != 1) {
    return Err(Status::Internal("cannot wrap the data key"));
  }
  return Base64Encode(out);
}

// The key in `line` if `kek` opens it; nullptr if not.
Result<std::unique_ptr<Secret>> Unwrap(std::string_view line, const Secret& kek) {
  auto decoded = Base64Decode(line);
  if (!decoded || decoded->size() != kNonce + kKey + kTag) return Err(Status(StatusCode::kCorrupt, "the data key file is damaged"));
  const auto* bytes = reinterpret_cast<const unsigned char*>(decoded->data());
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Zeroed(kKey));
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int n = 0;
  unsigned char* out = key->mutable_data();
  std::array<unsigned char, kTag> tag;
  std::memcpy(tag.data(), bytes + kNonce + kKey, kTag);
  const bool opened =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek.data(), bytes) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(kAad.data()), static_cast<int>(kAad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &n, bytes + kNonce, kKey) == 1 && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + n, &n) == 1;
  OPENSSL_cleanse(decoded->data(), decoded->size());
  if (!opened) return std::unique_ptr<Secret>();
  return key;
}

// The id of a data key, written beside its wrappings so that a process can tell, without a
// key-encryption key, whether the key it holds is still the current one: 16 hex digits of a
// SHA-256 over the key (nothing that helps find the key).
std::string KeyId(const Secret& key) {
  std::string material = "chartkeeper data key id ";
  material.append(reinterpret_cast<const char*>(key.data()), key.size());
  std::string id = Sha256Hex(material).substr(0, 16);
  OPENSSL_cleanse(material.data(), material.size());
  return id;
}

constexpr std::string_view kCurrent = "current", kPrevious = "previous";

// One line of the file.
struct Wrapping {
  std::string role;  // kCurrent or kPrevious
  std::string id;    // KeyId; empty in a version 1 file
  std::string wrapped;
};

Result<std::vector<Wrapping>> ReadWrappings(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = DataKeyPath(data_dir);
  std::ifstream in(file);
  if (!in) return Err(Status::NotFound("the data folder " + data_dir.string() + " has no data key (" + file.string() + ")"));
  const Status damaged(StatusCode::kCorrupt, "the data key file " + file.string() + " is damaged");
  std::string line;
  if (!std::getline(in, line) || (line != kFirstLine && line != kFirstLineVersion1)) return Err(damaged);
  const bool version1 = line == kFirstLineVersion1;
  std::vector<Wrapping> wrappings;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (version1) {
      wrappings.push_back({std::string(kCurrent), "", line});
      continue;
    }
    const std::size_t first = line.find(' '), second = first == std::string::npos ? first : line.find(' ', first + 1);
    if (second == std::string::npos) return Err(damaged);
    Wrapping wrapping{line.substr(0, first), line.substr(first + 1, second - first - 1), line.substr(second + 1)};
    if (wrapping.role != kCurrent && wrapping.role != kPrevious) return Err(damaged);
    wrappings.push_back(std::move(wrapping));
  }
  if (wrappings.empty()) return Err(Status(StatusCode::kCorrupt, "the data key file " + file.string() + " holds no key"));
  return wrappings;
}

// The keys `kek` opens, with the index of each one's wrapping.
struct Opened {
  std::vector<std::pair<std::shared_ptr<const Secret>, std::size_t>> keys;
  DataKeys data_keys;
};

Result<Opened> OpenWith(std::vector<Wrapping>& wrappings, const Secret& kek, const std::filesystem::path& data_dir) {
  Opened opened;
  for (std::size_t i = 0; i < wrappings.size(); ++i) {
    CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Unwrap(wrappings[i].wrapped, kek));
    if (!key) continue;
    wrappings[i].id = KeyId(*key);
    std::shared_ptr<const Secret> shared(std::move(key));
    opened.keys.emplace_back(shared, i);
    if (wrappings[i].role == kCurrent) {
      opened.data_keys.current = shared;
      opened.data_keys.current_id = wrappings[i].id;
    } else {
      opened.data_keys.previous.push_back(shared);
    }
  }
  if (opened.keys.empty()) {
    return Err(Status::Invalid("the encryption key does not open the data folder " + data_dir.string() + " (it is not the key it was encrypted with)"));
  }
  if (!opened.data_keys.current) return Err(Status(StatusCode::kCorrupt, "the data key file of " + data_dir.string() + " holds no current key"));
  return opened;
}

std::string FileText(const std::vector<Wrapping>& wrappings) {
  std::string text = std::string(kFirstLine) + "\n";
  for (const Wrapping& wrapping : wrappings) text += wrapping.role + " " + wrapping.id + " " + wrapping.wrapped + "\n";
  return text;
}

Status WriteWrappings(const std::filesystem::path& data_dir, const std::vector<Wrapping>& wrappings) {
  return ReplaceKeyFile(DataKeyPath(data_dir), FileText(wrappings), "the data key file");
}

// The file's wrappings, all of which `kek` opens (ids filled in), and the keys. A file holding
// others is refused: a key-encryption key rotation that did not finish.
Result<std::pair<std::vector<Wrapping>, Opened>> OpenAllWith(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::vector<Wrapping> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(Opened opened, OpenWith(wrappings, kek, data_dir));
  if (opened.keys.size() != wrappings.size()) {
    return Err(Status::Invalid("the data key file of " + data_dir.string() +
                               " is wrapped under another key-encryption key too (a key rotation did not finish): run `chartkeeper rekey` again first"));
  }
  return std::make_pair(std::move(wrappings), std::move(opened));
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

}  // namespace

std::filesystem::path DataKeyPath(const std::filesystem::path& data_dir) { return data_dir / "data-key"; }

bool HasDataKey(const std::filesystem::path& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(DataKeyPath(data_dir), ec);
}

Result<DataKeys> OpenDataKeys(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::vector<Wrapping> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(Opened opened, OpenWith(wrappings, kek, data_dir));
  return std::move(opened.data_keys);
}

Result<std::shared_ptr<const Secret>> CreateDataKey(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Random(kKey));
  CK_ASSIGN_OR_RETURN(std::string wrapped, Wrap(*key, kek));
  CK_RETURN_IF_ERROR(CreateKeyFile(DataKeyPath(data_dir), FileText({{std::string(kCurrent), KeyId(*key), wrapped}}), "the data key file"));
  return std::shared_ptr<const Secret>(std::move(key));
}

Status AddDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek, const Secret& new_kek) {
  CK_ASSIGN_OR_RETURN(std::vector<Wrapping> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(Opened opened, OpenWith(wrappings, kek, data_dir));
  for (const auto& [key, index] : opened.keys) {
    CK_ASSIGN_OR_RETURN(std::string wrapped, Wrap(*key, new_kek));
    wrappings.push_back({wrappings[index].role, wrappings[index].id, std::move(wrapped)});
  }
  return WriteWrappings(data_dir, wrappings);
}

Status KeepOnlyDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::vector<Wrapping> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(Opened opened, OpenWith(wrappings, kek, data_dir));
  std::vector<Wrapping> kept;
  for (const auto& key : opened.keys) kept.push_back(wrappings[key.second]);
  return WriteWrappings(data_dir, kept);
}

Status BeginDataKeyRotation(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(auto file, OpenAllWith(data_dir, kek));
  auto& [wrappings, opened] = file;
  if (!opened.data_keys.previous.empty()) return Status::Ok();  // under way: resume it
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Random(kKey));
  CK_ASSIGN_OR_RETURN(std::string wrapped, Wrap(*key, kek));
  for (Wrapping& wrapping : wrappings) wrapping.role = kPrevious;
  wrappings.insert(wrappings.begin(), Wrapping{std::string(kCurrent), KeyId(*key), std::move(wrapped)});
  return WriteWrappings(data_dir, wrappings);
}

Status FinishDataKeyRotation(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(auto file, OpenAllWith(data_dir, kek));
  std::vector<Wrapping> kept;
  for (Wrapping& wrapping : file.first) {
    if (wrapping.role == kCurrent) kept.push_back(std::move(wrapping));
  }
  return WriteWrappings(data_dir, kept);
}

Result<std::shared_ptr<DataKeyRing>> DataKeyRing::Open(const std::filesystem::path& data_dir, KeyLoader load_kek) {
  std::shared_ptr<DataKeyRing> ring(new DataKeyRing());
  ring->data_dir_ = data_dir;
  ring->load_kek_ = std::move(load_kek);
  CK_ASSIGN_OR_RETURN(ring->kek_, ring->load_kek_());
  if (::stat(DataKeyPath(data_dir).c_str(), &ring->seen_) != 0) return Err(Status::NotFound("the data folder " + data_dir.string() + " has no data key"));
  CK_ASSIGN_OR_RETURN(DataKeys keys, OpenDataKeys(data_dir, *ring->kek_));
  ring->keys_.store(std::make_shared<const DataKeys>(std::move(keys)));
  return ring;
}

std::shared_ptr<DataKeyRing> DataKeyRing::Of(std::shared_ptr<const Secret> key) {
  std::shared_ptr<DataKeyRing> ring(new DataKeyRing());
  ring->keys_.store(std::make_shared<const DataKeys>(DataKeys{.current = std::move(key), .current_id = {}, .previous = {}}));
  return ring;
}

Result<bool> DataKeyRing::Refresh() {
  if (kek_ == nullptr) return false;
  std::lock_guard lock(refresh_);
  struct stat now {};
  if (::stat(DataKeyPath(data_dir_).c_str(), &now) != 0 || SameFile(now, seen_)) return false;
  std::shared_ptr<const DataKeys> held = keys_.load();
  CK_ASSIGN_OR_RETURN(std::vector<Wrapping> wrappings, ReadWrappings(data_dir_));
  const bool same_current = std::any_of(wrappings.begin(), wrappings.end(), [&](const Wrapping& w) {
    return w.role == kCurrent && !w.id.empty() && w.id == held->current_id;
  });
  if (same_current) {  // a key-encryption key rotation, or the end of a data key rotation
    seen_ = now;
    return false;
  }
  auto keys = OpenDataKeys(data_dir_, *kek_);
  if (!keys && keys.error().code() == StatusCode::kInvalid) {  // the key-encryption key was rotated too: load it again
    auto kek = load_kek_();
    if (kek) {
      kek_ = std::move(*kek);
      keys = OpenDataKeys(data_dir_, *kek_);
    }
  }
  if (!keys) {
    return Err(Status::Unavailable("the data key of " + data_dir_.string() + " was rotated by another process, and this one cannot open the new key (" +
                                   keys.error().message() + "): restart it with the current encryption key"));
  }
  seen_ = now;
  keys_.store(std::make_shared<const DataKeys>(std::move(*keys)));
  return true;
}

}  // namespace ck::store
