#include "cli/folder_commands.h"

#include <cstdio>

#include "cli/encryption_keys.h"

namespace ck::cli {

int RunRekey(const Config& config, const std::filesystem::path& new_key_file) {
  if (config.encryption == "off") {
    std::fprintf(stderr, "chartkeeper rekey: encryption is off; there is no key to rotate\n");
    return 2;
  }
  if (Status rotated = RotateKeyEncryptionKey(config, new_key_file); !rotated.ok()) {
    std::fprintf(stderr, "chartkeeper rekey: %s\n", rotated.ToString().c_str());
    return 1;
  }
  std::printf("the data folder %s now opens with %s only; the old key no longer opens it\n", config.data_dir.c_str(),
              new_key_file.empty() ? EncryptionKeyPath(config).c_str() : new_key_file.c_str());
  return 0;
}

}  // namespace ck::cli
