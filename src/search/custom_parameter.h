#pragma once
// Custom search parameters: SearchParameter resources stored on this server, indexed beside R4's
// (R4 search, "Defining Search Parameters"). ReadSearchParameter reads one and checks that this
// server can index it; a ParameterSet is the set in force, which writes extract with and
// searches look up. A custom parameter is searchable once every stored resource of its bases
// has been indexed under it (records/reindex_jobs.h); until then it is `pending`, and searches
// report it as not supported yet.
// Thread safety: ReadSearchParameter may run on any thread; a ParameterSet is immutable, shared
// through shared_ptr, replaced whole when a SearchParameter changes.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fhir/resource.h"
#include "search/index_extractor.h"
#include "util/status.h"

namespace ck::search {

// A SearchParameter resource as this server reads it.
struct CustomParameter {
  fhir::SearchParameterDefinition definition;
  bool active = false;  // status active: indexed and (once reindexed) searchable; draft, retired: not
  // Why an active parameter is not put in force, or empty: R4 already searches a base type by
  // its code (an implementation guide's copy of an R4 parameter, say; R4's is used).
  std::string not_in_force;

  bool InForce() const { return active && not_in_force.empty(); }
};

// Only an active SearchParameter is checked (a draft or retired one is documentation: stored,
// never indexed). Errors: kUnprocessable naming what is wrong: a url that is missing or an R4
// parameter's; a code missing, starting with `_` or holding anything but letters, digits, `-`
// and `_`; a type this server cannot search (special); a base that is not a resource type; a
// missing expression, or one that does not compile and type-check on a type of its bases; a
// reference target that is not a resource type; a composite without two or three components
// (each the url of a known parameter with an expression) of kinds this server can pair (a
// token, then one value or two numbers). `known` lists the other custom parameters, which a
// composite's components may name.
Result<CustomParameter> ReadSearchParameter(const fhir::Resource& resource, const std::vector<Param>& known = {});

// The concrete resource types a parameter with these bases applies to (a base of Resource or
// DomainResource covers many), sorted.
std::vector<std::string> TypesCoveredBy(const std::vector<std::string>& bases);

// Keeps a custom parameter's definition for the life of the process and returns it: index
// entries and parsed searches point at definitions, and may outlive the set that made them.
// (One definition per change of a SearchParameter resource.)
Param KeepDefinition(fhir::SearchParameterDefinition definition);

// The search parameters in force.
struct ParameterSet {
  std::shared_ptr<const IndexExtractor> extractor;  // R4's and the active custom parameters
  std::vector<Param> custom;                        // the active custom parameters
  std::set<std::string> pending;                    // urls of those not searchable yet (reindex under way)
  std::uint64_t generation = 0;                     // grows with every change of the set

  bool Searchable(Param param) const { return !pending.contains(param->url); }
  // The custom parameter with this url, or nullptr.
  Param FindCustom(const std::string& url) const;
  // R4's parameters only, all searchable.
  static std::shared_ptr<const ParameterSet> R4();
};

}  // namespace ck::search
