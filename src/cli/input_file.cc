#include "cli/input_file.h"

namespace ck::cli {

InputFile::InputFile(std::FILE* file, bool compressed, std::uint64_t size, std::string name)
    : file_(file), size_(size), name_(std::move(name)) {
  if (compressed) {
    int error = BZ_OK;
    bz_ = BZ2_bzReadOpen(&error, file_, 0, 0, nullptr, 0);
    if (error != BZ_OK) bz_ = nullptr;
  }
}

InputFile::~InputFile() {
  if (bz_ != nullptr) {
    int error = BZ_OK;
    BZ2_bzReadClose(&error, bz_);
  }
  std::fclose(file_);
}

Result<std::unique_ptr<InputFile>> InputFile::Open(const std::filesystem::path& path) {
  std::error_code ec;
  std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Err(Status::NotFound("cannot read " + path.string() + ": " + ec.message()));
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Err(Status::Invalid("cannot open " + path.string()));
  bool compressed = path.extension() == ".bz2";
  std::unique_ptr<InputFile> input(new InputFile(file, compressed, size, path.string()));
  if (compressed && input->bz_ == nullptr) return Err(Status::Invalid(path.string() + " is not a bzip2 file"));
  return input;
}

std::uint64_t InputFile::bytes_read() const {
  long position = std::ftell(file_);
  return position < 0 ? 0 : static_cast<std::uint64_t>(position);
}

Result<std::size_t> InputFile::Read(char* buffer, std::size_t capacity) {
  if (at_end_) return std::size_t{0};
  if (bz_ == nullptr) {
    std::size_t got = std::fread(buffer, 1, capacity, file_);
    if (got == 0 && std::ferror(file_)) return Err(Status::Invalid("read error in " + name_));
    at_end_ = got == 0;
    return got;
  }
  int error = BZ_OK;
  int got = BZ2_bzRead(&error, bz_, buffer, static_cast<int>(capacity));
  if (error == BZ_STREAM_END) {
    at_end_ = true;
  } else if (error != BZ_OK) {
    return Err(Status::Invalid(name_ + " is corrupt (bzip2 error " + std::to_string(error) + ")"));
  }
  return static_cast<std::size_t>(got);
}

Result<std::string> InputFile::ReadAll() {
  std::string out;
  char buffer[1 << 16];
  while (true) {
    CK_ASSIGN_OR_RETURN(std::size_t got, Read(buffer, sizeof buffer));
    if (got == 0) return out;
    out.append(buffer, got);
  }
}

Status InputFile::ForEachLine(const std::function<bool(std::string_view, std::size_t)>& line) {
  std::string pending;
  std::size_t number = 0;
  char buffer[1 << 16];
  while (true) {
    CK_ASSIGN_OR_RETURN(std::size_t got, Read(buffer, sizeof buffer));
    if (got == 0) break;
    pending.append(buffer, got);
    std::size_t start = 0;
    for (std::size_t newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n', start)) {
      std::string_view text(pending.data() + start, newline - start);
      if (text.ends_with('\r')) text.remove_suffix(1);
      if (!line(text, ++number)) return Status::Ok();
      start = newline + 1;
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) line(pending, ++number);
  return Status::Ok();
}

}  // namespace ck::cli
