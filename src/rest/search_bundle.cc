#include "rest/search_bundle.h"

#include <optional>

#include "fhir/json_reader.h"
#include "fhir/json_writer.h"
#include "fhir/operation_outcome.h"
#include "rest/history_bundle.h"
#include "rest/http_message.h"
#include "util/random_id.h"

namespace ck::rest {
namespace {

std::string Link(const std::string& type_url, const search::ParsedSearch& parsed, const std::string& cursor) {
  std::string link = type_url + "?";
  for (const auto& [name, value] : parsed.link_parameters) link += PercentEncode(name) + "=" + PercentEncode(value) + "&";
  link += "_count=" + std::to_string(parsed.query.count);
  if (!cursor.empty()) link += "&_cursor=" + PercentEncode(cursor);
  return link;
}

// A contained resource answered alone (_containedType=contained), cut from its container: its
// JSON, and its fullUrl, the container's with the contained id as fragment. nullopt when the
// container no longer reads so (then the container is answered).
std::optional<std::pair<std::string, std::string>> ContainedAlone(const store::StoredVersion& container, std::size_t position,
                                                                  const std::string& container_url) {
  auto tree = fhir::ParseJsonTree(container.body);
  if (!tree) return std::nullopt;
  const fhir::Property* contained = tree->Find("contained");
  if (contained == nullptr || position >= contained->values.size()) return std::nullopt;
  const fhir::Node& resource = contained->values[position];
  return std::pair(fhir::WriteJson(resource), container_url + "#" + std::string(resource.TextOf("id")));
}

}  // namespace

std::string SearchBundleJson(const store::SearchPage& page, const search::ParsedSearch& parsed, const std::string& base_url,
                             const std::string& type_url) {
  std::string out = R"({"resourceType":"Bundle","id":")" + RandomUuid() + R"(","type":"searchset")";
  if (page.total) out += R"(,"total":)" + std::to_string(*page.total);
  out += R"(,"link":[)";
  AppendLink(out, "self", Link(type_url, parsed, parsed.query.cursor));
  out += ',';
  AppendLink(out, "first", Link(type_url, parsed, ""));
  if (!page.previous_cursor.empty()) {
    out += ',';
    AppendLink(out, "previous", Link(type_url, parsed, page.previous_cursor));
  }
  if (page.more) {
    out += ',';
    AppendLink(out, "next", Link(type_url, parsed, page.next_cursor));
  }
  out += ']';
  // Each stored body is copied once, into `entries` (a page of $everything is megabytes).
  std::string entries;
  std::size_t bytes = 0;
  for (const auto* versions : {&page.versions, &page.included}) {
    for (const store::StoredVersion& version : *versions) bytes += version.body.size() + base_url.size() + version.id.size() + 96;
  }
  entries.reserve(bytes);
  auto append = [&](const store::StoredVersion& version, std::string_view mode, std::optional<std::size_t> contained) {
    std::string url = base_url + "/" + version.type + "/" + version.id;
    std::optional<std::pair<std::string, std::string>> alone;
    if (contained && parsed.query.contained_alone) alone = ContainedAlone(version, *contained, url);
    if (alone) url = alone->second;
    const std::string& body = alone ? alone->first : version.body;
    entries += entries.empty() ? "" : ",";
    entries += R"({"fullUrl":)";
    fhir::AppendJsonString(entries, url);
    entries += R"(,"resource":)";
    if (parsed.subset.mode == fhir::Subset::Mode::kAll) {
      entries += body;
    } else {
      entries += fhir::SubsetJson(body, parsed.subset);
    }
    entries += R"(,"search":{"mode":")";
    entries += mode;
    entries += R"("}})";
  };
  for (std::size_t i = 0; i < page.versions.size(); ++i) {
    append(page.versions[i], "match", page.contained_positions.empty() ? std::nullopt : page.contained_positions[i]);
  }
  for (const store::StoredVersion& version : page.included) append(version, "include", std::nullopt);
  std::vector<Issue> notes = parsed.ignored;
  if (page.included_capped) {
    notes.push_back({IssueType::kTooCostly,
                     "more than " + std::to_string(search::kMaxIncluded) +
                         " resources to include with this page: only the first were included; ask for smaller pages",
                     "", IssueSeverity::kWarning});
  }
  for (const std::string& line : page.explanation) notes.push_back({IssueType::kInformational, line, "", IssueSeverity::kInformation});
  if (!notes.empty()) {
    entries += entries.empty() ? "" : ",";
    entries += R"({"resource":)" + fhir::OperationOutcomeJson(notes) + R"(,"search":{"mode":"outcome"}})";
  }
  if (!entries.empty()) {  // FHIR JSON has no empty arrays
    out += R"(,"entry":[)";
    out += entries;
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace ck::rest
