#pragma once
// The one service every front door calls to keep records: create, read, vread, update, delete
// and history of FHIR resources. It validates input against the definitions, assigns ids,
// versions and lastUpdated, and hands the storage work to the store as one write operation with
// its search index rows and its audit record. Every interaction is audited here, so no front
// door can skip it: a change in its own transaction; a read, search or history, and any refusal
// or failure, as a record the caller's data waits for (RequestContext::audits).
// Thread safety: all methods are safe from any thread.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/definitions.h"
#include "fhir/json_reader.h"
#include "fhir/resource.h"
#include "audit/audit_trail.h"
#include "records/request_context.h"
#include "records/resource_patch.h"
#include "records/search_parameters.h"
#include "records/validate_operation.h"
#include "search/query_parser.h"
#include "store/resource_store.h"
#include "util/status.h"
#include "terminology/loaded_value_sets.h"
#include "validation/profile_registry.h"
#include "validation/validator.h"

namespace ck::records {

struct RecordOptions {
  unsigned max_json_depth = 64;  // deepest JSON nesting accepted in a resource
  std::size_t max_issues = 100;  // most problems reported for one resource
  bool strict_profiles = false;  // a claimed profile the server does not hold refuses the write
  search::SearchZone search_zone;  // where dates without a zone are placed (index and searches)
  std::size_t max_conditional_deletes = 1;  // most resources one conditional delete removes (up to 10,000)
  // Where every interaction is recorded (audit/audit_trail.h): changes in their own transaction,
  // reads, searches, refusals and failures before the caller gets the data. nullptr: nothing is
  // recorded (tests of this layer alone; a server always has one). REQUIRES: outlives the service.
  const audit::AuditTrail* audit_trail = nullptr;
};

// What a write produced.
struct WriteOutcome {
  std::string type;
  std::string id;
  std::int64_t version = 0;
  Millis last_updated = 0;
  bool created = false;  // true if the resource did not exist (or was deleted) before
  bool existed = false;  // a conditional create matched this resource: nothing was written
  std::vector<std::string> deleted;  // a conditional delete: the ids of the resources it deleted
  std::string body;      // the stored JSON (empty after a delete)
  std::vector<Issue> issues;  // warnings and information found, when the context asked for them;
                              // errors too when a lenient policy stored the resource anyway
  std::size_t recorded_errors = 0;  // errors recorded beside the version (lenient policy)
};

// One write of a transaction (RecordService::Transaction).
struct TransactionWrite {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  std::string type;  // kDelete: the type of the resource deleted
  // kDelete: the resource deleted; kUpdate with a condition: the resource it is expected to pick
  // (a transaction planned its references for it), or empty.
  std::string id;
  std::optional<fhir::Resource> resource;  // kCreate (with the id it is to have, new), kUpdate
  std::optional<std::int64_t> if_match;    // the version the resource must be at
  std::string label;                       // names the write in errors: "entry 3 (urn:uuid:...)"
  // Search parameters (decoded), checked in the write's own transaction. kCreate: If-None-Exist
  // (a match means nothing is created; several: kPreconditionFailed). kUpdate: the resource
  // updated is the one match (several: kPreconditionFailed; none: created, with the body's id or
  // a new one). kDelete: every match is deleted (more than max_conditional_deletes:
  // kPreconditionFailed, nothing deleted; none: nothing to do).
  std::vector<std::pair<std::string, std::string>> condition;
  bool patch = false;  // kUpdate made by a patch (audited as one)
};

class RecordService {
 public:
  // REQUIRES: definitions and store outlive the service.
  RecordService(const fhir::Definitions& definitions, store::ResourceStore& store, RecordOptions options = {});

  // Stores a new resource of `type` with a server-assigned id (any id in the body is replaced).
  // The context's validation policy decides what a resource that breaks a rule gets. With
  // `if_none_exist` (search parameters), only when no resource of the type matches them, checked
  // in the write's own transaction (so parallel identical requests create one resource); if one
  // does, the outcome is that resource with `existed` set.
  // Errors: kNotFound (unknown type), kInvalid/kUnprocessable (body), kInvalid (type mismatch,
  // a bad search), kPreconditionFailed (several match).
  Result<WriteOutcome> Create(const RequestContext& context, std::string_view type, std::string_view body,
                              std::vector<std::pair<std::string, std::string>> if_none_exist = {});

