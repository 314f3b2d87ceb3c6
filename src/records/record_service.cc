#include "records/record_service.h"

#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"
#include "fhir/operation_outcome.h"
#include "fhir/primitive_syntax.h"
#include "search/index_extractor.h"
#include "terminology/value_sets.h"
#include "util/log.h"
#include "util/random_id.h"
#include "util/text.h"
#include "validation/invariant_check.h"

namespace ck::records {
namespace {

std::string Label(std::string_view type, std::string_view id) { return std::string(type) + "/" + std::string(id); }

Status VersionMismatch(std::string_view type, std::string_view id, std::int64_t expected,
                       const std::optional<store::CurrentVersion>& current) {
  std::string found = current ? "version " + std::to_string(current->version) : "no resource";
  return Status::PreconditionFailed("If-Match expected version " + std::to_string(expected) + " of " + Label(type, id) +
                                    ", found " + found);
}

// The terminology resources whose writes change what bindings look up (StructureDefinitions
// change the profiles; PrepareProfile reads them).
bool IsDefinition(std::string_view type) { return type == "ValueSet" || type == "CodeSystem"; }

// The references of a resource to resources of this server ("Type/id" or
// "Type/id/_history/n"), each with its element's location: what referential integrity checks.
// Contained ("#id"), absolute (another server's), urn: and conditional references are not.
// `location` is the path so far, extended and restored in place (every REST write walks its
// whole resource here, so no string is built for an element that is not such a reference).
void LocalReferences(const fhir::Node& node, std::string& location, const fhir::Definitions& definitions,
                     std::vector<std::pair<std::string, std::string>>& out) {
  for (const fhir::Property& property : node.properties) {
    const bool is_reference = property.slot != nullptr && property.slot->element->path == "Reference.reference";
    for (std::size_t i = 0; i < property.values.size(); ++i) {
      const fhir::Node& value = property.values[i];
      if (value.kind != fhir::JsonKind::kObject && (!is_reference || value.kind != fhir::JsonKind::kString)) continue;
      const std::size_t restore = location.size();
      location += "." + property.name;
      if (property.is_array) location += "[" + std::to_string(i) + "]";
      if (value.kind == fhir::JsonKind::kObject) {
        LocalReferences(value, location, definitions, out);
      } else {
        std::vector<std::string_view> parts = Split(value.text, '/');
        const bool versioned = parts.size() == 4 && parts[2] == "_history";
        if ((parts.size() == 2 || versioned) && definitions.FindResourceType(parts[0]) != nullptr && !fhir::CheckPrimitive("id", parts[1])) {
          out.emplace_back(location, std::string(parts[0]) + "/" + std::string(parts[1]));
        }
      }
      location.resize(restore);
    }
  }
}

}  // namespace

RecordService::RecordService(const fhir::Definitions& definitions, store::ResourceStore& store, RecordOptions options)
    : definitions_(definitions),
      store_(store),
      options_(options),
      profiles_(std::make_unique<validation::ProfileRegistry>(definitions)),
      value_sets_(std::make_unique<terminology::LoadedValueSets>(terminology::ValueSets::R4())),
      validator_(definitions, *value_sets_, validation::InvariantCheck::R4(), *profiles_, options.strict_profiles),
      parameters_(std::make_unique<SearchParameterRegistry>(
          store, [this](std::string_view body) { return Parse(body); }, options.search_zone)) {
  for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
    if (param.type != fhir::SearchParamType::kReference) continue;
    for (const std::string& base : param.bases) {
      if (param.targets.empty()) {
        for (const fhir::TypeDefinition* type : definitions.ResourceTypes()) referrer_params_[type->name].emplace_back(base, param.url);
      }
      for (const std::string& target : param.targets) referrer_params_[target].emplace_back(base, param.url);
    }
  }
}

fhir::ReadOptions RecordService::ReadOptions() const {
  return {.max_depth = options_.max_json_depth, .bind = {.max_issues = options_.max_issues}};
}

Result<const fhir::TypeDefinition*> RecordService::ResourceType(std::string_view type) const {
  const fhir::TypeDefinition* definition = definitions_.FindResourceType(type);
  if (definition == nullptr) {
    return Err(Status::NotFound("unknown resource type '" + std::string(type) + "'")
                   .WithIssues({{IssueType::kNotSupported, "unknown resource type '" + std::string(type) + "'", ""}}));
  }
  return definition;
}

Result<fhir::Resource> RecordService::Parse(std::string_view body) const {
  return fhir::ReadResource(body, definitions_, ReadOptions());
}

// A body of another type than the URL's is refused for that, before it is validated against the
// definition of its own type (whose complaints would only confuse).
Result<fhir::Resource> RecordService::ParseAs(std::string_view body, const fhir::TypeDefinition& expected) const {
  CK_ASSIGN_OR_RETURN(fhir::Node tree, fhir::ParseJsonTree(body, ReadOptions()));
  if (std::string_view type = tree.TextOf("resourceType"); !type.empty() && type != expected.name) {
    return Err(Status::Invalid("the body is a resource of type " + std::string(type) + ", but the URL names " + expected.name)
                   .WithIssues({{IssueType::kInvalid, "resourceType does not match the URL", "resourceType"}}));
  }
  return fhir::BindResource(std::move(tree), definitions_, ReadOptions().bind);
}

namespace {

Status AuditTrailIsReadOnly() {
  return Status(StatusCode::kMethodNotAllowed, "the audit trail is written by the server alone: an AuditEvent cannot be "
                                               "created, updated, patched or deleted");
}

}  // namespace

Result<fhir::Resource> RecordService::ParseWrite(const RequestContext& context, TransactionWrite::Kind kind, std::string_view type,
                                                 std::string_view id, std::string_view body) const {
  auto refused = [&](Status status) -> Result<fhir::Resource> {
    TransactionWrite write{kind, std::string(type), std::string(id)};
    Status recorded = RecordAccess(context, WriteEntry(context, write), status);
    return Err(recorded.ok() ? std::move(status) : std::move(recorded));
  };
  if (type == "AuditEvent") return refused(AuditTrailIsReadOnly());
  auto definition = id.empty() ? ResourceType(type) : CheckAddress(type, id);
  if (!definition) return refused(std::move(definition).error());
  auto resource = ParseAs(body, **definition);
  if (!resource) return refused(std::move(resource).error());
  return resource;
}

Result<WriteOutcome> RecordService::Create(const RequestContext& context, std::string_view type, std::string_view body,
                                           std::vector<std::pair<std::string, std::string>> if_none_exist) {
  CK_ASSIGN_OR_RETURN(fhir::Resource resource, ParseWrite(context, TransactionWrite::Kind::kCreate, type, "", body));
  return CreateResource(context, std::move(resource), std::move(if_none_exist));
}

std::vector<Issue> RecordService::Validate(const fhir::Resource& resource, bool warnings, const std::vector<std::string>& profiles) const {
  return validator_.Validate(resource, {.max_issues = options_.max_issues, .warnings = warnings}, profiles);
}

Result<std::vector<Issue>> RecordService::CheckForWrite(const RequestContext& context, const fhir::Resource& resource) const {
  if (context.validation == ValidationPolicy::kStructure) return std::vector<Issue>();
  std::vector<Issue> issues = Validate(resource, context.report_warnings);
  if (!validation::HasErrors(issues) || context.validation == ValidationPolicy::kLenient) return issues;
  auto errors = std::count_if(issues.begin(), issues.end(), [](const Issue& issue) { return issue.IsError(); });
  std::string summary = errors == 1 ? issues[0].message
                                    : std::to_string(errors) + " problems in the resource, first: " + issues[0].message;
  return Err(Status::Unprocessable(std::move(summary)).WithIssues(std::move(issues)));
}

