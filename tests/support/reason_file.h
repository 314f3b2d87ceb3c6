#pragma once
// Reads the "key<TAB>reason" files that list accepted exceptions next to a test (known FHIRPath
// suite failures, explained differential differences). Lines starting with '#' are comments.

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace ck::testing {

inline std::map<std::string, std::string> ReadReasonFile(const std::filesystem::path& file) {
  std::map<std::string, std::string> reasons;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.starts_with("#")) continue;
    std::size_t tab = line.find('\t');
    reasons[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
  }
  return reasons;
}

}  // namespace ck::testing
