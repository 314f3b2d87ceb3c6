#pragma once
// Files that hold keys: readable by their owner only (a key file others can read is refused),
// made with mode 0600 and never overwritten in place, replaced atomically (a new file, fsync,
// rename, fsync of the folder), and kept out of the data folder they protect. `what` names the
// file in errors ("the audit key file").
// Thread safety: plain functions over the file system.

#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ck {

// The file's bytes. Errors: kNotFound (no such file), kInvalid (group or others may read or
// write it; unreadable).
Result<std::string> ReadKeyFile(const std::filesystem::path& file, std::string_view what);
// Makes `file` (and its folder) holding `bytes`, mode 0600, durable. Errors: kInternal (it
// exists already, or cannot be written).
Status CreateKeyFile(const std::filesystem::path& file, std::string_view bytes, std::string_view what);
// Replaces `file` with one holding `bytes`, mode 0600, atomically and durably.
// Errors: kInternal.
Status ReplaceKeyFile(const std::filesystem::path& file, std::string_view bytes, std::string_view what);
// Whether `file` lies inside `folder` (both made absolute and normal).
bool IsInside(const std::filesystem::path& file, const std::filesystem::path& folder);

}  // namespace ck
