#include "cli/package_command.h"

#include "cli/audited_store.h"

#include <openssl/evp.h>

#include <cstdio>

#include "cli/fhir_package.h"
#include "cli/offline_records.h"

namespace ck::cli {
namespace {

// Hex SHA-256 over the package's resources, each with its file name.
std::string ContentDigest(const FhirPackage& package) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  for (const PackageResource& resource : package.resources) {
    EVP_DigestUpdate(context.get(), resource.file.data(), resource.file.size() + 1);  // with its NUL: a separator
    EVP_DigestUpdate(context.get(), resource.json.data(), resource.json.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

Result<PackageLoadReport> LoadFhirPackage(records::RecordService& records, const std::filesystem::path& file,
                                          bool skip_if_loaded) {
  CK_ASSIGN_OR_RETURN(FhirPackage package, ReadFhirPackage(file));
  PackageLoadReport report{package.name, package.version};
  const std::string state_key = "package:" + package.name;
  const std::string identity = package.version + " sha256:" + ContentDigest(package);
  if (skip_if_loaded) {
    CK_ASSIGN_OR_RETURN(std::optional<std::string> loaded, records.ReadState(state_key));
    if (loaded == identity) {
      report.already_loaded = true;
      return report;
    }
  }
  const records::RequestContext context{.front_door = "package-load", .actor = "operator", .user = OperatorUser()};
  for (const PackageResource& resource : package.resources) {
    auto parsed = records.Parse(resource.json);
    auto outcome = parsed ? records.UpdateResource(context, std::move(*parsed), std::nullopt) : Err(parsed.error());
    if (outcome) {
      ++report.stored;
      continue;
    }
    std::string why = resource.file + ": " + outcome.error().message();
    for (const Issue& issue : outcome.error().issues()) {
      if (issue.IsError()) why += "\n    " + issue.expression + ": " + issue.message;
    }
    report.refused.push_back(std::move(why));
  }
  if (report.refused.empty()) CK_RETURN_IF_ERROR(records.WriteState(state_key, identity));
  return report;
}

int RunPackageLoad(const Config& config, const std::vector<std::string>& files) {
  auto opened = OpenOfflineRecords(config);
  if (!opened) {
    std::fprintf(stderr, "chartkeeper package: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  int exit_code = 0;
  for (const std::string& file : files) {
    auto report = LoadFhirPackage(*(*opened)->records, file, /*skip_if_loaded=*/false);
    if (!report) {
      std::fprintf(stderr, "chartkeeper package: %s\n", report.error().message().c_str());
      exit_code = 1;
      continue;
    }
    for (const std::string& refused : report->refused) std::fprintf(stderr, "  refused %s\n", refused.c_str());
    std::printf("%s %s: %zu conformance resources stored, %zu refused\n", report->name.c_str(), report->version.c_str(),
                report->stored, report->refused.size());
    if (!report->refused.empty()) exit_code = 1;
  }
  return exit_code;
}

}  // namespace ck::cli
