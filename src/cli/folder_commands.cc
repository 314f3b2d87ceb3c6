#include "cli/folder_commands.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "cli/encryption_keys.h"
#include "store/data_key.h"
#include "store/sqlite/sqlite_store.h"
#include "util/crypto.h"
#include "util/json_value.h"
#include "util/key_file.h"
#include "util/time.h"

namespace ck::cli {
namespace {

constexpr const char* kManifest = "manifest.json";

int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "chartkeeper %s: %s\n", command, status.ToString().c_str());
  return 1;
}

Result<std::string> ReadWhole(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot read " + file.string()));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The files a backup holds besides its manifest.
std::vector<std::string> BackupFiles(bool encrypted) {
  std::vector<std::string> files{"chartkeeper.db"};
  if (encrypted) files.push_back(store::DataKeyPath("").filename().string());
  return files;
}

Result<std::string> Manifest(const std::filesystem::path& folder, bool encrypted, std::int64_t last_change) {
  JsonValue manifest = JsonObject();
  manifest.members.emplace_back("chartkeeperBackup", JsonNumber(1));
  manifest.members.emplace_back("time", JsonString(FormatInstant(SystemClock().Now())));
  manifest.members.emplace_back("encrypted", JsonBoolean(encrypted));
  manifest.members.emplace_back("lastChange", JsonNumber(last_change));
  JsonValue files;
  files.kind = JsonValue::Kind::kArray;
  for (const std::string& name : BackupFiles(encrypted)) {
    CK_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(folder / name));
    JsonValue file = JsonObject();
    file.members.emplace_back("name", JsonString(name));
    file.members.emplace_back("bytes", JsonNumber(static_cast<std::int64_t>(bytes.size())));
    file.members.emplace_back("sha256", JsonString(Sha256Hex(bytes)));
    files.items.push_back(std::move(file));
  }
  manifest.members.emplace_back("files", std::move(files));
  return WriteJsonValue(manifest) + "\n";
}

// Every file the manifest lists is there, whole; returns the names.
Result<std::vector<std::string>> CheckManifest(const std::filesystem::path& folder) {
  CK_ASSIGN_OR_RETURN(std::string text, ReadWhole(folder / kManifest));
  CK_ASSIGN_OR_RETURN(JsonValue manifest, ParseJsonValue(text));
  const JsonValue* files = manifest.Find("files");
  if (!manifest.Find("chartkeeperBackup") || files == nullptr || !files->is_array()) {
    return Err(Status::Invalid(folder.string() + " is not a Chartkeeper backup (its manifest is not one)"));
  }
  std::vector<std::string> names;
  for (const JsonValue& file : files->items) {
    const JsonValue* name = file.Find("name");
    const JsonValue* sha256 = file.Find("sha256");
    if (name == nullptr || sha256 == nullptr || name->text.find('/') != std::string::npos || name->text.empty() || name->text[0] == '.') {
      return Err(Status::Invalid("the manifest of " + folder.string() + " lists a file it should not"));
    }
    CK_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(folder / name->text));
    if (Sha256Hex(bytes) != sha256->text) {
      return Err(Status(StatusCode::kCorrupt, "the backup's " + name->text + " is not the file its manifest lists (changed or damaged)"));
    }
    names.push_back(name->text);
  }
  return names;
}

bool IsEmptyOrAbsent(const std::filesystem::path& folder) {
  std::error_code ec;
  return !std::filesystem::exists(folder, ec) || std::filesystem::is_empty(folder, ec);
}

}  // namespace

