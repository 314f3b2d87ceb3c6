#pragma once
// Commands on the data folder as a whole: `chartkeeper rekey` (rotate the key-encryption key or
// the data key, cli/encryption_keys.h), `encrypt` (convert a folder made in the clear), `backup` and `restore`. Each prints what it did and returns the process
// exit code.
//
// A backup is a folder: chartkeeper.db (a consistent copy made while the server serves,
// encrypted with the same data key as the data), data-key (the data key, wrapped: useless
// without the key-encryption key, which a backup never holds) and manifest.json (when, the last
// change it holds, and each file's size and SHA-256).

#include <filesystem>

#include "util/config.h"

namespace ck::cli {

// Rotates the key-encryption key, or with `data_key` the data key itself (re-encrypting every
// page online, resumable).
int RunRekey(const Config& config, const std::filesystem::path& new_key_file, bool data_key);
// Encrypts a data folder made in the clear (needs the folder to itself: stop the server): an
// encrypted copy is made beside it and checked, then takes the clear database's place.
int RunEncrypt(const Config& config);
// Makes the backup folder `destination` (which must not exist) of config.data_dir.
int RunBackup(const Config& config, const std::filesystem::path& destination);
// Checks the backup in `source` against its manifest, copies it into config.data_dir (which must
// be empty or absent) and opens it with the key to check that the key opens it.
int RunRestore(const Config& config, const std::filesystem::path& source);

}  // namespace ck::cli