Result<std::vector<Issue>> RecordService::ValidateOnly(const RequestContext& context, std::string_view type,
                                                       std::string_view id, ValidateInput input) {
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(type));
  if (input.mode == ValidateMode::kDelete) {
    if (id.empty()) return Err(Status::Invalid("mode delete asks about one resource: POST /fhir/" + definition->name + "/[id]/$validate"));
    auto current = Read(context, type, id);
    if (current) return std::vector<Issue>{{IssueType::kInformational, Label(type, id) + " can be deleted", "", IssueSeverity::kInformation}};
    if (current.error().IsGone()) {
      return std::vector<Issue>{{IssueType::kInformational, Label(type, id) + " is deleted already; deleting it again changes nothing", "",
                                 IssueSeverity::kInformation}};
    }
    return std::vector<Issue>{{IssueType::kNotFound, current.error().message(), "", IssueSeverity::kError}};
  }
  auto findings = [](const Status& status) {
    if (!status.issues().empty()) return status.issues();
    return std::vector<Issue>{{status.DefaultIssueType(), status.message(), "", IssueSeverity::kError}};
  };
  if (std::string_view body_type = input.resource->TextOf("resourceType"); body_type != definition->name) {
    return std::vector<Issue>{{IssueType::kInvalid,
                               "the resource is of type '" + std::string(body_type.substr(0, 64)) + "', but the URL names " + definition->name,
                               "resourceType"}};
  }
  auto resource = fhir::BindResource(std::move(*input.resource), definitions_, ReadOptions().bind);
  if (!resource) return findings(resource.error());
  std::vector<Issue> issues;
  if (input.mode == ValidateMode::kUpdate && resource->id().empty()) {
    issues.push_back({IssueType::kRequired, "an update needs the resource's id", definition->name + ".id"});
  } else if (input.mode == ValidateMode::kUpdate && !id.empty() && resource->id() != id) {
    issues.push_back({IssueType::kInvalid, "the resource's id differs from the URL's '" + std::string(id) + "'", definition->name + ".id"});
  }
  std::vector<Issue> found = Validate(*resource, true, input.profiles);
  issues.insert(issues.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  if (issues.empty()) issues.push_back({IssueType::kInformational, "no problems found", "", IssueSeverity::kInformation});
  return issues;
}

Result<std::shared_ptr<const validation::Profile>> RecordService::PrepareProfile(const fhir::Resource& resource) const {
  const fhir::Node& root = resource.root();
  if (resource.type_name() != "StructureDefinition" || root.TextOf("derivation") == "specialization" || root.TextOf("kind") == "logical") {
    return nullptr;  // not a profile: stored, never validated against
  }
  return profiles_->Prepare(root);
}

Result<WriteOutcome> RecordService::CreateResource(const RequestContext& context, fhir::Resource resource,
                                                   std::vector<std::pair<std::string, std::string>> if_none_exist) {
  resource.SetId(RandomUuid());
  TransactionWrite write{TransactionWrite::Kind::kCreate, "", "", std::move(resource)};
  write.condition = std::move(if_none_exist);
  return StoreVersion(context, std::move(write));
}

Result<WriteOutcome> RecordService::Update(const RequestContext& context, std::string_view type, std::string_view id,
                                           std::string_view body, std::optional<std::int64_t> if_match) {
  CK_ASSIGN_OR_RETURN(fhir::Resource resource, ParseWrite(context, TransactionWrite::Kind::kUpdate, type, id, body));
  const std::string name = resource.type_name();
  if (resource.id().empty()) {
    return Audited<WriteOutcome>(context, WriteEntry(context, {TransactionWrite::Kind::kUpdate, name, std::string(id)}),
                                 Err(Status::Invalid("an update needs the resource's id in the body")
                                         .WithIssues({{IssueType::kRequired, "id is required for update", name + ".id"}})));
  }
  if (resource.id() != id) {
    return Audited<WriteOutcome>(
        context, WriteEntry(context, {TransactionWrite::Kind::kUpdate, name, std::string(id)}),
        Err(Status::Invalid("the body's id '" + std::string(resource.id()) + "' differs from the URL's '" + std::string(id) + "'")
                .WithIssues({{IssueType::kInvalid, "id does not match the URL", name + ".id"}})));
  }
  return UpdateResource(context, std::move(resource), if_match);
}

Result<WriteOutcome> RecordService::UpdateResource(const RequestContext& context, fhir::Resource resource,
                                                   std::optional<std::int64_t> if_match) {
  return StoreVersion(context, {TransactionWrite::Kind::kUpdate, "", "", std::move(resource), if_match});
}

Result<WriteOutcome> RecordService::StoreVersion(const RequestContext& context, TransactionWrite write) {
  audit::AuditEntry entry = WriteEntry(context, write);
  auto prepared = PrepareWrite(context, std::move(write));
  if (!prepared) return Audited<WriteOutcome>(context, std::move(entry), Err(std::move(prepared).error()));
  Status status = store_.Write([&](store::WriteTransaction& txn) -> Status {
    CK_RETURN_IF_ERROR(AppendWrite(txn, *prepared));
    std::size_t failed = 0;
    CK_RETURN_IF_ERROR(CheckReferences(txn, std::span(&*prepared, 1), failed));
    return AppendWriteRecord(txn, entry, *prepared);
  });
  if (!status.ok()) return Audited<WriteOutcome>(context, std::move(entry), Err(std::move(status)));
  WritesApplied(*prepared);
  return std::move(prepared->outcome);
}

audit::AuditEntry RecordService::EntryFor(const RequestContext& context, std::string subtype, char action) {
  audit::AuditEntry entry;
  entry.subtype = std::move(subtype);
  entry.action = action;
  entry.door = context.front_door;
  entry.user = context.user;
  entry.client = context.client;
  entry.roles = context.roles;
  entry.address = context.address;
  entry.request = context.request_id;
  entry.purpose = context.purpose;
  entry.reason = context.reason;
  return entry;
}

audit::AuditEntry RecordService::WriteEntry(const RequestContext& context, const TransactionWrite& write) {
  using Kind = TransactionWrite::Kind;
  audit::AuditEntry entry = EntryFor(context, write.kind == Kind::kCreate   ? "create"
                                              : write.kind == Kind::kDelete ? "delete"
                                              : write.patch                 ? "patch"
                                                                            : "update",
                                     write.kind == Kind::kCreate ? 'C' : write.kind == Kind::kDelete ? 'D' : 'U');
  const std::string type = write.resource ? write.resource->type_name() : write.type;
  const std::string id = write.kind == Kind::kCreate ? "" : write.resource ? std::string(write.resource->id()) : write.id;
  if (!id.empty()) entry.entities.push_back(type + "/" + id);
  if (!write.condition.empty()) entry.query = type + "?" + QueryString(write.condition);
  return entry;
}

Status RecordService::AppendWriteRecord(store::WriteTransaction& txn, audit::AuditEntry entry, const PreparedWrite& prepared) const {
  if (options_.audit_trail == nullptr) return Status::Ok();
  const WriteOutcome& outcome = prepared.outcome;
  entry.entities.clear();
  if (prepared.kind == TransactionWrite::Kind::kDelete && prepared.condition) {
    for (const std::string& id : outcome.deleted) entry.entities.push_back(outcome.type + "/" + id);
  } else if (outcome.version > 0) {
    entry.entities.push_back(outcome.type + "/" + outcome.id + "/_history/" + std::to_string(outcome.version));
  }
  entry.patients = prepared.patients;
  if (outcome.existed) {
    entry.detail = "an existing resource matched the condition; nothing was created";
    CK_ASSIGN_OR_RETURN(entry.patients, options_.audit_trail->PatientsOf(txn, outcome.type, outcome.id));
  }
  return options_.audit_trail->Append(txn, std::move(entry), {});
}

Status RecordService::RecordAccess(const RequestContext& context, audit::AuditEntry entry, const Status& outcome,
                                   std::vector<audit::Subject> subjects) const {
  if (options_.audit_trail == nullptr || !context.audited) return Status::Ok();
  entry.outcome = audit::OutcomeOf(outcome);
  if (!outcome.ok()) {
    entry.detail = outcome.message();
    subjects.clear();  // nothing was returned
  }
  if (context.audits) {
    options_.audit_trail->Record(std::move(entry), std::move(subjects), context.audits->Expect());
    return Status::Ok();
  }
  return options_.audit_trail->RecordNow(std::move(entry), std::move(subjects));
}

