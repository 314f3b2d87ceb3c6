// Scales the Synthea sample for the search benchmark: writes `copies` copies of every patient
// bundle (the hospital and practitioner bundles once, since patients point at them by
// identifier), each copy with new ids and its dates moved back by four years per copy (leap days
// stay valid), the same shape otherwise. Output: uncompressed transaction bundles in a folder,
// for `chartkeeper import`: shared-*.json first (the others point at them), then copy*-*.json.
//   scale_synthea <copies> <output folder>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cli/input_file.h"

namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Whether text[at..at+36) is a lower-case UUID.
bool IsUuid(const std::string& text, std::size_t at) {
  if (at + 36 > text.size()) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = text[at + i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!IsHex(c)) {
      return false;
    }
  }
  return true;
}

// The copy's text: the bundle's own resources (its entries' urn:uuid full URLs) get new ids,
// wherever they occur; other UUIDs (identifiers of the shared organizations) stay.
std::string Scale(const std::string& bundle, int copy) {
  std::set<std::string> own;
  const std::string marker = "urn:uuid:";
  for (std::size_t at = bundle.find("\"fullUrl\""); at != std::string::npos; at = bundle.find("\"fullUrl\"", at + 1)) {
    const std::size_t uuid = bundle.find(marker, at);
    if (uuid != std::string::npos && uuid < at + 40 && IsUuid(bundle, uuid + marker.size())) own.insert(bundle.substr(uuid + marker.size(), 36));
  }
  char prefix[8];
  std::snprintf(prefix, sizeof prefix, "%02x", copy);
  std::string out;
  out.reserve(bundle.size());
  for (std::size_t i = 0; i < bundle.size();) {
    if (IsHex(bundle[i]) && IsUuid(bundle, i) && own.contains(bundle.substr(i, 36))) {
      out += prefix;
      out.append(bundle, i + 2, 34);
      i += 36;
      continue;
    }
    // "YYYY-MM-DD at the start of a string: YYYY - 4 * copy.
    if (bundle[i] == '"' && i + 11 < bundle.size() && bundle[i + 5] == '-' && bundle[i + 8] == '-' &&
        std::isdigit(static_cast<unsigned char>(bundle[i + 1])) && std::isdigit(static_cast<unsigned char>(bundle[i + 4]))) {
      const int year = std::stoi(bundle.substr(i + 1, 4)) - 4 * copy;
      char shifted[8];
      std::snprintf(shifted, sizeof shifted, "\"%04d", year);
      out += shifted;
      i += 5;
      continue;
    }
    out += bundle[i++];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: scale_synthea <copies> <output folder>\n");
    return 2;
  }
  const int copies = std::stoi(argv[1]);
  const std::filesystem::path out_dir = argv[2];
  std::filesystem::create_directories(out_dir);
  const std::filesystem::path sample = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(sample)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::size_t written = 0;
  for (const auto& file : files) {
    auto input = ck::cli::InputFile::Open(file);
    auto text = input ? (*input)->ReadAll() : ck::Result<std::string>(ck::Err(input.error()));
    if (!text) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), text.error().ToString().c_str());
      return 1;
    }
    const std::string name = file.stem().stem().string();  // without .json.bz2
    const bool shared = name.starts_with("0-");
    for (int copy = 0; copy < (shared ? 1 : copies); ++copy) {
      const std::filesystem::path target = out_dir / ((shared ? "shared-" : "copy" + std::to_string(copy) + "-") + name + ".json");
      std::ofstream(target, std::ios::binary) << (copy == 0 ? *text : Scale(*text, copy));
      ++written;
    }
  }
  std::printf("%zu bundles written to %s\n", written, out_dir.c_str());
  return 0;
}
