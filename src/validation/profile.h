#pragma once
// A profile (a StructureDefinition with derivation `constraint`, or an extension definition) in
// the form validation walks: a tree of element rules by element id, each with what the profile
// says about the element (cardinality, types with their profiles and target profiles, fixed and
// pattern values, binding, invariants it adds) and, for a sliced element, its slicing and slices.
//
// Built from the snapshot when the StructureDefinition has one. Without one, the snapshot is
// generated from the differential: the base profile's elements (when the base is a profile this
// server holds) with the differential's elements laid over them by id, and what neither says
// (cardinality, types) taken from the R4 definition of the element. Elements a profile leaves as
// the base type defines them need no rule: the R4 structure checks already apply them.
// Thread safety: immutable after Build; share freely.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "fhirpath/expression.h"
#include "util/status.h"

namespace ck::validation {

class Profile;

struct TypeRule {
  std::string code;                          // "Quantity", "Reference", "Extension"
  std::vector<std::string> profiles;         // the value must conform to one of these
  std::vector<std::string> target_profiles;  // a Reference must point at one of these
};

struct ConstraintRule {
  std::string key;
  IssueSeverity severity = IssueSeverity::kError;
  std::string human;
  fhirpath::Expression expression;
};

enum class DiscriminatorKind { kValue, kPattern, kType, kProfile, kExists };

struct Discriminator {
  DiscriminatorKind kind = DiscriminatorKind::kValue;
  std::string path;                                // "code.coding.system", "url", "$this"
  std::optional<fhirpath::Expression> expression;  // compiled path; none when it cannot be compiled
};

enum class SlicingRules { kOpen, kClosed, kOpenAtEnd };

struct ElementRule {
  std::string id;          // "Observation.component:systolic.code"
  std::string path;        // "Observation.component.code"
  std::string name;        // the last path segment: "code", "value[x]", "valueQuantity"
  std::string slice_name;  // for a slice: "systolic"
  std::uint32_t min = 0;
  std::uint32_t max = fhir::ElementDefinition::kUnbounded;
  std::vector<TypeRule> types;
  const fhir::Node* fixed = nullptr;    // fixed[x]: the value must be exactly this
  const fhir::Node* pattern = nullptr;  // pattern[x]: the value must hold at least this
  const fhir::Node* min_value = nullptr;  // minValue[x] and maxValue[x]: bounds of a number or quantity
  const fhir::Node* max_value = nullptr;
  fhir::BindingStrength binding_strength = fhir::BindingStrength::kNone;
  std::string value_set;
  std::vector<ConstraintRule> constraints;  // the invariants the profile adds (not the R4 ones)

  bool sliced = false;
  std::vector<Discriminator> discriminators;
  bool ordered = false;
  SlicingRules rules = SlicingRules::kOpen;

  std::vector<const ElementRule*> children;  // the element's own children, in order
  std::vector<const ElementRule*> slices;    // a sliced element's slices, in order
};

class Profile {
 public:
  // Finds a profile this server holds by canonical URL (for a differential's base).
  using Lookup = std::function<std::shared_ptr<const Profile>(std::string_view url)>;

  // Builds a profile from a StructureDefinition (bound or not). Errors: kUnprocessable naming
  // what is missing or malformed (no url or type, neither snapshot nor differential, an element
  // without id or path, a constraint whose FHIRPath does not compile).
  static Result<std::shared_ptr<const Profile>> Build(fhir::Node structure_definition, const fhir::Definitions& definitions,
                                                      const Lookup& lookup);

  const std::string& url() const { return url_; }
  const std::string& version() const { return version_; }
  const std::string& name() const { return name_; }
  // The type it constrains ("Observation", "Extension", "Quantity").
  const std::string& type() const { return type_; }
  bool is_extension() const { return type_ == "Extension"; }
  // For an extension: where it may be used (StructureDefinition.context), as type and expression.
  struct Context {
    std::string type;  // "element", "extension", "fhirpath"
    std::string expression;
  };
  const std::vector<Context>& contexts() const { return contexts_; }
  // The rule of the root element (path == type).
  const ElementRule& root() const { return *root_; }
  // Whether the snapshot was generated here from the differential.
  bool generated_snapshot() const { return generated_snapshot_; }

 private:
  Profile() = default;

  std::unique_ptr<fhir::Node> source_;         // owns the nodes fixed and pattern point into
  std::shared_ptr<const Profile> base_;        // keeps a differential's base nodes alive
  std::string url_, version_, name_, type_;
  std::vector<Context> contexts_;
  std::deque<ElementRule> rules_;               // stable addresses for the tree's pointers
  // Each element's StructureDefinition nodes, top layer first: a derived differential's base.
  std::vector<std::pair<std::string, std::vector<const fhir::Node*>>> layers_;
  const ElementRule* root_ = nullptr;
  bool generated_snapshot_ = false;
};

}  // namespace ck::validation