Result<RecordService::PreparedWrite> RecordService::PrepareWrite(const RequestContext& context, TransactionWrite write) const {
  using Kind = TransactionWrite::Kind;
  PreparedWrite prepared;
  prepared.if_match = write.if_match;
  prepared.kind = write.kind;
  prepared.expected_id = write.id;
  const std::string type = write.resource ? write.resource->type_name() : write.type;
  const Interaction interaction = write.kind == Kind::kCreate   ? Interaction::kCreate
                                  : write.kind == Kind::kUpdate ? Interaction::kUpdate
                                                                : Interaction::kDelete;
  if (type == "AuditEvent") return Err(AuditTrailIsReadOnly());
  CK_RETURN_IF_ERROR(Authorize(context, interaction, type));
  // A condition searches: it tells whether resources matching it exist.
  if (!write.condition.empty()) CK_RETURN_IF_ERROR(Authorize(context, Interaction::kSearch, type));
  const AccessLimit limit = Limit(context, interaction, type);
  if (!limit.query.empty()) {
    return Err(Status(StatusCode::kForbidden, "a scope with a query (" + limit.query.front().first + "=" +
                                                  limit.query.front().second + ") allows reads and searches only"));
  }
  const std::string& patient = limit.patient;
  if (!write.condition.empty()) {
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(type));
    search::SearchRequest request{definition->name, std::move(write.condition)};
    request.strict = true;  // a parameter ignored would match resources it was meant to exclude
    // A condition of a caller limited to a compartment matches only there.
    if (!patient.empty()) {
      request.compartment_type = "Patient";
      request.compartment_id = patient;
    }
    auto parsed = ParseSearchRequest(request);
    if (!parsed) return Err(std::move(parsed).error().WithContext(write.kind == Kind::kCreate ? "If-None-Exist" : "the condition"));
    prepared.condition = std::move(parsed->query);
    // Enough matches to tell one from several; a conditional delete's cap and one more.
    prepared.condition->count = write.kind == Kind::kDelete ? static_cast<std::uint32_t>(MaxConditionalDeletes() + 1) : 2;
  }
  prepared.check_references = context.check_references;
  if (write.kind == Kind::kDelete) {
    prepared.outcome.type = type;
    if (prepared.condition) return prepared;
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, CheckAddress(write.type, write.id));
    prepared.outcome.type = definition->name;
    prepared.outcome.id = write.id;
    CK_RETURN_IF_ERROR(CheckLimit(context, interaction, definition->name, write.id));
    return prepared;
  }
  fhir::Resource& resource = *write.resource;
  if (write.kind == Kind::kUpdate && resource.id().empty()) {
    if (!prepared.condition) {
      return Err(Status::Invalid("an update needs the resource's id")
                     .WithIssues({{IssueType::kRequired, "id is required for update", resource.type_name() + ".id"}}));
    }
    prepared.new_id = RandomUuid();  // if nothing matches
  }
  prepared.asked_id = resource.id();
  CK_ASSIGN_OR_RETURN(std::vector<Issue> issues, CheckForWrite(context, resource));
  CK_ASSIGN_OR_RETURN(prepared.profile, PrepareProfile(resource));
  if (IsDefinition(resource.type_name())) prepared.definition = resource.root();
  if (resource.type_name() == "SearchParameter") {
    CK_ASSIGN_OR_RETURN(prepared.search_parameter, parameters_->Check(resource));
    if (const std::string& why = prepared.search_parameter->not_in_force; !why.empty() && context.report_warnings) {
      issues.push_back({IssueType::kBusinessRule, "this SearchParameter is stored but not put in force: " + why, "SearchParameter.code",
                        IssueSeverity::kWarning});
    }
  }
  // The index is extracted here, on the caller's thread: the store's writer only inserts it.
  prepared.in_force = parameters_->InForce();
  CK_ASSIGN_OR_RETURN(prepared.index, prepared.in_force->extractor->Extract(resource, options_.search_zone));
  if (!patient.empty()) CK_RETURN_IF_ERROR(CheckWriteInCompartment(write.kind == Kind::kUpdate, resource, prepared.index, patient));
  std::vector<Issue> errors;
  std::copy_if(issues.begin(), issues.end(), std::back_inserter(errors), [](const Issue& issue) { return issue.IsError(); });
  prepared.recorded = errors.empty() ? std::string() : fhir::OperationOutcomeJson(errors);
  prepared.outcome.recorded_errors = errors.size();
  prepared.outcome.issues = std::move(issues);
  prepared.outcome.type = resource.type_name();
  prepared.outcome.id = resource.id();
  if (prepared.check_references) {
    std::string location = resource.type_name();
    LocalReferences(resource.root(), location, definitions_, prepared.references);
  }
  prepared.resource = std::move(resource);
  return prepared;
}

Status RecordService::AppendDelete(store::WriteTransaction& txn, const std::string& type, const std::string& id,
                                   std::optional<std::int64_t> if_match, WriteOutcome& outcome,
                                   std::vector<std::string>& patients) const {
  CK_ASSIGN_OR_RETURN(std::optional<store::CurrentVersion> current, txn.Current(type, id));
  if (!current) return Status::NotFound(Label(type, id) + " is not known");
  if (if_match && current->version != *if_match) return VersionMismatch(type, id, *if_match, current);
  outcome.version = current->version;
  if (current->deleted) return Status::Ok();
  if (options_.audit_trail != nullptr) {
    // Whose records these were, read before the delete takes the index rows.
    CK_ASSIGN_OR_RETURN(std::vector<std::string> concerned, options_.audit_trail->PatientsOf(txn, type, id));
    for (std::string& patient : concerned) {
      if (std::find(patients.begin(), patients.end(), patient) == patients.end()) patients.push_back(std::move(patient));
    }
  }
  outcome.version = current->version + 1;
  outcome.last_updated = txn.Now();
  Result<std::int64_t> appended = txn.Append({type, id, outcome.version, outcome.last_updated, store::ChangeKind::kDelete, 0, ""});
  return appended ? Status::Ok() : appended.error();
}

Status RecordService::AppendConditionalDelete(store::WriteTransaction& txn, PreparedWrite& prepared) const {
  WriteOutcome& outcome = prepared.outcome;
  CK_ASSIGN_OR_RETURN(store::SearchPage found, txn.Search(*prepared.condition));
  if (found.versions.size() > MaxConditionalDeletes()) {
    return Status::PreconditionFailed("more than " + std::to_string(MaxConditionalDeletes()) + " " + outcome.type +
                                      " match the condition; a conditional delete removes at most that many "
                                      "(max_conditional_deletes): nothing was deleted");
  }
  outcome.deleted.clear();
  for (const store::StoredVersion& match : found.versions) {
    CK_RETURN_IF_ERROR(AppendDelete(txn, outcome.type, match.id, prepared.if_match, outcome, prepared.patients));
    outcome.deleted.push_back(match.id);
  }
  outcome.id = outcome.deleted.empty() ? "" : outcome.deleted.front();
  return Status::Ok();
}

Status RecordService::PickUpdated(store::WriteTransaction& txn, PreparedWrite& prepared) const {
  const std::string& type = prepared.outcome.type;
  CK_ASSIGN_OR_RETURN(store::SearchPage found, txn.Search(*prepared.condition));
  if (found.versions.size() > 1) return Status::PreconditionFailed("more than one " + type + " matches the condition; nothing was updated");
  std::string target = found.versions.empty() ? (prepared.asked_id.empty() ? prepared.new_id : prepared.asked_id) : found.versions[0].id;
  if (!prepared.expected_id.empty() && target != prepared.expected_id) {
    return Status::Conflict("the " + type + " the condition picks changed after the transaction was planned; send it again");
  }
  if (!found.versions.empty() && !prepared.asked_id.empty() && prepared.asked_id != target) {
    return Status::Invalid("the resource's id '" + prepared.asked_id + "' is not that of the " + type + " the condition picks ('" + target + "')");
  }
  if (prepared.resource.id() != target) {
    prepared.resource.SetId(target);
    CK_ASSIGN_OR_RETURN(prepared.index, prepared.in_force->extractor->Extract(prepared.resource, options_.search_zone));
  }
  return Status::Ok();
}

