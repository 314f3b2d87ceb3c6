#include "rest/history_bundle.h"

#include "fhir/json_writer.h"
#include "util/random_id.h"

namespace ck::rest {
namespace {

// A link to a page of the same history and snapshot; `cursor` is "", "_before=<seq>" or
// "_after=<seq>".
std::string PageLink(const std::string& page_url, const std::string& filters, const store::HistoryPage& page,
                     std::uint32_t count, const std::string& cursor) {
  std::string link = page_url + "?";
  if (!filters.empty()) link += filters + "&";
  link += "_count=" + std::to_string(count) + "&_snapshot=" + std::to_string(page.snapshot);
  if (!cursor.empty()) link += "&" + cursor;
  return link;
}

std::string QueryCursor(const store::HistoryQuery& query) {
  if (query.after > 0) return "_after=" + std::to_string(query.after);
  if (query.before > 0) return "_before=" + std::to_string(query.before);
  return "";
}

// How a change appears in a history entry: its request method and response status.
struct ChangeEntry {
  std::string_view method;
  std::string_view status;
};

ChangeEntry EntryFor(store::ChangeKind change) {
  switch (change) {
    case store::ChangeKind::kCreate: return {"POST", "201 Created"};
    case store::ChangeKind::kUpdate: return {"PUT", "200 OK"};
    case store::ChangeKind::kDelete: return {"DELETE", "204 No Content"};
  }
  return {"PUT", "200 OK"};
}

}  // namespace

void AppendLink(std::string& out, std::string_view relation, const std::string& url) {
  out += R"({"relation":")";
  out += relation;
  out += R"(","url":)";
  fhir::AppendJsonString(out, url);
  out += '}';
}

std::string VersionEtag(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::string HistoryBundleJson(const store::HistoryPage& page, const store::HistoryQuery& query,
                              const std::string& base_url, const std::string& page_url, const std::string& filters) {
  std::string out = R"({"resourceType":"Bundle","id":")" + RandomUuid() + R"(","type":"history")";
  if (page.total) out += R"(,"total":)" + std::to_string(*page.total);
  out += R"(,"link":[)";
  AppendLink(out, "self", PageLink(page_url, filters, page, query.count, QueryCursor(query)));
  out += ',';
  AppendLink(out, "first", PageLink(page_url, filters, page, query.count, ""));
  if (page.newer && !page.versions.empty()) {
    out += ',';
    AppendLink(out, "previous", PageLink(page_url, filters, page, query.count, "_after=" + std::to_string(page.versions.front().sequence)));
  }
  if (page.older && !page.versions.empty()) {
    out += ',';
    AppendLink(out, "next", PageLink(page_url, filters, page, query.count, "_before=" + std::to_string(page.versions.back().sequence)));
  }
  out += ']';
  if (!page.versions.empty()) out += R"(,"entry":[)";
  bool first = true;
  for (const store::StoredVersion& v : page.versions) {
    if (!first) out += ',';
    first = false;
    std::string reference = v.type + "/" + v.id;
    out += R"({"fullUrl":)";
    fhir::AppendJsonString(out, base_url + "/" + reference);
    if (!v.deleted()) {
      out += R"(,"resource":)";
      out += v.body;
    }
    const ChangeEntry change = EntryFor(v.change);
    out += R"(,"request":{"method":")";
    out += change.method;
    out += R"(","url":)";
    fhir::AppendJsonString(out, v.change == store::ChangeKind::kCreate ? v.type : reference);
    out += R"(},"response":{"status":")";
    out += change.status;
    out += R"(","etag":)";
    fhir::AppendJsonString(out, VersionEtag(v.version));
    out += R"(,"lastModified":")" + FormatInstant(v.last_updated) + R"("}})";
  }
  if (!page.versions.empty()) out += ']';
  out += '}';
  return out;
}

}  // namespace ck::rest
