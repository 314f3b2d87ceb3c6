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

#include <memory>
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
  // R4's parameters and `custom` ones (search/custom_parameter.h), each on the resource types of
  // its bases; R4's compiled expressions are shared, not compiled again. REQUIRES: each custom
  // definition outlives the extractor. Errors: kUnprocessable naming a parameter whose
  // expression (or a component's) cannot be compiled and type-checked on one of its bases.
  static Result<std::shared_ptr<const IndexExtractor>> WithCustom(const std::vector<Param>& custom);

  // Errors: kInternal naming the parameter whose expression could not be evaluated on this
  // resource (a defect the tests keep out: every Synthea resource is extracted).
  // Dates without a zone are placed in `zone` (search_zone.h).
  Result<IndexEntries> Extract(const fhir::Resource& resource, const SearchZone& zone = SearchZone()) const;

  // The values of one of this extractor's own (custom) parameters only, in the resource and its
  // contained resources (no full text): what reindexing that parameter writes.
  Result<IndexEntries> ExtractParameter(Param param, const fhir::Resource& resource, const SearchZone& zone) const;

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

  // Adds the entries of the resource itself, without its contained resources', to `out`: of
  // every parameter (R4's first), or of `only`.
  Status ExtractOwn(const fhir::Resource& resource, const SearchZone& zone, Param only, IndexEntries& out) const;
  // The resource and its contained resources' entries (ExtractOwn).
  Result<IndexEntries> ExtractWithContained(const fhir::Resource& resource, const SearchZone& zone, Param only) const;
  // Compiles `params` for each resource type they apply to.
  void Compile(const std::vector<Param>& params);
  std::vector<Component> CompileComponents(const fhir::SearchParameterDefinition& param, const fhir::TypeDefinition& type);
  Status ExtractComposite(const Compiled& compiled, const fhir::Resource& resource, const fhirpath::Collection& values,
                          const SearchZone& zone, IndexEntries& out) const;

  // `base`: R4's extractor, whose parameters this one adds to (nullptr: this is R4's).
  IndexExtractor(const fhir::Definitions& definitions, const IndexExtractor* base);

  const fhir::Definitions& definitions_;
  const IndexExtractor* const base_;
  std::vector<Param> own_;  // the parameters compiled here (custom ones when base_ is set)
  Param last_updated_ = nullptr;
  std::unordered_map<const fhir::TypeDefinition*, std::vector<Compiled>> by_type_;
  std::vector<std::string> failed_to_compile_;
};

}  // namespace ck::search