Status RecordService::AppendWrite(store::WriteTransaction& txn, PreparedWrite& prepared) const {
  using Kind = TransactionWrite::Kind;
  WriteOutcome& outcome = prepared.outcome;
  outcome.existed = false;
  prepared.patients.clear();
  if (prepared.kind == Kind::kDelete) {
    if (prepared.condition) return AppendConditionalDelete(txn, prepared);
    return AppendDelete(txn, outcome.type, outcome.id, prepared.if_match, outcome, prepared.patients);
  }
  if (prepared.condition && prepared.kind == Kind::kUpdate) CK_RETURN_IF_ERROR(PickUpdated(txn, prepared));
  if (prepared.condition && prepared.kind == Kind::kCreate) {
    CK_ASSIGN_OR_RETURN(store::SearchPage found, txn.Search(*prepared.condition));
    if (found.versions.size() > 1) {
      return Status::PreconditionFailed("If-None-Exist: more than one " + outcome.type + " matches; nothing was created");
    }
    if (found.versions.size() == 1) {
      const store::StoredVersion& existing = found.versions[0];
      outcome.existed = true;
      outcome.id = existing.id;
      outcome.created = false;
      outcome.version = existing.version;
      outcome.last_updated = existing.last_updated;
      outcome.body = existing.body;
      return Status::Ok();
    }
  }
  // The operation may run again (a group rolled back): it starts from the write, not from what
  // the run before found.
  outcome.id = prepared.resource.id();
  const std::string_view type = outcome.type;
  const std::string_view id = outcome.id;
  CK_ASSIGN_OR_RETURN(std::optional<store::CurrentVersion> current, txn.Current(outcome.type, outcome.id));
  if (prepared.if_match && (!current || current->version != *prepared.if_match)) {
    return VersionMismatch(type, id, *prepared.if_match, current);
  }
  if (prepared.kind == Kind::kCreate && current) return Status::Conflict("server-assigned id already in use; retry");
  outcome.version = current ? current->version + 1 : 1;
  outcome.created = !current || current->deleted;
  outcome.last_updated = txn.Now();
  prepared.resource.SetVersionMeta(std::to_string(outcome.version), FormatInstant(outcome.last_updated));
  outcome.body = fhir::WriteJson(prepared.resource.root());
  store::ChangeKind change = current ? store::ChangeKind::kUpdate : store::ChangeKind::kCreate;
  store::StoredVersion version{outcome.type, outcome.id, outcome.version, outcome.last_updated, change, 0, outcome.body};
  version.issues = prepared.recorded;
  if (std::shared_ptr<const search::ParameterSet> now = parameters_->InForce(); now->generation != prepared.in_force->generation) {
    // The parameters in force changed since the write was prepared: a reindex job may have
    // passed this resource already, so it is indexed with the new set (on the writer thread).
    CK_ASSIGN_OR_RETURN(prepared.index, now->extractor->Extract(prepared.resource, options_.search_zone));
    prepared.in_force = std::move(now);
  }
  search::IndexEntries& index = prepared.index;
  index.dates.push_back({search::IndexExtractor::R4().last_updated(), outcome.last_updated, outcome.last_updated + 1});
  Result<std::int64_t> appended = txn.Append(version, index);
  index.dates.pop_back();  // the operation may run again, at another time
  if (options_.audit_trail != nullptr) prepared.patients = options_.audit_trail->PatientsIn(outcome.type, outcome.id, index);
  return appended ? Status::Ok() : appended.error();
}

Status RecordService::CheckReferences(store::WriteTransaction& txn, std::span<PreparedWrite> writes, std::size_t& failed) const {
  // What the operation itself writes and deletes: references among its writes need no look-up.
  std::unordered_set<std::string> written;
  std::unordered_set<std::string> deleted;
  for (const PreparedWrite& write : writes) {
    const WriteOutcome& outcome = write.outcome;
    if (write.kind != TransactionWrite::Kind::kDelete) {
      written.insert(outcome.type + "/" + outcome.id);
    } else if (write.condition) {
      for (const std::string& id : outcome.deleted) deleted.insert(outcome.type + "/" + id);
    } else {
      deleted.insert(outcome.type + "/" + outcome.id);
    }
  }
  std::unordered_map<std::string, bool> exists;  // "Type/id" looked up
  for (failed = 0; failed < writes.size(); ++failed) {
    const PreparedWrite& write = writes[failed];
    if (!write.check_references || write.outcome.existed) continue;
    for (const auto& [location, target] : write.references) {
      if (written.contains(target)) continue;
      auto known = exists.find(target);
      if (known == exists.end()) {
        const std::size_t slash = target.find('/');
        CK_ASSIGN_OR_RETURN(std::optional<store::CurrentVersion> current, txn.Current(target.substr(0, slash), target.substr(slash + 1)));
        known = exists.emplace(target, current && !current->deleted && !deleted.contains(target)).first;
      }
      if (known->second) continue;
      std::string message = location + " refers to " + target + ", which " + (deleted.contains(target) ? "this request deletes" : "does not exist on this server") +
                            " (referential integrity; the referential_integrity setting turns it off)";
      return Status::Conflict(message).WithIssues({{IssueType::kConflict, message, location}});
    }
    if (write.kind != TransactionWrite::Kind::kDelete) continue;
    std::vector<std::string> ids = write.condition ? write.outcome.deleted : std::vector<std::string>{write.outcome.id};
    const std::string& type = write.outcome.type;
    auto params = referrer_params_.find(type);
    if (params == referrer_params_.end()) continue;
    for (const std::string& id : ids) {
      constexpr std::size_t kNamed = 10;
      CK_ASSIGN_OR_RETURN(std::vector<std::string> referrers, txn.Referrers(type, id, params->second, kNamed + deleted.size() + 1));
      std::erase_if(referrers, [&](const std::string& referrer) { return deleted.contains(referrer); });
      if (referrers.empty()) continue;
      std::string names;
      for (std::size_t i = 0; i < referrers.size() && i < kNamed; ++i) names += (i == 0 ? "" : ", ") + referrers[i];
      if (referrers.size() > kNamed) names += " and more";
      std::string message = type + "/" + id + " cannot be deleted: current resources refer to it: " + names +
                            " (referential integrity; change or delete them first, or turn the referential_integrity setting off)";
      return Status::Conflict(message).WithIssues({{IssueType::kConflict, message, ""}});
    }
  }
  return Status::Ok();
}

void RecordService::WritesApplied(PreparedWrite& prepared) {
  if (prepared.outcome.existed) return;
  const bool search_parameter = prepared.outcome.type == "SearchParameter";
  if (prepared.kind == TransactionWrite::Kind::kDelete) {
    if (!prepared.condition) DefinitionsChanged(prepared.outcome.type, prepared.outcome.id, nullptr, nullptr);
    for (const std::string& id : prepared.outcome.deleted) DefinitionsChanged(prepared.outcome.type, id, nullptr, nullptr);
    if (search_parameter && !prepared.condition) parameters_->Changed(prepared.outcome.id, prepared.outcome.version, std::nullopt);
    for (const std::string& id : prepared.outcome.deleted) {
      if (search_parameter) parameters_->Changed(id, 0, std::nullopt);
    }
  } else {
    DefinitionsChanged(prepared.outcome.type, prepared.outcome.id, &prepared.definition, std::move(prepared.profile));
    if (search_parameter) parameters_->Changed(prepared.outcome.id, prepared.outcome.version, prepared.search_parameter);
  }
}

Result<std::vector<WriteOutcome>> RecordService::Transaction(const RequestContext& context, std::vector<TransactionWrite> writes) {
  audit::AuditEntry whole = EntryFor(context, "transaction", 'E');
  whole.detail = std::to_string(writes.size()) + " writes";
  auto outcomes = TransactionUnaudited(context, std::move(writes), whole);
  if (!outcomes) return Audited<std::vector<WriteOutcome>>(context, std::move(whole), std::move(outcomes));
  return outcomes;
}