  // Stores a new version of type/id, creating it if absent (client-chosen id). If `if_match` is
  // set, the current version must equal it. Errors as Create, plus kInvalid (body id missing or
  // different from `id`), kPreconditionFailed (version mismatch or absent resource with if_match).
  Result<WriteOutcome> Update(const RequestContext& context, std::string_view type, std::string_view id,
                              std::string_view body, std::optional<std::int64_t> if_match);

  // As Create and Update, for a resource already parsed and bound (bulk import).
  Result<WriteOutcome> CreateResource(const RequestContext& context, fhir::Resource resource,
                                      std::vector<std::pair<std::string, std::string>> if_none_exist = {});
  Result<WriteOutcome> UpdateResource(const RequestContext& context, fhir::Resource resource,
                                      std::optional<std::int64_t> if_match);

  // Applies `writes` in the order given in one database transaction: all of them or none (the
  // store may share the commit's fsync with other writes, never the outcome). Each is validated
  // and checked as Create (an id that must be new), Update and Delete check theirs. Outcomes in
  // the same order. Errors: the first failing write's, its messages prefixed with its label;
  // kInvalid if two writes name the same resource. Nothing is stored then.
  Result<std::vector<WriteOutcome>> Transaction(const RequestContext& context, std::vector<TransactionWrite> writes);

  // PUT [type]?[search]: updates the one resource of `type` that matches `condition`, or creates
  // it (with the body's id, else a new one) when none does; checked in the write's own
  // transaction. Errors: as Update; kPreconditionFailed (several match), kInvalid (the body's id
  // is not the match's, a bad search).
  Result<WriteOutcome> ConditionalUpdate(const RequestContext& context, std::string_view type, std::string_view body,
                                         std::vector<std::pair<std::string, std::string>> condition,
                                         std::optional<std::int64_t> if_match);
  // DELETE [type]?[search]: deletes every match, up to RecordOptions::max_conditional_deletes
  // (past it kPreconditionFailed and nothing is deleted); none matching is no error. The outcome
  // lists the ids deleted.
  Result<WriteOutcome> ConditionalDelete(const RequestContext& context, std::string_view type,
                                         std::vector<std::pair<std::string, std::string>> condition);

  // PATCH [type]/[id]: the current version with `patch` applied (records/resource_patch.h),
  // validated and stored like an update. With `if_match` the current version must be that one;
  // without, a write that lands between reading and storing makes the patch apply again to the
  // newer version (five tries, then kConflict). Errors: as Read (kNotFound, kGone); the patch's
  // (kInvalid malformed, kUnprocessable cannot apply); kUnprocessable (the result breaks a rule
  // or changes the id or type); kPreconditionFailed (if_match).
  Result<WriteOutcome> Patch(const RequestContext& context, std::string_view type, std::string_view id,
                             const ResourcePatch& patch, std::optional<std::int64_t> if_match);
  // PATCH [type]?[search]: Patch on the one resource that matches. Errors: as Patch; kNotFound
  // (none matches), kPreconditionFailed (several do), kInvalid (a bad search).
  Result<WriteOutcome> ConditionalPatch(const RequestContext& context, std::string_view type,
                                        std::vector<std::pair<std::string, std::string>> condition,
                                        const ResourcePatch& patch, std::optional<std::int64_t> if_match);
  // A patch as a write of a transaction: the update it makes of the current version, bound to
  // that version (its if_match), so a change before the commit fails the transaction rather than
  // being overwritten. `id` empty: the one match of `condition`. Errors: as (Conditional)Patch.
  Result<TransactionWrite> PatchWrite(const RequestContext& context, std::string_view type, std::string_view id,
                                      std::vector<std::pair<std::string, std::string>> condition,
                                      const ResourcePatch& patch, std::optional<std::int64_t> if_match);

  // Appends a delete version (a tombstone). Deleting a deleted resource changes nothing and
  // succeeds. Errors: kNotFound (never existed), kPreconditionFailed (if_match mismatch).
  Result<WriteOutcome> Delete(const RequestContext& context, std::string_view type, std::string_view id,
                              std::optional<std::int64_t> if_match);