int RunRekey(const Config& config, const std::filesystem::path& new_key_file, bool data_key) {
  if (config.encryption == "off") {
    std::fprintf(stderr, "chartkeeper rekey: encryption is off; there is no key to rotate\n");
    return 2;
  }
  if (data_key) {
    constexpr std::uint64_t kReportEvery = 25'000;  // pages, about 100 MB
    std::uint64_t reported = 0;
    int pass = 0;
    const Status rotated = RotateDataKey(config, [&](const store::sqlite::RekeyProgress& progress) {
      if (progress.pass != pass) {
        pass = progress.pass;
        reported = 0;
      }
      if (progress.checked < progress.pages && progress.checked < reported + kReportEvery) return true;
      reported = progress.checked;
      std::printf("pass %d: %llu of %llu pages checked, %llu re-encrypted\n", progress.pass, static_cast<unsigned long long>(progress.checked),
                  static_cast<unsigned long long>(progress.pages), static_cast<unsigned long long>(progress.rewritten));
      std::fflush(stdout);
      return true;
    });
    if (!rotated.ok()) return Fail("rekey", rotated);
    std::printf("every page of %s is encrypted under a new data key; the old data key is dropped\n", config.data_dir.c_str());
    return 0;
  }
  if (Status rotated = RotateKeyEncryptionKey(config, new_key_file); !rotated.ok()) return Fail("rekey", rotated);
  std::printf("the data folder %s now opens with %s only; the old key no longer opens it\n", config.data_dir.c_str(),
              new_key_file.empty() ? EncryptionKeyPath(config).c_str() : new_key_file.c_str());
  return 0;
}

int RunEncrypt(const Config& config) {
  if (config.encryption == "off") return Fail("encrypt", Status::Invalid("encryption is off in the configuration; turn it on to encrypt"));
  const std::filesystem::path& folder = config.data_dir;
  const std::filesystem::path database = store::sqlite::SqliteDatabasePath(folder);
  const std::filesystem::path encrypted_copy = database.string() + ".encrypted";
  std::error_code ec;
  if (store::HasDataKey(folder) && std::filesystem::exists(encrypted_copy, ec)) {  // stopped before its last step
    std::filesystem::rename(encrypted_copy, database, ec);
    if (ec) return Fail("encrypt", Status::Internal("cannot finish: " + ec.message()));
    std::printf("finished encrypting %s\n", folder.c_str());
    return 0;
  }
  if (store::HasDataKey(folder)) return Fail("encrypt", Status::Invalid("the data folder " + folder.string() + " is encrypted already"));
  std::filesystem::path staging = folder.lexically_normal();
  if (staging.filename().empty()) staging = staging.parent_path();
  staging += ".encrypting";
  std::filesystem::remove_all(staging, ec);
  SystemClock clock;
  {
    // Holding the folder (no server or import may run) and its database migrated.
    auto clear = store::sqlite::OpenSqliteStore({.data_dir = folder, .clock = &clock, .cache_bytes = 0});
    if (!clear) return Fail("encrypt", clear.error());
    auto kek = KeyEncryptionKeyForNewFolder(config);
    if (!kek) return Fail("encrypt", kek.error());
    auto data_key = store::CreateDataKey(staging, **kek);
    if (!data_key) return Fail("encrypt", data_key.error());
    if (Status copied = store::sqlite::EncryptSqliteDatabase(folder, staging, *data_key); !copied.ok()) return Fail("encrypt", copied);
    auto check = store::sqlite::OpenSqliteStore({.data_dir = staging, .clock = &clock, .data_keys = store::DataKeyRing::Of(*data_key), .cache_bytes = 0, .read_only = true});
    if (!check) return Fail("encrypt", Status::Internal("the encrypted copy cannot be read back: " + check.error().ToString()));
  }
  // The swap: from the moment the data key is in the folder, the clear database is refused
  // (never read as encrypted), and a run again finishes the last step.
  std::filesystem::rename(store::sqlite::SqliteDatabasePath(staging), encrypted_copy, ec);
  if (!ec) std::filesystem::rename(store::DataKeyPath(staging), store::DataKeyPath(folder), ec);
  if (!ec) std::filesystem::rename(encrypted_copy, database, ec);
  if (ec) return Fail("encrypt", Status::Internal("cannot put the encrypted database in place: " + ec.message() + "; run encrypt again"));
  std::filesystem::remove_all(staging, ec);
  std::printf("encrypted %s with the key from %s; the clear copy is deleted, though its blocks may stay on the disk until "
              "overwritten (encrypt the disk, or wipe its free space)\n",
              folder.c_str(), std::getenv("CHARTKEEPER_ENCRYPTION_KEY") ? "CHARTKEEPER_ENCRYPTION_KEY"
                              : config.encryption_key_command.empty() ? EncryptionKeyPath(config).c_str() : "encryption_key_command");
  return 0;
}