Result<std::vector<WriteOutcome>> RecordService::TransactionUnaudited(const RequestContext& context, std::vector<TransactionWrite> writes,
                                                                      const audit::AuditEntry& whole) {
  std::vector<PreparedWrite> prepared;
  std::vector<std::string> labels;
  std::vector<audit::AuditEntry> entries;
  std::unordered_set<std::string> written;
  for (TransactionWrite& write : writes) {
    labels.push_back(std::move(write.label));
    entries.push_back(WriteEntry(context, write));
    auto named = [&](Status status) { return Err(std::move(status).WithContext(labels.back())); };
    auto one = PrepareWrite(context, std::move(write));
    if (!one) return named(std::move(one).error());
    if (!one->outcome.id.empty() && !written.insert(one->outcome.type + "/" + one->outcome.id).second) {
      return named(Status::Invalid(Label(one->outcome.type, one->outcome.id) + " is written by another entry too; a transaction writes a resource once"));
    }
    prepared.push_back(std::move(*one));
  }
  std::size_t failed = 0;
  Status status = store_.Write([&](store::WriteTransaction& txn) -> Status {
    for (failed = 0; failed < prepared.size(); ++failed) {
      CK_RETURN_IF_ERROR(AppendWrite(txn, prepared[failed]));
      // The Bundle's references were written for a new resource (a match found when it was
      // planned is no write at all): one that appeared since leaves them nowhere to point.
      if (prepared[failed].outcome.existed) {
        return Status::Conflict("a " + prepared[failed].outcome.type + " matching ifNoneExist was created meanwhile; send the transaction again");
      }
    }
    CK_RETURN_IF_ERROR(CheckReferences(txn, prepared, failed));
    for (std::size_t i = 0; i < prepared.size(); ++i) CK_RETURN_IF_ERROR(AppendWriteRecord(txn, entries[i], prepared[i]));
    return options_.audit_trail == nullptr ? Status::Ok() : options_.audit_trail->Append(txn, whole, {});
  });
  if (!status.ok()) return Err(failed < labels.size() ? std::move(status).WithContext(labels[failed]) : std::move(status));
  std::vector<WriteOutcome> outcomes;
  for (PreparedWrite& write : prepared) {
    WritesApplied(write);
    outcomes.push_back(std::move(write.outcome));
  }
  return outcomes;
}

Result<WriteOutcome> RecordService::Delete(const RequestContext& context, std::string_view type, std::string_view id,
                                           std::optional<std::int64_t> if_match) {
  return StoreVersion(context, {TransactionWrite::Kind::kDelete, std::string(type), std::string(id), std::nullopt, if_match});
}

Result<WriteOutcome> RecordService::ConditionalUpdate(const RequestContext& context, std::string_view type, std::string_view body,
                                                      std::vector<std::pair<std::string, std::string>> condition,
                                                      std::optional<std::int64_t> if_match) {
  CK_ASSIGN_OR_RETURN(fhir::Resource resource, ParseWrite(context, TransactionWrite::Kind::kUpdate, type, "", body));
  TransactionWrite write{TransactionWrite::Kind::kUpdate, "", "", std::move(resource), if_match};
  write.condition = std::move(condition);
  return StoreVersion(context, std::move(write));
}

Result<TransactionWrite> RecordService::PatchWrite(const RequestContext& context, std::string_view type, std::string_view id,
                                                  std::vector<std::pair<std::string, std::string>> condition,
                                                  const ResourcePatch& patch, std::optional<std::int64_t> if_match) {
  std::string target(id);
  RequestContext step = context;  // the patch is audited, not the reads it makes
  step.audited = false;
  if (target.empty()) {
    search::SearchRequest request{std::string(type), std::move(condition)};
    request.strict = true;  // a parameter ignored would widen the search
    request.default_count = 2;
    CK_ASSIGN_OR_RETURN(SearchResult found, Search(step, request));
    if (found.page.versions.empty()) return Err(Status::NotFound("no " + std::string(type) + " matches the condition"));
    if (found.page.versions.size() > 1) {
      return Err(Status::PreconditionFailed("more than one " + std::string(type) + " matches the condition; nothing was patched"));
    }
    target = found.page.versions[0].id;
  }
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, CheckAddress(type, target));
  CK_ASSIGN_OR_RETURN(store::StoredVersion current, Read(step, type, target));
  if (if_match && *if_match != current.version) {
    return Err(Status::PreconditionFailed("If-Match expected version " + std::to_string(*if_match) + " of " + Label(type, target) +
                                          ", found version " + std::to_string(current.version)));
  }
  CK_ASSIGN_OR_RETURN(std::string patched, ApplyPatch(current.body, patch, definitions_, ReadOptions()));
  auto resource = ParseAs(patched, *definition);
  if (!resource) {
    Status invalid = std::move(resource).error();
    return Err(Status::Unprocessable("the patched resource is not valid: " + invalid.message()).WithIssues(invalid.issues()));
  }
  if (resource->id() != target) return Err(Status::Unprocessable("a patch cannot change the resource's id"));
  TransactionWrite write{TransactionWrite::Kind::kUpdate, definition->name, "", std::move(*resource), current.version};
  write.patch = true;
  return write;
}

Result<WriteOutcome> RecordService::Patch(const RequestContext& context, std::string_view type, std::string_view id,
                                          const ResourcePatch& patch, std::optional<std::int64_t> if_match) {
  return PatchWithRetries(context, type, id, {}, patch, if_match);
}

Result<WriteOutcome> RecordService::ConditionalPatch(const RequestContext& context, std::string_view type,
                                                     std::vector<std::pair<std::string, std::string>> condition,
                                                     const ResourcePatch& patch, std::optional<std::int64_t> if_match) {
  return PatchWithRetries(context, type, "", std::move(condition), patch, if_match);
}

Result<WriteOutcome> RecordService::PatchWithRetries(const RequestContext& context, std::string_view type, std::string_view id,
                                                       std::vector<std::pair<std::string, std::string>> condition,
                                                       const ResourcePatch& patch, std::optional<std::int64_t> if_match) {
  constexpr int kTries = 5;
  // Failures before the write are the patch's to record; StoreVersion records the write's.
  audit::AuditEntry entry = EntryFor(context, "patch", 'U');
  if (!id.empty()) entry.entities.push_back(std::string(type) + "/" + std::string(id));
  if (!condition.empty()) entry.query = std::string(type) + "?" + QueryString(condition);
  for (int attempt = 1;; ++attempt) {
    auto write = PatchWrite(context, type, id, condition, patch, if_match);
    if (!write) return Audited<WriteOutcome>(context, std::move(entry), Err(std::move(write).error()));
    RequestContext retry = context;
    retry.audited = attempt == kTries || if_match.has_value();  // a write that will be tried again is not the outcome yet
    auto outcome = StoreVersion(retry, std::move(*write));
    if (outcome || if_match || outcome.error().code() != StatusCode::kPreconditionFailed) {
      if (!outcome && !retry.audited) return Audited<WriteOutcome>(context, std::move(entry), std::move(outcome));
      return outcome;
    }
    if (attempt == kTries) return Err(Status::Conflict("the resource kept changing while it was patched; send the patch again"));
  }
}

Result<WriteOutcome> RecordService::ConditionalDelete(const RequestContext& context, std::string_view type,
                                                      std::vector<std::pair<std::string, std::string>> condition) {
  TransactionWrite write{TransactionWrite::Kind::kDelete, std::string(type)};
  write.condition = std::move(condition);
  return StoreVersion(context, std::move(write));
}

void RecordService::DefinitionsChanged(std::string_view type, std::string_view id, const fhir::Node* resource,
                                       std::shared_ptr<const validation::Profile> profile) {
  if (type == "StructureDefinition") {
    if (profile) {
      profiles_->Put(std::move(profile), std::string(id));
    } else {
      profiles_->RemoveStored(id);  // deleted, or a new version that is no profile
    }
  } else if (type == "ValueSet" || type == "CodeSystem") {
    value_sets_->RemoveStored(type, id);
    if (resource != nullptr) value_sets_->Add(*resource, std::string(id));
  }
}

Status RecordService::LoadStoredDefinitions() {
  std::size_t loaded = 0;
  // Code systems before the value sets that draw on them, both before the profiles that bind them.
  for (const char* type : {"CodeSystem", "ValueSet", "StructureDefinition"}) {
    store::HistoryQuery query{type, ""};
    query.count = 200;
    std::unordered_set<std::string> seen;
    while (true) {
      CK_ASSIGN_OR_RETURN(store::HistoryPage page, store_.History(query));
      for (const store::StoredVersion& version : page.versions) {
        if (!seen.insert(version.id).second || version.deleted()) continue;  // newest first: the current version
        auto resource = Parse(version.body);
        if (!resource) continue;
        auto profile = PrepareProfile(*resource);
        if (!profile) {
          CK_LOG_WARN("stored StructureDefinition/{} cannot be used as a profile: {}", version.id, profile.error().message());
          continue;
        }
        DefinitionsChanged(type, version.id, &resource->root(), std::move(*profile));
        ++loaded;
      }
      if (!page.older || page.versions.empty()) break;
      query.snapshot = page.snapshot;
      query.before = page.versions.back().sequence;
    }
  }
  if (loaded > 0) CK_LOG_INFO("loaded {} stored profiles, value sets and code systems", loaded);
  return parameters_->Load();
}

Status RecordService::AllowAdministration(const RequestContext& context) {
  return context.guard == nullptr ? Status::Ok() : context.guard->AllowAdministration();
}

