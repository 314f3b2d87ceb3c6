#include "cli/encryption_keys.h"

#include <openssl/crypto.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>

#include "store/data_key.h"
#include "store/sqlite/sqlite_store.h"
#include "util/crypto.h"
#include "util/key_file.h"
#include "util/log.h"

namespace ck::cli {
namespace {

constexpr const char* kEnvironmentKey = "CHARTKEEPER_ENCRYPTION_KEY";

// Wipes a string that held key material when it goes.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

Result<std::unique_ptr<Secret>> ParseKey(std::string_view text, const std::string& source) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.size() != 64) return Err(Status::Invalid("the encryption key from " + source + " is not 64 hexadecimal digits"));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Zeroed(32));
  for (std::size_t i = 0; i < 32; ++i) {
    const int high = HexDigit(text[2 * i]), low = HexDigit(text[2 * i + 1]);
    if (high < 0 || low < 0) return Err(Status::Invalid("the encryption key from " + source + " is not 64 hexadecimal digits"));
    key->mutable_data()[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return key;
}

Result<std::unique_ptr<Secret>> KeyFromCommand(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return Err(Status::Invalid("cannot run encryption_key_command"));
  Wiped output;
  char buffer[256];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0 && output.text.size() < 4096) output.text.append(buffer, n);
  OPENSSL_cleanse(buffer, sizeof buffer);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Err(Status::Invalid("encryption_key_command failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")"));
  }
  return ParseKey(output.text, "encryption_key_command");
}

Result<std::unique_ptr<Secret>> KeyFromFile(const std::filesystem::path& file, const Config& config) {
  if (IsInside(file, config.data_dir)) {
    return Err(Status::Invalid("the encryption key file " + file.string() + " must be kept outside the data folder " + config.data_dir.string()));
  }
  CK_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(file, "the encryption key file"));
  Wiped wiped{std::move(text)};
  return ParseKey(wiped.text, file.string());
}

bool KeyFromKeyFile(const Config& config) { return std::getenv(kEnvironmentKey) == nullptr && config.encryption_key_command.empty(); }

// A new random key, written to `file` as 64 hex digits.
Result<std::unique_ptr<Secret>> CreateKeyEncryptionKey(const std::filesystem::path& file) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> key, Secret::Random(32));
  Wiped text{HexEncode(key->bytes()) + "\n"};
  CK_RETURN_IF_ERROR(CreateKeyFile(file, text.text, "the encryption key file"));
  return key;
}

}  // namespace

std::filesystem::path EncryptionKeyPath(const Config& config) {
  if (!config.encryption_key_file.empty()) return config.encryption_key_file;
  std::filesystem::path data = config.data_dir.lexically_normal();
  if (data.filename().empty()) data = data.parent_path();
  return data.parent_path() / (data.filename().string() + "-encryption-key");
}

Result<std::unique_ptr<Secret>> LoadKeyEncryptionKey(const Config& config) {
  if (const char* text = std::getenv(kEnvironmentKey); text != nullptr) return ParseKey(text, kEnvironmentKey);
  if (!config.encryption_key_command.empty()) return KeyFromCommand(config.encryption_key_command);
  return KeyFromFile(EncryptionKeyPath(config), config);
}

namespace {

// The folder's data keys, the key-encryption key loaded again from its source when the ring
// needs it (another process rotated it).
Result<std::shared_ptr<store::DataKeyRing>> KeyRingOf(const Config& config) {
  return store::DataKeyRing::Open(config.data_dir, [config] { return LoadKeyEncryptionKey(config); });
}

}  // namespace

