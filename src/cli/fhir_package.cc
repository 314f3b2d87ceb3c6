#include "cli/fhir_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <memory>

namespace ck::cli {
namespace {

constexpr std::size_t kMaxFileBytes = 64u << 20;  // the largest resource file read from a package

int Rank(std::string_view type) {
  if (type == "CodeSystem") return 0;
  if (type == "ValueSet") return 1;
  if (type == "StructureDefinition") return 2;
  return -1;
}

}  // namespace

Result<FhirPackage> ReadFhirPackage(const std::filesystem::path& file) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_tar(reader.get());
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(file, exists_error)) return Err(Status::NotFound("cannot open " + file.string() + ": no such file"));
  if (archive_read_open_filename(reader.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Err(Status::Invalid(file.string() + " is not a FHIR package (.tgz): " + archive_error_string(reader.get())));
  }
  FhirPackage package;
  bool has_manifest = false;
  archive_entry* entry = nullptr;
  int result = ARCHIVE_OK;
  while ((result = archive_read_next_header(reader.get(), &entry)) == ARCHIVE_OK) {
    std::string path = archive_entry_pathname(entry);
    const bool top_level = path.starts_with("package/") && path.find('/', 8) == std::string::npos;
    if (!top_level || !path.ends_with(".json") || path == "package/.index.json" || archive_entry_size(entry) > static_cast<la_int64_t>(kMaxFileBytes)) {
      continue;
    }
    std::string text(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
    if (archive_read_data(reader.get(), text.data(), text.size()) != static_cast<la_ssize_t>(text.size())) {
      return Err(Status::Invalid(file.string() + ": cannot read " + path + ": " + archive_error_string(reader.get())));
    }
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return Err(Status::Invalid(file.string() + ": " + path + " is not JSON"));
    if (path == "package/package.json") {
      has_manifest = true;
      if (doc.HasMember("name") && doc["name"].IsString()) package.name = doc["name"].GetString();
      if (doc.HasMember("version") && doc["version"].IsString()) package.version = doc["version"].GetString();
      continue;
    }
    if (!doc.HasMember("resourceType") || !doc["resourceType"].IsString()) continue;
    std::string type = doc["resourceType"].GetString();
    if (Rank(type) < 0) continue;
    package.resources.push_back({path, std::move(type), std::move(text)});
  }
  if (result != ARCHIVE_EOF) return Err(Status::Invalid(file.string() + " is not a FHIR package (.tgz): " + archive_error_string(reader.get())));
  if (!has_manifest) return Err(Status::Invalid(file.string() + " is not a FHIR package: it has no package/package.json"));
  std::stable_sort(package.resources.begin(), package.resources.end(),
                   [](const PackageResource& a, const PackageResource& b) { return Rank(a.type) < Rank(b.type); });
  return package;
}

}  // namespace ck::cli
