#pragma once
// Reads an import file in chunks, decompressing `.bz2` files on the fly (Synthea ships them so).
// Thread safety: one thread per InputFile.

#include <bzlib.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "util/status.h"

namespace ck::cli {

class InputFile {
 public:
  // Errors: kNotFound (missing file), kInvalid (unreadable).
  static Result<std::unique_ptr<InputFile>> Open(const std::filesystem::path& path);
  ~InputFile();

  // The whole (decompressed) content. Errors: kInvalid on a read or decompression failure.
  Result<std::string> ReadAll();
  // Calls `line` for every line (without the newline; line numbers from 1) until it returns
  // false. Errors as ReadAll.
  Status ForEachLine(const std::function<bool(std::string_view, std::size_t)>& line);
  // Compressed bytes consumed so far, for progress reporting.
  std::uint64_t bytes_read() const;
  std::uint64_t size() const { return size_; }

 private:
  InputFile(std::FILE* file, bool compressed, std::uint64_t size, std::string name);
  // Reads up to `capacity` bytes; 0 at the end. Errors: kInvalid.
  Result<std::size_t> Read(char* buffer, std::size_t capacity);

  std::FILE* file_;
  BZFILE* bz_ = nullptr;
  bool at_end_ = false;
  std::uint64_t size_;
  std::string name_;
};

}  // namespace ck::cli
