#pragma once
// The one bundle engine (FHIR R4 http, "Batches and Transactions"), under every front door that
// takes Bundles (REST transactions and batches, `chartkeeper import`, later HL7 v2): reads each
// entry's request, gives the resources it creates their ids, rewrites the references between
// entries (a fullUrl `urn:uuid:`, `urn:oid:` or under this server's base, in Reference.reference
// and in the narrative's href attributes) to the ids given, resolves conditional references
// (`Patient?identifier=http://x|123`: first the Bundle's own resources, then the front door's
// resolver, which also finds what a transaction's conditional creates match), and orders the entries as FHIR prescribes: DELETE, POST, PUT and PATCH, GET and HEAD.
// The entries of a Bundle of another type (collection, document, searchset) have no request:
// each resource is taken as a PUT of its id, or a POST when it has none. What happens to the
// entries is the caller's.
// Thread safety: a pure function of its inputs (the resolver is called on the caller's thread).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhir/resource.h"
#include "util/status.h"

namespace ck::records {

enum class EntryMethod { kDelete, kPost, kPut, kPatch, kGet, kHead };

struct PlannedEntry {
  std::size_t index = 0;  // place in the Bundle
  std::string full_url;
  EntryMethod method = EntryMethod::kGet;
  std::string url;    // request.url as sent
  std::string type;   // the resource type the url names (empty at system level)
  std::string id;     // the id the url names (a GET's: the rest of its path) or, for a create, the id given
  std::string query;  // what follows '?' in the url (a conditional write's search)
  std::string if_match, if_none_match, if_none_exist, if_modified_since;
  std::optional<fhir::Resource> resource;  // POST and PUT: bound, its id set, references rewritten;
                                           // PATCH: the patch (Parameters or Binary), references rewritten
  // (A conditional update's `id` is the resource its search picked when planned, or the one it
  // will create.) A transaction's conditional create (ifNoneExist) that a resource already meets: "Type/id",
  // which references to the entry now name; nothing is to be created.
  std::string existing;
  Status problem;  // why the entry cannot be carried out (a transaction then fails), or OK

  // "entry 3 (urn:uuid:...)": names the entry in messages.
  std::string Label() const;
};

struct BundlePlan {
  std::string type;                    // Bundle.type: "transaction", "batch", ...
  std::vector<PlannedEntry> entries;   // in the Bundle's order
  std::vector<std::size_t> order;      // entry indexes in processing order
};

struct BundlePlanOptions {
  const fhir::Definitions* definitions = nullptr;
  fhir::BindOptions bind;
  std::string base_url;  // "http://host/fhir": fullUrls and references under it are this server's
  // Creates keep an id of their own (the urn:uuid of their fullUrl, else the resource's id), so a
  // Bundle imported twice updates what it wrote the first time; otherwise each gets a new one.
  bool keep_ids = false;
  std::size_t max_entries = 10000;
  // A transaction's conditional creates (ifNoneExist) and updates (PUT [type]?[search]) are
  // looked up with `resolve` as they are planned, so references to them name the resource they
  // end at (REST). Off: the entries are taken as they are written (import).
  bool conditional_writes = true;
  // Resolves a conditional reference the Bundle's own resources do not answer: the type and the
  // search after '?', to the reference to write ("Patient/123"). Errors: kNotFound (no match),
  // kPreconditionFailed (several). Unset: such a reference is a problem of its entry.
  std::function<Result<std::string>(const std::string& type, const std::string& query)> resolve;
};

// Errors: kInvalid (not a Bundle, an entry that is not an object), kTooLarge (more entries than
// max_entries). A bad entry is not an error of the plan: its `problem` says what is wrong.
Result<BundlePlan> PlanBundle(fhir::Node bundle, const BundlePlanOptions& options);

}  // namespace ck::records
