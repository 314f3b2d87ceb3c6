// RecordService::Everything: $everything as a search in parts (RecordService::PageParts), one
// part per type: the compartment's members of each type (a compartment search), then, for each
// type outside the compartment, the resources the members refer to (CompartmentFilter's
// referenced_by). A resource is in one part only, so each comes once across the pages. With an
// id, the store's Reach first leaves out the parts that cannot have a match.

#include <algorithm>
#include <functional>
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
  std::vector<std::string> subjects;
  if (found) {
    for (const store::StoredVersion& version : found->page.versions) subjects.push_back(version.type + "/" + version.id);
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
  std::vector<SearchPart> outside;
  SearchResult result;
  std::vector<SearchPart> parts;
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
    CK_ASSIGN_OR_RETURN(search::ParsedSearch parsed, ParseSearchRequest(*limited));
    if (member) members.push_back({type, parsed.query.compartment->params});
    if (!wanted.empty() && !wanted.contains(type)) continue;
    if (parts.empty() && outside.empty()) result.parsed = parsed;  // the page size
    if (member) {
      parts.push_back({type, std::move(parsed.query)});
    } else {
      parsed.query.compartment = search::CompartmentFilter{kind, id};
      outside.push_back({type, std::move(parsed.query)});
    }
  }
  if (!id.empty()) {  // only the types that can have a match (a few dozen of some 145)
    search::CompartmentFilter compartment{kind, id};
    compartment.referenced_by = std::move(members);
    CK_ASSIGN_OR_RETURN(store::CompartmentReach reach, store_.Reach(compartment));
    members = std::move(reach.members);
    // The part a cursor names stays, so that a page after a change still finds its place.
    const std::string paged = cursor.substr(0, cursor.find('/'));
    auto in = [&paged](const std::string& type, const auto& types, auto name) {
      return type == paged || std::any_of(types.begin(), types.end(), [&](const auto& item) { return name(item) == type; });
    };
    std::erase_if(parts, [&](const SearchPart& part) {
      return part.key != kind && !in(part.key, members, [](const auto& of_type) { return of_type.type; });
    });
    std::erase_if(outside, [&](const SearchPart& part) { return !in(part.key, reach.referenced, std::identity()); });
  }
  for (SearchPart& part : outside) {
    part.query.compartment->referenced_by = members;
    parts.push_back(std::move(part));
  }
  result.parsed.link_parameters.clear();
  for (const auto& parameter : asked.parameters) {
    if (search::KeptInLinks(parameter.first)) result.parsed.link_parameters.push_back(parameter);
  }
  return SearchParts(std::move(parts), cursor, std::move(result));
}

}  // namespace ck::records
