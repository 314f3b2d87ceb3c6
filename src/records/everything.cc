// RecordService::Everything: $everything as a search in parts (RecordService::PageParts), one
// part per type: the compartment's members of each type (a compartment search), then, for each
// type outside the compartment, the resources the members refer to (CompartmentFilter's
// referenced_by). A resource is in one part only, so each comes once across the pages. With an
// id, the store's Reach first finds which parts can have a match and the ids of the resources
// outside the compartment that the members refer to (searched by _id).

#include <algorithm>
#include <map>
#include <set>

#include "fhir/primitive_syntax.h"
#include "records/record_service.h"
#include "util/text.h"

namespace ck::records {

Result<RecordService::SearchResult> RecordService::Everything(const RequestContext& context, const search::SearchRequest& asked) {
  auto found = EverythingUnaudited(context, asked);
  audit::AuditEntry entry = EntryFor(context, "operation", 'E');
  entry.detail = asked.type + (asked.compartment_id.empty() ? "" : "/" + asked.compartment_id) + "/$everything";
  entry.query = QueryString(asked.parameters);
  if (!asked.compartment_id.empty()) entry.entities.push_back(asked.type + "/" + asked.compartment_id);
  std::vector<audit::Subject> subjects;
  if (found) {
    for (const store::StoredVersion& version : found->page.versions) subjects.push_back(audit::Subject::Of(version));
  }
  return Audited(context, std::move(entry), std::move(found), std::move(subjects));
}

Result<RecordService::SearchResult> RecordService::EverythingUnaudited(const RequestContext& context,
                                                                       const search::SearchRequest& asked) {
  CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* definition, ResourceType(asked.type));
  const std::string& kind = definition->name;
  if (kind != "Patient" && kind != "Encounter") {
    return Err(Status::NotFound("$everything is an operation on Patient and Encounter, not on " + kind));
  }
  std::string id = asked.compartment_id;
  if (const std::string patient = Limit(context, Interaction::kSearch, "Patient").patient; !patient.empty()) {
    if (kind != "Patient") {
      return Err(Status(StatusCode::kForbidden, "this token reaches one patient's records: ask for Patient/" + patient + "/$everything"));
    }
    if (id.empty()) id = patient;  // every patient the caller may see: its own
    if (id != patient) return Err(Status(StatusCode::kForbidden, "this token reaches the compartment of its own patient only"));
  }
  if (id.empty() && kind != "Patient") return Err(Status::Invalid("$everything on Encounter needs an id: Encounter/[id]/$everything"));
  if (!id.empty()) {
    if (auto read = ReadUnaudited(context, kind, id); !read) return Err(std::move(read).error());
  }

  std::vector<std::pair<std::string, std::string>> per_type;  // each part's search parameters
  std::set<std::string> wanted;                                // _type
  std::string cursor;
  for (const auto& [name, value] : asked.parameters) {
    if (name == "_since") {
      if (std::optional<std::string> problem = fhir::CheckPrimitive("instant", value)) {
        return Err(Status::Invalid("_since must be an instant (such as 2024-01-31T08:00:00Z): " + *problem));
      }
      per_type.emplace_back("_lastUpdated", "ge" + value);
    } else if (name == "_type") {
      for (std::string_view type : Split(value, ',')) {
        CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* named, ResourceType(type));
        wanted.insert(named->name);
      }
    } else if (name == "_count") {
      per_type.emplace_back(name, value);
    } else if (name == "_cursor") {
      cursor = value;
    } else if (name != "_format" && name != "_pretty") {
      return Err(Status::Invalid("$everything takes _since, _type and _count; '" + name + "' is not supported"));
    }
  }

  // The compartment's own type first, then every other type in name order.
  std::vector<std::string> types{kind};
  for (const fhir::TypeDefinition* type : definitions_.ResourceTypes()) {
    if (type->name != kind) types.push_back(type->name);
  }
  std::vector<search::CompartmentFilter::Members> members;
  std::vector<search::SearchRequest> outside;  // types outside the compartment: what the members refer to
  std::vector<SearchPart> parts;
  SearchResult result;
  auto add_part = [&](const std::string& type, search::ParsedSearch parsed) {
    if (parts.empty()) result.parsed = parsed;  // the page size
    parts.push_back({type, std::move(parsed.query)});
  };
  for (const std::string& type : types) {
    if (!Authorize(context, Interaction::kSearch, type).ok()) continue;
    const bool member = type == kind || definitions_.CompartmentParameters(kind, type) != nullptr;
    search::SearchRequest request{type, per_type};
    request.base_url = asked.base_url;
    request.default_count = asked.default_count;
    request.max_count = asked.max_count;
    if (member) {
      request.compartment_type = kind;
      request.compartment_id = id;
    }
    auto limited = LimitSearch(context, std::move(request));
    if (!limited) continue;  // a type outside the one patient's compartment a caller may see
    const bool asked_for = wanted.empty() || wanted.contains(type);
    if (!member) {
      if (asked_for) outside.push_back(std::move(*limited));
      continue;
    }
    CK_ASSIGN_OR_RETURN(search::ParsedSearch parsed, ParseSearchRequest(*limited));
    members.push_back({type, parsed.query.compartment->params});
    if (asked_for) add_part(type, std::move(parsed));
  }
  // With an id, only the types that can have a match (of some 145), and the
  // resources outside the compartment by their ids. The part a cursor names stays, so that a
  // page after a change still finds its place.
  const std::string paged = cursor.substr(0, cursor.find('/'));
  std::map<std::string, std::vector<std::string>> referenced;
  if (!id.empty()) {
    search::CompartmentFilter compartment{kind, id};
    compartment.referenced_by = std::move(members);
    CK_ASSIGN_OR_RETURN(store::CompartmentReach reach, store_.Reach(compartment));
    members = std::move(reach.members);
    referenced = std::move(reach.referenced);
    std::erase_if(parts, [&](const SearchPart& part) {
      return part.key != kind && part.key != paged &&
             std::none_of(members.begin(), members.end(), [&](const auto& of_type) { return of_type.type == part.key; });
    });
  }
  for (search::SearchRequest& request : outside) {
    const auto ids = referenced.find(request.type);
    const bool by_id = ids != referenced.end();
    if (!id.empty() && !by_id && request.type != paged) continue;  // nothing of the type is referred to
    if (by_id) {
      std::string any_of;
      for (const std::string& one : ids->second) any_of += (any_of.empty() ? "" : ",") + one;
      request.parameters.emplace_back("_id", std::move(any_of));
    }
    CK_ASSIGN_OR_RETURN(search::ParsedSearch parsed, ParseSearchRequest(request));
    if (!by_id) {
      parsed.query.compartment = search::CompartmentFilter{kind, id};
      parsed.query.compartment->referenced_by = members;
    }
    add_part(request.type, std::move(parsed));
  }
  result.parsed.link_parameters.clear();
  for (const auto& parameter : asked.parameters) {
    if (search::KeptInLinks(parameter.first)) result.parsed.link_parameters.push_back(parameter);
  }
  return SearchParts(std::move(parts), cursor, std::move(result));
}

}  // namespace ck::records
