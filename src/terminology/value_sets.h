#pragma once
// The value sets that FHIR R4 core elements bind to, expanded at build time
// (tools/gen_value_sets.mjs) from the code systems shipped with the definitions, for checking
// bindings on write. A value set that needs a code system not loaded here (SNOMED CT, LOINC,
// UCUM, ISO and IETF code lists) is known as "not expandable", with the reason, so a binding to
// it is skipped and reported as such rather than guessed. Larger terminologies plug in behind
// the same lookup later (the terminology issue).
// Thread safety: immutable after first use.

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ck::terminology {

class ValueSet {
 public:
  // Whether the expansion is known; when not, why (Contains answers false then).
  bool expanded() const { return expanded_; }
  const std::string& not_expandable_reason() const { return reason_; }

  // Whether (system, code) is a member.
  bool Contains(std::string_view system, std::string_view code) const;
  // Whether `code` is a member in any of the value set's code systems (for elements of type
  // code, whose system is implied by the binding).
  bool ContainsCode(std::string_view code) const;

  // A value set built at run time (loaded_value_sets.h): its members, or why it has none.
  static ValueSet Expanded(const std::vector<std::pair<std::string, std::string>>& members);
  static ValueSet NotExpandable(std::string reason);
  // The members as "system|code".
  const std::unordered_set<std::string>& members() const { return members_; }

 private:
  friend class ValueSets;
  bool expanded_ = false;
  std::string reason_;
  std::unordered_set<std::string> members_;  // "system|code"
  std::unordered_set<std::string> codes_;    // "code"
};

// Where a binding's value set is looked up: the R4 table below, or a registry that adds value
// sets loaded at run time (validation/profile_registry.h).
class ValueSetLookup {
 public:
  virtual ~ValueSetLookup() = default;
  // The value set with this canonical URL (a "|version" suffix is ignored), or nullptr.
  virtual const ValueSet* Find(std::string_view url) const = 0;
};

class ValueSets : public ValueSetLookup {
 public:
  // The value sets bound by the R4 core definitions.
  static const ValueSets& R4();

  // The value set with this canonical URL (a "|version" suffix is ignored), or nullptr if it is
  // not one of the bound value sets.
  const ValueSet* Find(std::string_view url) const override;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, ValueSet, Hash, std::equal_to<>> by_url_;
};

}  // namespace ck::terminology
