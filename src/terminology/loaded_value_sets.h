#pragma once
// Value sets and code systems loaded at run time: ValueSet and CodeSystem resources stored on the
// server or loaded from a FHIR package (US Core's race and ethnicity sets, an IG's own codes).
// A lookup finds these first, then the built-in R4 ones. A loaded value set is expanded on first
// use from what is loaded: its own `expansion` if it carries one, otherwise `compose` (concept
// lists, whole code systems that are loaded, `is-a`/`descendent-of`/`=` filters on their
// hierarchies, nested value sets, `exclude`); what needs a code system that is not loaded is "not
// expandable", with the reason, and bindings to it are skipped as for the R4 ones.
// Thread safety: all methods are safe from any thread; a value set found stays valid for the
// life of this object (replaced expansions are kept, never freed).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fhir/resource.h"
#include "terminology/value_sets.h"

namespace ck::terminology {

class LoadedValueSets : public ValueSetLookup {
 public:
  // REQUIRES: `fallback` (the R4 value sets) outlives this.
  explicit LoadedValueSets(const ValueSetLookup& fallback) : fallback_(fallback) {}

  // Adds (or replaces, same url) a ValueSet or CodeSystem resource; other resources are ignored.
  // `stored_id` names the stored resource, so that RemoveStored can retire it.
  void Add(const fhir::Node& resource, const std::string& stored_id = "");
  void RemoveStored(std::string_view type, std::string_view stored_id);

  const ValueSet* Find(std::string_view url) const override;

 private:
  struct CodeSystem {
    std::unordered_map<std::string, std::vector<std::string>> parents;  // code -> the codes it is under
  };
  std::shared_ptr<const ValueSet> Expand(const std::string& url, int depth) const;
  std::unordered_set<std::string> Select(const fhir::Node& part, int depth, std::string& why) const;
  std::unordered_set<std::string> Subsumed(const CodeSystem& system, const std::string& code) const;
  void Changed();

  const ValueSetLookup& fallback_;
  mutable std::mutex mutex_;
  // Whether any value set is loaded: most servers hold none, and a lookup (every coded element
  // of every write) then goes to the built-in table without taking the lock.
  std::atomic<bool> any_value_set_{false};
  std::unordered_map<std::string, fhir::Node> value_sets_;  // url -> ValueSet resource
  std::unordered_map<std::string, CodeSystem> code_systems_;  // url -> its concepts
  std::unordered_map<std::string, std::pair<std::string, std::string>> stored_;  // "type/id" -> url
  mutable std::unordered_map<std::string, std::shared_ptr<const ValueSet>> expansions_;
  mutable std::vector<std::shared_ptr<const ValueSet>> retired_;  // found before a change: kept valid
};

}  // namespace ck::terminology
