#include "store/data_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <fstream>
#include <vector>

#include "util/crypto.h"
#include "util/key_file.h"

namespace ck::store {
namespace {

constexpr std::string_view kFirstLine = "chartkeeper-data-key 1";
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

Result<std::vector<std::string>> ReadWrappings(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = DataKeyPath(data_dir);
  std::ifstream in(file);
  if (!in) return Err(Status::NotFound("the data folder " + data_dir.string() + " has no data key (" + file.string() + ")"));
  std::string line;
  if (!std::getline(in, line) || line != kFirstLine) return Err(Status(StatusCode::kCorrupt, "the data key file " + file.string() + " is damaged"));
  std::vector<std::string> wrappings;
  while (std::getline(in, line)) {
    if (!line.empty()) wrappings.push_back(line);
  }
  if (wrappings.empty()) return Err(Status(StatusCode::kCorrupt, "the data key file " + file.string() + " holds no key"));
  return wrappings;
}

// The key and the index of the wrapping `kek` opens.
Result<std::pair<std::unique_ptr<Secret>, std::size_t>> OpenWith(const std::vector<std::string>& wrappings, const Secret& kek,
                                                                 const std::filesystem::path& data_dir) {
  for (std::size_t i = 0; i < wrappings.size(); ++i) {
    CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Unwrap(wrappings[i], kek));
    if (key) return std::make_pair(std::move(key), i);
  }
  return Err(Status::Invalid("the encryption key does not open the data folder " + data_dir.string() + " (it is not the key it was encrypted with)"));
}

std::string FileText(const std::vector<std::string>& wrappings) {
  std::string text = std::string(kFirstLine) + "\n";
  for (const std::string& wrapping : wrappings) text += wrapping + "\n";
  return text;
}

}  // namespace

std::filesystem::path DataKeyPath(const std::filesystem::path& data_dir) { return data_dir / "data-key"; }

bool HasDataKey(const std::filesystem::path& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(DataKeyPath(data_dir), ec);
}

Result<std::shared_ptr<const Secret>> OpenDataKey(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(auto opened, OpenWith(wrappings, kek, data_dir));
  return std::shared_ptr<const Secret>(std::move(opened.first));
}

Result<std::shared_ptr<const Secret>> CreateDataKey(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Random(kKey));
  CK_ASSIGN_OR_RETURN(std::string wrapped, Wrap(*key, kek));
  CK_RETURN_IF_ERROR(CreateKeyFile(DataKeyPath(data_dir), FileText({wrapped}), "the data key file"));
  return std::shared_ptr<const Secret>(std::move(key));
}

Status AddDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek, const Secret& new_kek) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(auto opened, OpenWith(wrappings, kek, data_dir));
  CK_ASSIGN_OR_RETURN(std::string wrapped, Wrap(*opened.first, new_kek));
  wrappings.push_back(std::move(wrapped));
  return ReplaceKeyFile(DataKeyPath(data_dir), FileText(wrappings), "the data key file");
}

Status KeepOnlyDataKeyWrapping(const std::filesystem::path& data_dir, const Secret& kek) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> wrappings, ReadWrappings(data_dir));
  CK_ASSIGN_OR_RETURN(auto opened, OpenWith(wrappings, kek, data_dir));
  return ReplaceKeyFile(DataKeyPath(data_dir), FileText({wrappings[opened.second]}), "the data key file");
}

}  // namespace ck::store