Status RecordService::AllowExplain(const RequestContext& context) {
  Status allowed = AllowAdministration(context);
  if (!allowed.ok()) return Status(StatusCode::kForbidden, "_explain shows how the server searches: " + allowed.message());
  return allowed;
}

Result<search::ParsedSearch> RecordService::ParseSearchRequest(search::SearchRequest request) const {
  request.in_force = parameters_->InForce();
  return search::ParseSearch(request, options_.search_zone);
}

namespace {
constexpr char kReindexKey[] = "search_reindex";
constexpr char kZoneKey[] = "search_time_zone";  // the zone the index placed dates in; absent: UTC
constexpr std::uint32_t kReindexPage = 500;
}  // namespace

Status RecordService::StartReindex() {
  return store_.Write([](store::WriteTransaction& txn) { return txn.WriteMeta(kReindexKey, ""); });
}

Result<std::optional<std::string>> RecordService::ReadState(const std::string& key) { return store_.ReadMeta(key); }

Status RecordService::WriteState(const std::string& key, const std::string& value) {
  return store_.Write([&](store::WriteTransaction& txn) { return txn.WriteMeta(key, value); });
}

Status RecordService::CompleteSearchIndex(const std::function<void(const std::string&, std::size_t)>& progress) {
  CK_RETURN_IF_ERROR(store_.CompleteIndex());  // rows a bulk load staged (one that crashed, say)
  CK_ASSIGN_OR_RETURN(std::optional<std::string> indexed_zone, store_.ReadMeta(kZoneKey));
  const std::string& zone = options_.search_zone.name();
  if (indexed_zone.value_or("UTC") != zone) {
    CK_LOG_INFO("search_time_zone changed from {} to {}: the stored resources' dates are placed again",
                indexed_zone.value_or("UTC"), zone);
    CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) -> Status {
      CK_RETURN_IF_ERROR(txn.WriteMeta(kZoneKey, zone));
      return txn.WriteMeta(kReindexKey, "");
    }));
  }
  CK_ASSIGN_OR_RETURN(std::optional<std::string> resume, store_.ReadMeta(kReindexKey));
  if (!resume) return Status::Ok();
  const std::size_t tab = resume->find('\t');
  const std::string resume_type = resume->substr(0, tab);
  const std::string resume_after = tab == std::string::npos ? "" : resume->substr(tab + 1);
  std::vector<std::string> types;
  for (const fhir::TypeDefinition* type : definitions_.ResourceTypes()) {
    if (!type->is_abstract && type->name >= resume_type) types.push_back(type->name);
  }
  std::sort(types.begin(), types.end());  // the order the resume point assumes
  const std::shared_ptr<const search::ParameterSet> in_force = parameters_->InForce();
  const search::IndexExtractor& extractor = *in_force->extractor;
  for (const std::string& type : types) {
    std::string after = type == resume_type ? resume_after : "";
    std::size_t done = 0;
    while (true) {
      CK_ASSIGN_OR_RETURN(std::vector<store::StoredVersion> page, store_.ScanCurrent(type, after, kReindexPage));
      if (page.empty()) break;
      std::vector<search::IndexEntries> indexes(page.size());
      for (std::size_t i = 0; i < page.size(); ++i) {
        auto resource = Parse(page[i].body);
        if (!resource) {  // stored before a structure rule existed: only its time is known for sure
          CK_LOG_WARN("{}/{} no longer reads; indexed by _lastUpdated only: {}", type, page[i].id, resource.error().message());
        } else {
          CK_ASSIGN_OR_RETURN(indexes[i], extractor.Extract(*resource, options_.search_zone));
        }
        indexes[i].dates.push_back({extractor.last_updated(), page[i].last_updated, page[i].last_updated + 1});
      }
      after = page.back().id;
      CK_RETURN_IF_ERROR(store_.Write([&](store::WriteTransaction& txn) -> Status {
        for (std::size_t i = 0; i < page.size(); ++i) {
          if (auto replaced = txn.ReplaceIndex(type, page[i].id, page[i].sequence, indexes[i]); !replaced) return replaced.error();
        }
        return txn.WriteMeta(kReindexKey, type + "\t" + after);
      }));
      done += page.size();
      if (progress) progress(type, done);
    }
  }
  return store_.Write([](store::WriteTransaction& txn) { return txn.WriteMeta(kReindexKey, std::nullopt); });
}

Result<const fhir::TypeDefinition*> RecordService::CheckAddress(std::string_view type, std::string_view id) const {
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(type));
  if (auto problem = fhir::CheckPrimitive("id", id)) {
    return Err(Status::Invalid("bad id in the URL: " + *problem)
                   .WithIssues({{IssueType::kValue, "bad id in the URL: " + *problem, ""}}));
  }
  return definition;
}

namespace {
Result<store::StoredVersion> CurrentOrError(std::optional<store::StoredVersion> current, std::string_view type,
                                            std::string_view id) {
  if (!current) return Err(Status::NotFound(Label(type, id) + " is not known"));
  if (current->deleted()) return Err(Status::Gone(Label(type, id) + " was deleted"));
  return std::move(*current);
}
}  // namespace

Status RecordService::Authorize(const RequestContext& context, Interaction interaction, std::string_view type) {
  return context.guard ? context.guard->Allow(interaction, type) : Status::Ok();
}

AccessLimit RecordService::Limit(const RequestContext& context, Interaction interaction, std::string_view type) {
  return context.guard ? context.guard->Limit(interaction, type) : AccessLimit();
}

Result<bool> RecordService::InLimit(std::string_view type, std::string_view id, const AccessLimit& limit) const {
  if (limit.empty()) return true;
  if (limit.query.empty() && type == "Patient" && id == limit.patient) return true;
  if (!limit.patient.empty() && type != "Patient" && definitions_.CompartmentParameters("Patient", type) == nullptr) return false;
  search::SearchRequest request{std::string(type), {{"_id", std::string(id)}}};
  request.parameters.insert(request.parameters.end(), limit.query.begin(), limit.query.end());
  request.strict = true;  // a query parameter the type does not have matches nothing
  if (!limit.patient.empty()) {
    request.compartment_type = "Patient";
    request.compartment_id = limit.patient;
  }
  auto parsed = ParseSearchRequest(request);
  if (!parsed) return false;
  parsed->query.count = 1;
  CK_ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(parsed->query));
  return !page.versions.empty();
}

Status RecordService::CheckWriteInCompartment(bool update, const fhir::Resource& resource, const search::IndexEntries& index,
                                              const std::string& patient) const {
  const std::string& type = resource.type_name();
  const std::vector<std::string>* codes = definitions_.CompartmentParameters("Patient", type);
  bool inside = type == "Patient" && resource.id() == patient;
  for (const search::ReferenceEntry& reference : index.references) {
    if (inside || codes == nullptr) break;
    inside = reference.type == "Patient" && reference.id == patient && reference.url.empty() &&
             std::find(codes->begin(), codes->end(), reference.param->code) != codes->end();
  }
  if (!inside) {
    return Status(StatusCode::kForbidden, "this token writes only resources in its patient's compartment: the " + type +
                                              " must refer to Patient/" + patient);
  }
  // An update must not take over a resource of another patient's compartment either.
  if (update && !resource.id().empty()) {
    CK_ASSIGN_OR_RETURN(std::optional<store::StoredVersion> current, store_.ReadCurrent(type, std::string(resource.id())));
    if (current && !current->deleted()) {
      CK_ASSIGN_OR_RETURN(bool was_inside, InLimit(type, resource.id(), AccessLimit{patient, {}}));
      if (!was_inside) return Status::NotFound(Label(type, resource.id()) + " is not known");
    }
  }
  return Status::Ok();
}

Status RecordService::CheckLimit(const RequestContext& context, Interaction interaction, std::string_view type,
                                 std::string_view id) const {
  const AccessLimit limit = Limit(context, interaction, type);
  if (limit.empty()) return Status::Ok();
  CK_ASSIGN_OR_RETURN(bool inside, InLimit(type, id, limit));
  // Outside the limit reads as absent: the caller learns nothing of what exists there.
  return inside ? Status::Ok() : Status::NotFound(Label(type, id) + " is not known");
}