  // The current version. Errors: kNotFound, kGone (deleted; the status detail names the version),
  // kInvalid (an id that breaks the id rule).
  Result<store::StoredVersion> Read(const RequestContext& context, std::string_view type, std::string_view id);
  // As Read, answered from memory only (never blocks on the database); nullopt when the answer
  // needs the database, so the caller can run Read where blocking is allowed.
  std::optional<Result<store::StoredVersion>> ReadCached(const RequestContext& context, std::string_view type,
                                                         std::string_view id);
  // A given version. Errors: kNotFound, kGone (that version is a delete).
  Result<store::StoredVersion> ReadVersion(const RequestContext& context, std::string_view type, std::string_view id,
                                           std::int64_t version);
  // Versions newest first. Errors: kNotFound (unknown type).
  Result<store::HistoryPage> History(const RequestContext& context, const store::HistoryQuery& query);

  // A type-level search (search/query_parser.h): the matches of one page and what was ignored.
  // Errors: kNotFound (unknown type), kInvalid (a malformed or, under strict handling, unknown
  // parameter), store errors.
  struct SearchResult {
    search::ParsedSearch parsed;
    store::SearchPage page;
  };
  // With `_contained=both`, the resources that match come first, then the contained ones (the
  // cursor is "/<cursor>" or "contained/<cursor>"), or with `_sort` both merged in its order.
  Result<SearchResult> Search(const RequestContext& context, const search::SearchRequest& request);
  // A system-level search (`GET /fhir?_type=Patient,Observation&...`, request.type empty): each
  // type of `_type` (every type when absent) searched with the same parameters, results in type
  // then id order; the cursor is "Type/<that type's cursor>" ("Type.contained/..." for the
  // contained resources of `_contained=both`). A parameter that does not apply to a type named in
  // `_type` is kInvalid; without `_type`, such types are left out. With `_sort` (whose keys must
  // be parameters of every type searched) the types' matches are merged in its order.
  Result<SearchResult> SearchSystem(const RequestContext& context, const search::SearchRequest& request);

  // $everything: R4's Patient/[id]/$everything and Patient/$everything, and
  // Encounter/[id]/$everything (defined by later FHIR versions). `request.type` is Patient or
  // Encounter, `request.compartment_id` the id (empty: every patient the caller may see). The
  // resources of the compartment (the compartment's resource first, then by type), then those of
  // types outside it that they refer to (Practitioner, Organization, Medication, Location...),
  // each once, as pages of a search: `_count`, `_cursor` (the page's links), `_since` (an
  // instant: only resources changed since), `_type` (only these types). Types the caller may not
  // search are left out; a caller limited to one patient gets that patient's only.
  // Errors: kNotFound (another type, the resource), kGone, kInvalid (another parameter, a bad
  // value), kForbidden (another patient, or Encounter for a caller limited to one patient).
  Result<SearchResult> Everything(const RequestContext& context, const search::SearchRequest& request);

  // The search parameters in force and their reindex jobs (records/search_parameters.h).
  SearchParameterRegistry& search_parameters() const { return *parameters_; }