Result<std::shared_ptr<store::DataKeyRing>> DataKeyFor(const Config& config, NewFolder new_folder) {
  const std::filesystem::path& folder = config.data_dir;
  const bool has_key = store::HasDataKey(folder);
  std::error_code ec;
  const bool has_database = std::filesystem::exists(store::sqlite::SqliteDatabasePath(folder), ec);
  if (config.encryption == "off") {
    if (has_key) return Err(Status::Invalid("the data folder " + folder.string() + " is encrypted; open it with encryption on and its key"));
    return std::shared_ptr<store::DataKeyRing>();
  }
  if (!has_key && has_database) {
    return Err(Status::Invalid("the data folder " + folder.string() +
                               " is not encrypted (it was made before encryption was on by default, or with encryption = off): "
                               "encrypt it with `chartkeeper encrypt` (server stopped), or open it with encryption = off"));
  }
  if (!has_key) {
    if (new_folder == NewFolder::kRefuse) return Err(Status::NotFound("there is no database in " + folder.string()));
    CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> kek, KeyEncryptionKeyForNewFolder(config));
    std::filesystem::create_directories(folder, ec);
    if (auto made = store::CreateDataKey(folder, *kek); !made) return Err(made.error());
  }
  return KeyRingOf(config);
}

Result<std::unique_ptr<Secret>> KeyEncryptionKeyForNewFolder(const Config& config) {
  const std::filesystem::path key_file = EncryptionKeyPath(config);
  std::error_code ec;
  if (!KeyFromKeyFile(config) || std::filesystem::exists(key_file, ec)) return LoadKeyEncryptionKey(config);
  if (IsInside(key_file, config.data_dir)) {
    return Err(Status::Invalid("the encryption key file " + key_file.string() + " must be kept outside the data folder " + config.data_dir.string()));
  }
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> kek, CreateKeyEncryptionKey(key_file));
  CK_LOG_INFO("made the encryption key {} for the data folder {}: keep a copy apart from the data and its backups; "
              "without it the data cannot be read", key_file.string(), config.data_dir.string());
  return kek;
}

Status RotateKeyEncryptionKey(const Config& config, const std::filesystem::path& new_key_file) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> kek, LoadKeyEncryptionKey(config));
  if (!new_key_file.empty()) {
    CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> new_kek, KeyFromFile(new_key_file, config));
    CK_RETURN_IF_ERROR(store::AddDataKeyWrapping(config.data_dir, *kek, *new_kek));
    return store::KeepOnlyDataKeyWrapping(config.data_dir, *new_kek);
  }
  if (!KeyFromKeyFile(config)) {
    return Status::Invalid("the encryption key comes from the environment or encryption_key_command: make the new key there, "
                           "write it to a file (chmod 600) and give it with --new-key-file");
  }
  // The new key goes beside the old one first, then is wrapped, then replaces it: at every
  // step the key file opens the folder.
  const std::filesystem::path key_file = EncryptionKeyPath(config);
  const std::filesystem::path next = key_file.string() + ".new";
  std::error_code ec;
  std::filesystem::remove(next, ec);  // left by a rotation that was stopped; never the only key
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> new_kek, CreateKeyEncryptionKey(next));
  CK_RETURN_IF_ERROR(store::AddDataKeyWrapping(config.data_dir, *kek, *new_kek));
  Wiped text{HexEncode(new_kek->bytes()) + "\n"};
  CK_RETURN_IF_ERROR(ReplaceKeyFile(key_file, text.text, "the encryption key file"));
  std::filesystem::remove(next, ec);
  return store::KeepOnlyDataKeyWrapping(config.data_dir, *new_kek);
}

Status RotateDataKey(const Config& config, const std::function<bool(const store::sqlite::RekeyProgress&)>& progress) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Secret> kek, LoadKeyEncryptionKey(config));
  CK_RETURN_IF_ERROR(store::BeginDataKeyRotation(config.data_dir, *kek));
  CK_ASSIGN_OR_RETURN(auto keys, KeyRingOf(config));
  CK_RETURN_IF_ERROR(store::sqlite::ReencryptDatabase(config.data_dir, std::move(keys), progress));
  return store::FinishDataKeyRotation(config.data_dir, *kek);
}

}  // namespace ck::cli