Result<search::SearchRequest> RecordService::LimitSearch(const RequestContext& context, search::SearchRequest request) const {
  const AccessLimit limit = Limit(context, Interaction::kSearch, request.type);
  // The scope query's parameters are ANDed with the caller's own.
  request.parameters.insert(request.parameters.end(), limit.query.begin(), limit.query.end());
  const std::string& patient = limit.patient;
  if (patient.empty()) return request;
  if (request.type != "Patient" && definitions_.CompartmentParameters("Patient", request.type) == nullptr) {
    return Err(Status(StatusCode::kForbidden, "this token reaches one patient's records only, and " + request.type +
                                                  " resources are never in a patient's compartment"));
  }
  if (!request.compartment_type.empty() && (request.compartment_type != "Patient" || request.compartment_id != patient)) {
    return Err(Status(StatusCode::kForbidden, "this token reaches the compartment of its own patient only"));
  }
  request.compartment_type = "Patient";
  request.compartment_id = patient;
  return request;
}

namespace {

std::vector<audit::Subject> Subjects(const store::SearchPage& page) {
  std::vector<audit::Subject> subjects;
  for (const std::vector<store::StoredVersion>* list : {&page.versions, &page.included}) {
    for (const store::StoredVersion& version : *list) subjects.push_back(audit::Subject::Of(version));
  }
  return subjects;
}

// The resource a read returned, if any.
std::vector<audit::Subject> SubjectOf(const Result<store::StoredVersion>& read) {
  if (read) return {audit::Subject::Of(*read)};
  return {};
}

std::string VersionLabel(std::string_view type, std::string_view id, const Result<store::StoredVersion>& read) {
  std::string label = std::string(type) + "/" + std::string(id);
  if (read) label += "/_history/" + std::to_string(read->version);
  return label;
}

}  // namespace

Result<store::StoredVersion> RecordService::Read(const RequestContext& context, std::string_view type, std::string_view id) {
  auto read = ReadUnaudited(context, type, id);
  audit::AuditEntry entry = EntryFor(context, "read", 'R');
  entry.entities.push_back(VersionLabel(type, id, read));
  std::vector<audit::Subject> subjects = SubjectOf(read);
  return Audited(context, std::move(entry), std::move(read), std::move(subjects));
}

Result<store::StoredVersion> RecordService::ReadUnaudited(const RequestContext& context, std::string_view type, std::string_view id) {
  CK_RETURN_IF_ERROR(Authorize(context, Interaction::kRead, type));
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, CheckAddress(type, id));
  CK_RETURN_IF_ERROR(CheckLimit(context, Interaction::kRead, definition->name, id));
  CK_ASSIGN_OR_RETURN(std::optional<store::StoredVersion> current, store_.ReadCurrent(definition->name, std::string(id)));
  return CurrentOrError(std::move(current), type, id);
}

std::optional<Result<store::StoredVersion>> RecordService::ReadCached(const RequestContext& context, std::string_view type,
                                                                      std::string_view id) {
  std::optional<Result<store::StoredVersion>> answer = [&]() -> std::optional<Result<store::StoredVersion>> {
    if (Status allowed = Authorize(context, Interaction::kRead, type); !allowed.ok()) return Result<store::StoredVersion>(Err(allowed));
    auto definition = CheckAddress(type, id);
    if (!definition) return Result<store::StoredVersion>(Err(std::move(definition).error()));
    // A read limited to a compartment asks the index: not here, on an I/O thread.
    if (!Limit(context, Interaction::kRead, (*definition)->name).empty()) return std::nullopt;
    std::optional<store::StoredVersion> cached = store_.ReadCurrentCached((*definition)->name, std::string(id));
    if (!cached) return std::nullopt;
    return CurrentOrError(std::move(cached), type, id);
  }();
  if (!answer) return std::nullopt;
  audit::AuditEntry entry = EntryFor(context, "read", 'R');
  entry.entities.push_back(VersionLabel(type, id, *answer));
  std::vector<audit::Subject> subjects = SubjectOf(*answer);
  return Audited(context, std::move(entry), std::move(*answer), std::move(subjects));
}

Result<store::StoredVersion> RecordService::ReadVersion(const RequestContext& context, std::string_view type,
                                                        std::string_view id, std::int64_t version) {
  auto read = ReadVersionUnaudited(context, type, id, version);
  audit::AuditEntry entry = EntryFor(context, "vread", 'R');
  entry.entities.push_back(std::string(type) + "/" + std::string(id) + "/_history/" + std::to_string(version));
  std::vector<audit::Subject> subjects = SubjectOf(read);
  return Audited(context, std::move(entry), std::move(read), std::move(subjects));
}

Result<store::StoredVersion> RecordService::ReadVersionUnaudited(const RequestContext& context, std::string_view type,
                                                                 std::string_view id, std::int64_t version) {
  CK_RETURN_IF_ERROR(Authorize(context, Interaction::kRead, type));
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, CheckAddress(type, id));
  CK_RETURN_IF_ERROR(CheckLimit(context, Interaction::kRead, definition->name, id));
  CK_ASSIGN_OR_RETURN(std::optional<store::StoredVersion> found,
                      store_.ReadVersion(definition->name, std::string(id), version));
  if (!found) return Err(Status::NotFound(Label(type, id) + " has no version " + std::to_string(version)));
  if (found->deleted()) return Err(Status::Gone(Label(type, id) + " version " + std::to_string(version) + " is a delete"));
  return std::move(*found);
}

void RecordService::AddParts(std::vector<SearchPart>& parts, const std::string& key, const std::string& contained_key,
                             const search::SearchQuery& query) {
  using Mode = search::ContainedMode;
  if (query.contained != Mode::kBoth) {
    parts.push_back({query.contained == Mode::kOnly ? contained_key : key, query});
    return;
  }
  for (Mode mode : {Mode::kNo, Mode::kOnly}) {
    parts.push_back({mode == Mode::kNo ? key : contained_key, query});
    parts.back().query.contained = mode;
  }
}

Result<RecordService::SearchResult> RecordService::Search(const RequestContext& context, const search::SearchRequest& asked) {
  auto found = SearchUnaudited(context, asked);
  audit::AuditEntry entry = EntryFor(context, "search-type", 'E');
  entry.query = asked.type + "?" + QueryString(asked.parameters);
  if (!asked.compartment_type.empty()) {
    entry.query = asked.compartment_type + "/" + asked.compartment_id + "/" + entry.query;
  }
  std::vector<audit::Subject> subjects = found ? Subjects(found->page) : std::vector<audit::Subject>();
  return Audited(context, std::move(entry), std::move(found), std::move(subjects));
}

Result<RecordService::SearchResult> RecordService::SearchUnaudited(const RequestContext& context, const search::SearchRequest& asked) {
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(asked.type));
  CK_RETURN_IF_ERROR(Authorize(context, Interaction::kSearch, definition->name));
  search::SearchRequest limited = asked;
  limited.type = definition->name;
  CK_ASSIGN_OR_RETURN(limited, LimitSearch(context, std::move(limited)));
  const search::SearchRequest& request = limited;
  if (!request.compartment_type.empty()) {
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* compartment, CheckAddress(request.compartment_type, request.compartment_id));
    (void)compartment;
  }
  SearchResult result;
  CK_ASSIGN_OR_RETURN(result.parsed, ParseSearchRequest(request));
  if (result.parsed.query.explain) CK_RETURN_IF_ERROR(AllowExplain(context));
  if (result.parsed.query.contained != search::ContainedMode::kBoth) {
    CK_ASSIGN_OR_RETURN(result.page, store_.Search(result.parsed.query));
  } else {
    std::vector<SearchPart> parts;
    AddParts(parts, "", "contained", result.parsed.query);
    const std::string cursor = result.parsed.query.cursor;
    CK_ASSIGN_OR_RETURN(result, SearchParts(std::move(parts), cursor, std::move(result)));
  }
  CK_RETURN_IF_ERROR(DropUnreadableIncludes(context, result.page));
  return result;
}

Status RecordService::DropUnreadableIncludes(const RequestContext& context, store::SearchPage& page) const {
  if (!context.guard) return Status::Ok();
  std::vector<store::StoredVersion> kept;
  for (store::StoredVersion& version : page.included) {
    if (!Authorize(context, Interaction::kRead, version.type).ok()) continue;
    CK_ASSIGN_OR_RETURN(bool inside, InLimit(version.type, version.id, Limit(context, Interaction::kRead, version.type)));
    if (!inside) continue;
    kept.push_back(std::move(version));
  }
  page.included = std::move(kept);
  return Status::Ok();
}

