#pragma once
// The benchmarks' sample: about 8,000 resources from the first Synthea bundles, one JSON text
// each, loaded once before any timing.

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/input_file.h"
#include "fhir/json_reader.h"
#include "fhir/json_writer.h"

namespace ck::bench {

inline const std::vector<std::string>& Samples() {
  static const std::vector<std::string> samples = [] {
    std::vector<std::string> out;
    std::filesystem::path dir = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (file.filename().string().starts_with("0-") || out.size() > 8000) continue;
      auto text = (*cli::InputFile::Open(file))->ReadAll();
      auto bundle = fhir::ParseJsonTree(*text);
      for (const fhir::Node& entry : bundle->Find("entry")->values) out.push_back(fhir::WriteJson(entry.Find("resource")->values[0]));
    }
    return out;
  }();
  return samples;
}

inline std::int64_t TotalBytes() {
  std::int64_t total = 0;
  for (const auto& s : Samples()) total += static_cast<std::int64_t>(s.size());
  return total;
}

}  // namespace ck::bench