  // Validates `body` as a resource without storing it (also used by import to report errors).
  Result<fhir::Resource> Parse(std::string_view body) const;
  // The problems of a parsed resource beyond its JSON structure (validation/validator.h):
  // errors, and warnings and information if `warnings`. A resource with errors is not stored.
  std::vector<Issue> Validate(const fhir::Resource& resource, bool warnings, const std::vector<std::string>& profiles = {}) const;
  // The profiles validation knows: the R4 core ones, and every StructureDefinition stored here.
  const validation::ProfileRegistry& profiles() const { return *profiles_; }
  // Puts the conformance resources stored in the database to use (at start): the profiles of
  // the StructureDefinitions, and the ValueSets and CodeSystems that bindings look up.
  // Errors: from the store; a stored profile that cannot be used is logged and skipped.
  Status LoadStoredDefinitions();
  // Gives stored resources that have no search index rows yet their rows (a database made before
  // the index existed, or after StartReindex), in pages of bounded memory, each page one write
  // that also records where to resume: a crash loses at most a page of work. Does nothing when
  // the index is complete. `progress` is told the type and the count done so far.
  // Errors: from the store; kInternal if a parameter cannot be evaluated.
  Status CompleteSearchIndex(const std::function<void(const std::string& type, std::size_t done)>& progress = {});
  // Marks every stored resource for reindexing by CompleteSearchIndex (`chartkeeper reindex`).
  Status StartReindex();
  // Small named values kept in the database with the records, such as which FHIR package was
  // loaded (cli/package_command.h). Errors: from the store.
  Result<std::optional<std::string>> ReadState(const std::string& key);
  Status WriteState(const std::string& key, const std::string& value);
  // $validate: every issue (errors, warnings, information) that `input` would meet as a write
  // of `mode` to type/id (id empty at type level), storing nothing; one information issue when
  // there is none. Problems of the resource are issues, not errors. Errors: kNotFound (unknown
  // type), kInvalid (mode delete without an id).
  Result<std::vector<Issue>> ValidateOnly(const RequestContext& context, std::string_view type, std::string_view id,
                                          ValidateInput input);
  // The type definition for a name in a URL. Errors: kNotFound naming the type.
  Result<const fhir::TypeDefinition*> ResourceType(std::string_view type) const;
  const RecordOptions& options() const { return options_; }
  // OK when the caller may administer the server (reindexing, _explain): a trusted caller, or
  // one whose guard allows it; else kForbidden.
  static Status AllowAdministration(const RequestContext& context);
  // OK when the context's guard (if any) allows `interaction` on `type` ("*": every type);
  // else kForbidden. Asked by every method here; front doors ask it for operations that read
  // through other paths ($quality-report).
  static Status Authorize(const RequestContext& context, Interaction interaction, std::string_view type);
  // The audit entry of an interaction by the context's caller.
  static audit::AuditEntry EntryFor(const RequestContext& context, std::string subtype, char action);
  // Records an interaction that changed nothing: a read, search or history returning `subjects`,
  // a refusal or failure (`outcome`), also one a front door serves itself (the
  // audit trail's own reads). Handed to context.audits, or recorded and waited for. Errors: the
  // audit's, when it was waited for and failed.
  Status RecordAccess(const RequestContext& context, audit::AuditEntry entry, const Status& outcome,
                      std::vector<audit::Subject> subjects = {}) const;
  // How bodies are read (limits from RecordOptions); import reads Bundle entries with them too.
  fhir::ReadOptions ReadOptions() const;