Result<RecordService::SearchResult> RecordService::SearchSystem(const RequestContext& context, const search::SearchRequest& request) {
  auto found = SearchSystemUnaudited(context, request);
  audit::AuditEntry entry = EntryFor(context, "search-system", 'E');
  entry.query = "?" + QueryString(request.parameters);
  std::vector<audit::Subject> subjects = found ? Subjects(found->page) : std::vector<audit::Subject>();
  return Audited(context, std::move(entry), std::move(found), std::move(subjects));
}

Result<RecordService::SearchResult> RecordService::SearchSystemUnaudited(const RequestContext& context,
                                                                         const search::SearchRequest& request) {
  std::vector<std::string> types;
  std::string cursor;
  search::SearchRequest per_type = request;
  per_type.parameters.clear();
  for (const auto& [name, value] : request.parameters) {
    if (name == "_type") {
      for (std::string_view type : Split(value, ',')) {
        CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(type));
        CK_RETURN_IF_ERROR(Authorize(context, Interaction::kSearch, definition->name));
        if (auto limited = LimitSearch(context, {definition->name}); !limited) return Err(std::move(limited).error());
        types.push_back(definition->name);
      }
    } else if (name == "_cursor") {
      cursor = value;
    } else {
      per_type.parameters.emplace_back(name, value);
    }
  }
  const bool named = !types.empty();
  if (!named) {  // every type the caller may search
    for (const fhir::TypeDefinition* type : definitions_.ResourceTypes()) {
      if (Authorize(context, Interaction::kSearch, type->name).ok() && LimitSearch(context, {type->name})) types.push_back(type->name);
    }
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  SearchResult result;
  std::vector<SearchPart> parts;
  for (const std::string& type : types) {
    per_type.type = type;
    CK_ASSIGN_OR_RETURN(search::SearchRequest limited, LimitSearch(context, per_type));
    CK_ASSIGN_OR_RETURN(search::ParsedSearch parsed, ParseSearchRequest(limited));
    if (parsed.query.explain) CK_RETURN_IF_ERROR(AllowExplain(context));
    if (!parsed.ignored.empty()) {
      if (named) return Err(Status::Invalid(parsed.ignored[0].message + " (searching " + type + ")"));
      continue;  // a parameter this type does not have: none of its resources can match
    }
    if (parts.empty()) {
      result.parsed = parsed;  // the links and the page size
      result.parsed.link_parameters.clear();
      for (const auto& parameter : request.parameters) {
        if (search::KeptInLinks(parameter.first)) result.parsed.link_parameters.push_back(parameter);
      }
    }
    AddParts(parts, type, type + ".contained", parsed.query);
  }
  CK_ASSIGN_OR_RETURN(result, SearchParts(std::move(parts), cursor, std::move(result)));
  CK_RETURN_IF_ERROR(DropUnreadableIncludes(context, result.page));
  return result;
}

Result<RecordService::SearchResult> RecordService::SearchParts(std::vector<SearchPart> parts, const std::string& cursor,
                                                               SearchResult result) {
  if (!parts.empty() && !parts.front().query.sort.empty()) {  // sorted: the store merges the parts
    std::vector<search::SearchQuery> queries;
    for (SearchPart& part : parts) queries.push_back(std::move(part.query));
    CK_ASSIGN_OR_RETURN(result.page, store_.SearchMerged(queries, cursor));
  } else {
    CK_ASSIGN_OR_RETURN(result.page, PageParts(std::move(parts), cursor, result.parsed.query));
  }
  // Each resource once: not included when it is a match, nor included twice.
  std::unordered_set<std::int64_t> seen;
  for (const store::StoredVersion& version : result.page.versions) seen.insert(version.sequence);
  std::erase_if(result.page.included, [&](const store::StoredVersion& version) { return !seen.insert(version.sequence).second; });
  return result;
}

Result<store::SearchPage> RecordService::PageParts(std::vector<SearchPart> parts, const std::string& cursor,
                                                   const search::SearchQuery& first) {
  store::SearchPage result;
  std::size_t start = 0;  // the part the page starts in
  const std::size_t slash = cursor.find('/');
  if (!cursor.empty()) {
    const std::string key = cursor.substr(0, slash);
    auto at = std::find_if(parts.begin(), parts.end(), [&](const SearchPart& part) { return part.key == key; });
    if (at == parts.end() || slash == std::string::npos) return Err(Status::Invalid("_cursor: not a position of this search"));
    start = static_cast<std::size_t>(at - parts.begin());
  }
  const std::uint32_t count = first.count;
  const bool want_total = first.want_total;
  if (want_total) result.total = 0;
  auto add_positions = [&](const store::SearchPage& page) {
    std::vector<std::optional<std::size_t>>& positions = result.contained_positions;
    if (positions.empty() && page.contained_positions.empty()) return;
    positions.resize(result.versions.size());
    if (page.contained_positions.empty()) {
      positions.resize(positions.size() + page.versions.size());
    } else {
      positions.insert(positions.end(), page.contained_positions.begin(), page.contained_positions.end());
    }
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    search::SearchQuery& query = parts[i].query;
    if (i < start) {  // paged through already: only counted
      if (!want_total) continue;
      query.total_only = true;
      CK_ASSIGN_OR_RETURN(store::SearchPage counted, store_.Search(query));
      if (counted.total) *result.total += *counted.total;
      continue;
    }
    query.cursor = i == start && slash != std::string::npos ? cursor.substr(slash + 1) : "";
    if (query.cursor.starts_with('b')) return Err(Status::Invalid("_cursor: a search in parts pages forward only"));
    const std::size_t room = count - std::min<std::size_t>(count, result.versions.size());
    query.count = static_cast<std::uint32_t>(room);
    query.total_only = query.total_only || room == 0;
    if (room == 0 && !want_total) {
      // The page is full: the next one starts with this part (it may have nothing).
      if (!result.more) result.next_cursor = parts[i].key + "/";
      result.more = true;
      break;
    }
    CK_ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(query));
    if (page.total && result.total) *result.total += *page.total;
    if (room == 0 && page.total && *page.total > 0 && !result.more) {  // counted only: it starts the next page
      result.more = true;
      result.next_cursor = parts[i].key + "/";
    }
    add_positions(page);
    for (const std::string& line : page.explanation) result.explanation.push_back(parts[i].key + ": " + line);
    result.versions.insert(result.versions.end(), page.versions.begin(), page.versions.end());
    result.included.insert(result.included.end(), page.included.begin(), page.included.end());
    result.included_capped = result.included_capped || page.included_capped;
    if (page.more && !result.more) {
      result.more = true;
      result.next_cursor = parts[i].key + "/" + page.next_cursor;
    }
  }
  return result;
}

Result<store::HistoryPage> RecordService::History(const RequestContext& context, const store::HistoryQuery& query) {
  auto page = HistoryUnaudited(context, query);
  audit::AuditEntry entry = EntryFor(context, query.id.empty() ? query.type.empty() ? "history-system" : "history-type" : "history-instance", 'R');
  if (!query.id.empty()) entry.entities.push_back(query.type + "/" + query.id);
  std::vector<audit::Subject> subjects;
  if (page) {
    for (const store::StoredVersion& version : page->versions) {
      if (!version.deleted()) subjects.push_back(audit::Subject::Of(version));
    }
  }
  return Audited(context, std::move(entry), std::move(page), std::move(subjects));
}

Result<store::HistoryPage> RecordService::HistoryUnaudited(const RequestContext& context, const store::HistoryQuery& query) {
  // System-wide history shows every type.
  CK_RETURN_IF_ERROR(Authorize(context, Interaction::kRead, query.type.empty() ? std::string_view("*") : std::string_view(query.type)));
  if (!query.id.empty()) {
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, CheckAddress(query.type, query.id));
    CK_RETURN_IF_ERROR(CheckLimit(context, Interaction::kRead, definition->name, query.id));
  } else if (!Limit(context, Interaction::kRead, query.type.empty() ? std::string_view("*") : std::string_view(query.type)).empty()) {
    return Err(Status(StatusCode::kForbidden, "this token reaches some resources of the type only: ask for the history of one resource"));
  } else if (!query.type.empty()) {
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(query.type));
    (void)definition;
  }
  return store_.History(query);
}

}  // namespace ck::records
