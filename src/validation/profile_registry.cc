#include "validation/profile_registry.h"

#include <mutex>

#include "fhir/json_reader.h"
#include "util/log.h"

namespace ck {
namespace validation {
extern const char kCoreProfiles[];
}
}  // namespace ck

namespace ck::validation {
namespace {

constexpr std::string_view kCorePrefix = "http://hl7.org/fhir/StructureDefinition/";

std::pair<std::string_view, std::string_view> SplitCanonical(std::string_view canonical) {
  std::size_t bar = canonical.find('|');
  if (bar == std::string_view::npos) return {canonical, {}};
  return {canonical.substr(0, bar), canonical.substr(bar + 1)};
}

// The built-in profiles, parsed once per process (a registry copies the pointers).
struct CoreProfiles {
  std::vector<std::shared_ptr<const Profile>> profiles;
  std::vector<std::string> failures;
};

const CoreProfiles& BuiltIn(const fhir::Definitions& definitions) {
  static const CoreProfiles* const core = [&definitions] {
    auto* out = new CoreProfiles();
    auto bundle = fhir::ParseJsonTree(kCoreProfiles, {.max_depth = 128});
    if (!bundle) {
      out->failures.push_back("the core profile table does not parse: " + bundle.error().message());
      return out;
    }
    fhir::Property* entries = bundle->Find("entry");
    for (std::size_t i = 0; entries != nullptr && i < entries->values.size(); ++i) {
      fhir::Property* resource = entries->values[i].Find("resource");
      if (resource == nullptr || resource->values.empty()) continue;
      std::string url(resource->values[0].TextOf("url"));
      auto profile = Profile::Build(std::move(resource->values[0]), definitions, nullptr);
      if (profile) {
        out->profiles.push_back(std::move(*profile));
      } else {
        out->failures.push_back(url + ": " + profile.error().message());
      }
    }
    for (const std::string& failure : out->failures) CK_LOG_WARN("core profile not usable: {}", failure);
    return out;
  }();
  return *core;
}

}  // namespace

ProfileRegistry::ProfileRegistry(const fhir::Definitions& definitions) : definitions_(definitions) {
  const CoreProfiles& core = BuiltIn(definitions);
  core_failures_ = core.failures;
  for (const auto& profile : core.profiles) by_url_[profile->url()].push_back(profile);
}

void ProfileRegistry::RemoveLocked(const std::string& url, const std::string& version) {
  auto it = by_url_.find(url);
  if (it == by_url_.end()) return;
  std::erase_if(it->second, [&](const auto& held) { return held->version() == version; });
  if (it->second.empty()) by_url_.erase(it);
}

void ProfileRegistry::Put(std::shared_ptr<const Profile> profile, std::string stored_id) {
  std::unique_lock lock(mutex_);
  if (!stored_id.empty()) {
    if (auto it = stored_.find(stored_id); it != stored_.end()) RemoveLocked(it->second.first, it->second.second);
    stored_[stored_id] = {profile->url(), profile->version()};
  }
  RemoveLocked(profile->url(), profile->version());
  by_url_[profile->url()].push_back(std::move(profile));
}

void ProfileRegistry::RemoveStored(std::string_view stored_id) {
  std::unique_lock lock(mutex_);
  auto it = stored_.find(std::string(stored_id));
  if (it == stored_.end()) return;
  RemoveLocked(it->second.first, it->second.second);
  stored_.erase(it);
}

std::shared_ptr<const Profile> ProfileRegistry::Find(std::string_view canonical) const {
  auto [url, version] = SplitCanonical(canonical);
  std::shared_lock lock(mutex_);
  auto it = by_url_.find(std::string(url));
  if (it == by_url_.end() || it->second.empty()) return nullptr;
  if (version.empty()) return it->second.back();
  for (const auto& profile : it->second) {
    if (profile->version() == version) return profile;
  }
  return nullptr;
}

bool ProfileRegistry::IsBaseType(std::string_view canonical) const {
  auto [url, version] = SplitCanonical(canonical);
  return url.starts_with(kCorePrefix) && definitions_.FindType(url.substr(kCorePrefix.size())) != nullptr;
}

std::string ProfileRegistry::TypeOf(std::string_view canonical) const {
  if (IsBaseType(canonical)) return std::string(SplitCanonical(canonical).first.substr(kCorePrefix.size()));
  auto profile = Find(canonical);
  return profile == nullptr ? std::string() : profile->type();
}

Result<std::shared_ptr<const Profile>> ProfileRegistry::Prepare(const fhir::Node& structure_definition) const {
  if (structure_definition.TextOf("derivation") == "specialization" || structure_definition.TextOf("kind") == "logical") {
    return Err(Status::Unprocessable("only profiles (derivation constraint) can be validated against; new types and logical models cannot")
                   .WithIssues({{IssueType::kNotSupported, "this StructureDefinition defines a new type, not a profile",
                                 "StructureDefinition.derivation"}}));
  }
  return Profile::Build(structure_definition, definitions_, [this](std::string_view url) { return Find(url); });
}

Status ProfileRegistry::Add(const fhir::Node& structure_definition, std::string stored_id) {
  CK_ASSIGN_OR_RETURN(auto profile, Prepare(structure_definition));
  Put(std::move(profile), std::move(stored_id));
  return Status::Ok();
}

std::size_t ProfileRegistry::size() const {
  std::shared_lock lock(mutex_);
  std::size_t count = 0;
  for (const auto& [url, versions] : by_url_) count += versions.size();
  return count;
}

}  // namespace ck::validation
