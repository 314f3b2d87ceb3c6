#pragma once
// Commands on the data folder as a whole: `chartkeeper rekey` (rotate the key-encryption key,
// cli/encryption_keys.h). Each prints what it did and returns the process exit code.

#include <filesystem>

#include "util/config.h"

namespace ck::cli {

int RunRekey(const Config& config, const std::filesystem::path& new_key_file);

}  // namespace ck::cli