int RunBackup(const Config& config, const std::filesystem::path& destination) {
  std::error_code ec;
  if (std::filesystem::exists(destination, ec)) return Fail("backup", Status::Invalid(destination.string() + " exists already"));
  auto data_key = DataKeyFor(config, NewFolder::kRefuse);
  if (!data_key) return Fail("backup", data_key.error());
  const bool encrypted = *data_key != nullptr;
  std::filesystem::create_directories(destination, ec);
  if (ec) return Fail("backup", Status::Internal("cannot create " + destination.string() + ": " + ec.message()));
  SystemClock clock;
  auto last_change = store::sqlite::BackupSqliteDatabase({.data_dir = config.data_dir, .clock = &clock, .data_keys = *data_key},
                                                         store::sqlite::SqliteDatabasePath(destination));
  if (!last_change) return Fail("backup", last_change.error());
  if (encrypted) {
    auto wrapped = ReadWhole(store::DataKeyPath(config.data_dir));
    if (!wrapped) return Fail("backup", wrapped.error());
    if (Status copied = CreateKeyFile(store::DataKeyPath(destination), *wrapped, "the data key file"); !copied.ok()) return Fail("backup", copied);
  }
  auto manifest = Manifest(destination, encrypted, *last_change);
  if (!manifest) return Fail("backup", manifest.error());
  if (Status written = CreateKeyFile(destination / kManifest, *manifest, "the manifest"); !written.ok()) return Fail("backup", written);
  std::printf("backed up %s to %s (%s, up to change %lld)\n", config.data_dir.c_str(), destination.c_str(),
              encrypted ? "encrypted" : "NOT encrypted", static_cast<long long>(*last_change));
  return 0;
}

int RunRestore(const Config& config, const std::filesystem::path& source) {
  if (!IsEmptyOrAbsent(config.data_dir)) {
    return Fail("restore", Status::Invalid("the data folder " + config.data_dir.string() + " is not empty: restore into an empty one"));
  }
  auto names = CheckManifest(source);
  if (!names) return Fail("restore", names.error());
  // The key must open the backup before anything is copied.
  if (store::HasDataKey(source)) {
    if (config.encryption == "off") return Fail("restore", Status::Invalid("the backup is encrypted; restore it with encryption on and its key"));
    auto kek = LoadKeyEncryptionKey(config);
    if (!kek) return Fail("restore", kek.error());
    if (auto opened = store::OpenDataKeys(source, **kek); !opened) return Fail("restore", opened.error());
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  for (const std::string& name : *names) {
    auto bytes = ReadWhole(source / name);
    if (!bytes) return Fail("restore", bytes.error());
    if (Status copied = CreateKeyFile(config.data_dir / name, *bytes, "the restored file"); !copied.ok()) return Fail("restore", copied);
  }
  // The key must open what was restored, or the restore is of no use.
  auto data_key = DataKeyFor(config, NewFolder::kRefuse);
  SystemClock clock;
  auto store = data_key ? store::sqlite::OpenSqliteStore({.data_dir = config.data_dir, .clock = &clock, .data_keys = *data_key, .read_only = true})
                        : Result<std::unique_ptr<store::ResourceStore>>(Err(data_key.error()));
  if (!store) {
    return Fail("restore", Status::Invalid("restored into " + config.data_dir.string() + ", but it cannot be opened: " + store.error().ToString()));
  }
  std::printf("restored %s into %s\n", source.c_str(), config.data_dir.c_str());
  return 0;
}

}  // namespace ck::cli
