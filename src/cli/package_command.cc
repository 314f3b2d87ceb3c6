#include "cli/package_command.h"

#include <cstdio>

#include "cli/fhir_package.h"
#include "cli/offline_records.h"

namespace ck::cli {

int RunPackageLoad(const Config& config, const std::vector<std::string>& files) {
  auto opened = OpenOfflineRecords(config);
  if (!opened) {
    std::fprintf(stderr, "chartkeeper package: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  records::RecordService& records = *(*opened)->records;
  const records::RequestContext context{"cli-package", "operator", ""};
  int exit_code = 0;
  for (const std::string& file : files) {
    auto package = ReadFhirPackage(file);
    if (!package) {
      std::fprintf(stderr, "chartkeeper package: %s\n", package.error().message().c_str());
      exit_code = 1;
      continue;
    }
    std::size_t stored = 0, refused = 0;
    for (const PackageResource& resource : package->resources) {
      auto parsed = records.Parse(resource.json);
      auto outcome = parsed ? records.UpdateResource(context, std::move(*parsed), std::nullopt) : Err(parsed.error());
      if (outcome) {
        ++stored;
        continue;
      }
      ++refused;
      std::fprintf(stderr, "  refused %s: %s\n", resource.file.c_str(), outcome.error().message().c_str());
      for (const Issue& issue : outcome.error().issues()) {
        if (issue.IsError()) std::fprintf(stderr, "    %s: %s\n", issue.expression.c_str(), issue.message.c_str());
      }
    }
    std::printf("%s %s: %zu conformance resources stored, %zu refused\n", package->name.c_str(), package->version.c_str(), stored, refused);
    if (refused > 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace ck::cli
