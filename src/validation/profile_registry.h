#pragma once
// The profiles this server validates against, by canonical URL: the R4 core profiles and
// extension definitions that come with the definitions (built in: vital signs, body weight, the
// 393 core extensions...), and every StructureDefinition stored on the server or loaded from a
// package (added and removed as those are written).
// Thread safety: all methods are safe from any thread; a profile, once found, stays valid for as
// long as the caller holds it, even if it is replaced meanwhile.

#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fhir/definitions.h"
#include "validation/profile.h"

namespace ck::validation {

class ProfileRegistry {
 public:
  // With the built-in core profiles (parsed here, about 0.1 s).
  explicit ProfileRegistry(const fhir::Definitions& definitions);

  // The profile with this canonical ("url" or "url|version"; without a version, the one added
  // last), or nullptr.
  std::shared_ptr<const Profile> Find(std::string_view canonical) const;
  // Whether the canonical names an R4 base type or resource ("http://hl7.org/fhir/StructureDefinition/Patient"),
  // which every instance of that type meets by being well-formed.
  bool IsBaseType(std::string_view canonical) const;
  // The R4 type (resource or data type) a canonical's instances are: the base type itself, or
  // a profile's type; empty if unknown.
  std::string TypeOf(std::string_view canonical) const;

  // The profile of a StructureDefinition with derivation `constraint`, built but not added yet
  // (a write checks it before it stores the resource); one with derivation `specialization` (a
  // new type) or a logical model is not a profile and is refused. Errors: as Profile::Build,
  // kUnprocessable.
  Result<std::shared_ptr<const Profile>> Prepare(const fhir::Node& structure_definition) const;
  // Adds (or replaces, same url and version) a profile; `stored_id` is the id of the
  // StructureDefinition resource it comes from, if stored here: a new version of that resource
  // replaces it, and RemoveStored forgets it.
  void Put(std::shared_ptr<const Profile> profile, std::string stored_id = "");
  // Prepare then Put.
  Status Add(const fhir::Node& structure_definition, std::string stored_id = "");
  // Forgets the profile of a stored StructureDefinition that was deleted.
  void RemoveStored(std::string_view stored_id);

  // How many profiles are held, and the built-in ones that could not be built (a test keeps
  // this empty).
  std::size_t size() const;
  const std::vector<std::string>& core_failures() const { return core_failures_; }

 private:
  void RemoveLocked(const std::string& url, const std::string& version);

  const fhir::Definitions& definitions_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<const Profile>>> by_url_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> stored_;  // resource id -> url, version
  std::vector<std::string> core_failures_;
};

}  // namespace ck::validation
