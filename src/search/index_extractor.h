#pragma once
// Extracts the search index values of a resource: for each R4 search parameter that applies to
// its type (those based on the type, on Resource and on DomainResource), the parameter's FHIRPath
// expression is evaluated (compiled and type-checked once per type) and each value found is
// turned into index entries of the parameter's kind (index_entries.h). Runs before a write
// reaches the store, so the store's writer only inserts.
//
// Composite parameters pair each value of the second component with each code of the first (a
// token) found in the same element (index_entries.h, CompositeEntry); of three components
// (MolecularSequence's coordinates), the second and third are numbers, paired with each other.
//
// The resources in `contained` are extracted too, each as a resource of its own type (for
// `_contained`).
//
// The text `_text` and `_content` search is gathered too (full_text.h). Not extracted here:
// _lastUpdated (the transaction time, known only inside the write), _query and special
// parameters.
// Thread safety: immutable after construction; Extract may run on any thread.

#include <string>
#include <unordered_map>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/resource.h"
#include "fhirpath/expression.h"
#include "search/index_entries.h"
#include "search/search_zone.h"
#include "util/status.h"

namespace ck::search {

class IndexExtractor {
 public:
  // Compiles the R4 parameters' expressions for every resource type (on first use).
  static const IndexExtractor& R4();

  // Errors: kInternal naming the parameter whose expression could not be evaluated on this
  // resource (a defect the tests keep out: every Synthea resource is extracted).
  // Dates without a zone are placed in `zone` (search_zone.h).
  Result<IndexEntries> Extract(const fhir::Resource& resource, const SearchZone& zone = SearchZone()) const;

  // _lastUpdated, whose value the write adds (the transaction time).
  Param last_updated() const { return last_updated_; }
  // The parameters indexed for resources of `type` (empty for an unknown type).
  std::vector<Param> ParametersOf(const std::string& type) const;
  // Expressions that could not be compiled, as "code on Type: reason" (a test keeps it empty).
  const std::vector<std::string>& failed_to_compile() const { return failed_to_compile_; }

 private:
  struct Component {
    Param param;
    fhirpath::Expression expression;  // relative to a value of the composite's expression
  };
  struct Compiled {
    Param param;
    fhirpath::Expression expression;
    std::vector<Component> components;  // composites: the token, then the value it qualifies
  };

  // The entries of the resource itself, without its contained resources'.
  Result<IndexEntries> ExtractOwn(const fhir::Resource& resource, const SearchZone& zone) const;
  std::vector<Component> CompileComponents(const fhir::SearchParameterDefinition& param, const fhir::TypeDefinition& type);
  Status ExtractComposite(const Compiled& compiled, const fhir::Resource& resource, const fhirpath::Collection& values,
                          const SearchZone& zone, IndexEntries& out) const;

  explicit IndexExtractor(const fhir::Definitions& definitions);

  const fhir::Definitions& definitions_;
  Param last_updated_ = nullptr;
  std::unordered_map<const fhir::TypeDefinition*, std::vector<Compiled>> by_type_;
  std::vector<std::string> failed_to_compile_;
};

}  // namespace ck::search