 private:
  // `result`, after its access was recorded (RecordAccess): the audit's error when that failed.
  template <class T>
  Result<T> Audited(const RequestContext& context, audit::AuditEntry entry, Result<T> result,
                    std::vector<audit::Subject> subjects = {}) const {
    Status recorded = RecordAccess(context, std::move(entry), result ? Status::Ok() : result.error(), std::move(subjects));
    if (!recorded.ok()) return Err(std::move(recorded));
    return result;
  }
  // The resource of a create or update body (`id` empty: a new one), or the refusal, recorded:
  // kMethodNotAllowed for AuditEvent, and the errors of ResourceType/CheckAddress and ParseAs.
  Result<fhir::Resource> ParseWrite(const RequestContext& context, TransactionWrite::Kind kind, std::string_view type,
                                    std::string_view id, std::string_view body) const;
  // The audit entry of a write, before it is prepared (the entity named if known).
  static audit::AuditEntry WriteEntry(const RequestContext& context, const TransactionWrite& write);
  Result<std::vector<WriteOutcome>> TransactionUnaudited(const RequestContext& context, std::vector<TransactionWrite> writes,
                                                         const audit::AuditEntry& whole);
  Result<store::StoredVersion> ReadUnaudited(const RequestContext& context, std::string_view type, std::string_view id);
  Result<store::StoredVersion> ReadVersionUnaudited(const RequestContext& context, std::string_view type, std::string_view id,
                                                    std::int64_t version);
  Result<SearchResult> SearchUnaudited(const RequestContext& context, const search::SearchRequest& request);
  Result<SearchResult> SearchSystemUnaudited(const RequestContext& context, const search::SearchRequest& request);
  Result<SearchResult> EverythingUnaudited(const RequestContext& context, const search::SearchRequest& request);
  Result<store::HistoryPage> HistoryUnaudited(const RequestContext& context, const store::HistoryQuery& query);
  // Removes the _include/_revinclude resources the caller may not read: of types it may not
  // read, or outside the patient compartment its reads are limited to. Errors: the store's.
  Status DropUnreadableIncludes(const RequestContext& context, store::SearchPage& page) const;
  // What limits the caller's `interaction` on `type` (records/access_guard.h).
  static AccessLimit Limit(const RequestContext& context, Interaction interaction, std::string_view type);
  // Whether the current resource type/id is within `limit` (by the index: the compartment, the
  // query's parameters).
  Result<bool> InLimit(std::string_view type, std::string_view id, const AccessLimit& limit) const;
  // kNotFound (as if the resource did not exist) unless type/id is within what limits the
  // caller's `interaction` on `type`.
  Status CheckLimit(const RequestContext& context, Interaction interaction, std::string_view type, std::string_view id) const;
  // kForbidden unless a resource written under a patient limit is in that patient's compartment
  // (by its references, from `index`); an update must also find the stored resource there.
  Status CheckWriteInCompartment(bool update, const fhir::Resource& resource, const search::IndexEntries& index,
                                 const std::string& patient) const;
  // OK when the caller may ask for _explain (an administrator); else kForbidden.
  static Status AllowExplain(const RequestContext& context);
  // search::ParseSearch with the parameters in force.
  Result<search::ParsedSearch> ParseSearchRequest(search::SearchRequest request) const;
  // A search request limited as the caller's searches of the type are (the compartment, the
  // scope query's parameters added). Errors: kForbidden (a type never in a Patient
  // compartment, or another compartment).
  Result<search::SearchRequest> LimitSearch(const RequestContext& context, search::SearchRequest request) const;
  // Parse() for a body that must be a resource of type `expected`. Errors: as Parse(), and
  // kInvalid if the body's resourceType is another.
  Result<fhir::Resource> ParseAs(std::string_view body, const fhir::TypeDefinition& expected) const;
  // The type of a URL and a valid id. Errors: kNotFound (type), kInvalid (id).
  Result<const fhir::TypeDefinition*> CheckAddress(std::string_view type, std::string_view id) const;
  // Validate() for a write, under the context's policy: the issues to report (warnings if the
  // context asks for them; errors a lenient policy lets in), or kUnprocessable with every issue
  // when there is an error and the policy is strict.
  Result<std::vector<Issue>> CheckForWrite(const RequestContext& context, const fhir::Resource& resource) const;
  // The profile of a StructureDefinition that is one, to add once it is stored; nullptr for
  // other resources. Errors: kUnprocessable (a profile that cannot be built).
  Result<std::shared_ptr<const validation::Profile>> PrepareProfile(const fhir::Resource& resource) const;
  // After a write of `type`/`id` is stored: a StructureDefinition's profile, a ValueSet's or
  // CodeSystem's codes (`resource`; null for a delete) take effect or are retired.
  void DefinitionsChanged(std::string_view type, std::string_view id, const fhir::Node* resource,
                          std::shared_ptr<const validation::Profile> profile);
  // A search made of parts (types; resources, then contained resources). With _sort the store
  // merges their matches by the sort keys (ResourceStore::SearchMerged, its own cursor);
  // without, PageParts. `result` comes with the parsed search of the links and the page size.
  struct SearchPart {
    std::string key;
    search::SearchQuery query;
  };
  Result<SearchResult> SearchParts(std::vector<SearchPart> parts, const std::string& cursor, SearchResult result);
  // Without _sort: the parts searched one after another, each part's matches after the previous
  // part's. The cursor is "<part's key>/<that part's own cursor>"; parts before it are only
  // counted (when a total is asked). `first`: the page size and whether to count.
  Result<store::SearchPage> PageParts(std::vector<SearchPart> parts, const std::string& cursor, const search::SearchQuery& first);
  // Adds the parts of one type's search: its resources (under `key`), its contained resources
  // (under `contained_key`), or both in that order.
  static void AddParts(std::vector<SearchPart>& parts, const std::string& key, const std::string& contained_key,
                       const search::SearchQuery& query);
  // A write checked, validated and indexed outside the store's transaction, ready to append.
  struct PreparedWrite {
    TransactionWrite::Kind kind = TransactionWrite::Kind::kCreate;
    fhir::Resource resource;
    std::optional<std::int64_t> if_match;
    std::optional<search::SearchQuery> condition;  // TransactionWrite::condition, parsed
    std::string expected_id;  // TransactionWrite::id
    std::string asked_id;     // the body's id (kCreate, kUpdate)
    std::string new_id;       // a conditional update's id if nothing matches and the body has none
    search::IndexEntries index;
    std::shared_ptr<const search::ParameterSet> in_force;  // the parameters `index` was extracted with
    std::optional<search::CustomParameter> search_parameter;  // what a SearchParameter written defines
    std::string recorded;  // the errors a lenient policy let in, as an OperationOutcome
    std::shared_ptr<const validation::Profile> profile;  // PrepareProfile's
    fhir::Node definition;  // a terminology resource's content, for DefinitionsChanged
    WriteOutcome outcome;   // type and id; the rest once appended
    // Referential integrity (RequestContext::check_references): the resource's references to
    // resources of this server, each with the element that holds it.
    bool check_references = false;
    std::vector<std::pair<std::string, std::string>> references;  // (location, "Type/id")
    std::vector<std::string> patients;  // whose compartment the written or deleted resources are in (audit)
  };
  Result<PreparedWrite> PrepareWrite(const RequestContext& context, TransactionWrite write) const;
  // Appends a prepared write in the store's transaction (it may run more than once).
  Status AppendWrite(store::WriteTransaction& txn, PreparedWrite& prepared) const;
  // Appends the audit record of an appended write in its transaction.
  Status AppendWriteRecord(store::WriteTransaction& txn, audit::AuditEntry entry, const PreparedWrite& prepared) const;
  Status AppendDelete(store::WriteTransaction& txn, const std::string& type, const std::string& id,
                      std::optional<std::int64_t> if_match, WriteOutcome& outcome, std::vector<std::string>& patients) const;
  Status AppendConditionalDelete(store::WriteTransaction& txn, PreparedWrite& prepared) const;
  // A conditional update's resource: the match's id (or, with none, the body's or a new one),
  // its index extracted again when that changes its id.
  Status PickUpdated(store::WriteTransaction& txn, PreparedWrite& prepared) const;
  // Referential integrity, once every write of an operation is appended (a transaction's
  // entries may refer to each other in any order): each reference of a write that checks them
  // names a resource that exists, and no current resource refers to one a write deleted. On an
  // error `failed` is the write's index. Errors: kConflict naming the element, or the referrers
  // (up to ten).
  Status CheckReferences(store::WriteTransaction& txn, std::span<PreparedWrite> writes, std::size_t& failed) const;
  // After the commit: what the write changes in the loaded definitions.
  void WritesApplied(PreparedWrite& prepared);
  // RecordOptions::max_conditional_deletes, at most 10,000 (the matches are read in one page).
  std::size_t MaxConditionalDeletes() const { return std::min<std::size_t>(options_.max_conditional_deletes, 10000); }
  // Patch and ConditionalPatch: `id`, or the one match of `condition` (searched again on a retry).
  Result<WriteOutcome> PatchWithRetries(const RequestContext& context, std::string_view type, std::string_view id,
                                          std::vector<std::pair<std::string, std::string>> condition,
                                          const ResourcePatch& patch, std::optional<std::int64_t> if_match);
  // One write in a transaction of its own.
  Result<WriteOutcome> StoreVersion(const RequestContext& context, TransactionWrite write);

  const fhir::Definitions& definitions_;
  store::ResourceStore& store_;
  const RecordOptions options_;
  const std::unique_ptr<validation::ProfileRegistry> profiles_;
  const std::unique_ptr<terminology::LoadedValueSets> value_sets_;
  const validation::Validator validator_;
  const std::unique_ptr<SearchParameterRegistry> parameters_;
  // By target resource type: the (source type, parameter URL) of every reference search
  // parameter that can point at it, for CheckReferences's look-up of referrers.
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> referrer_params_;
};

}  // namespace ck::records
