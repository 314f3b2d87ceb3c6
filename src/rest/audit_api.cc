#include "rest/audit_api.h"

#include <algorithm>
#include <charconv>

#include "audit/audit_entry.h"
#include "audit/disclosures.h"
#include "rest/operation_outcome.h"
#include "util/text.h"
#include "util/time.h"

namespace ck::rest {
namespace {

using records::Interaction;

// The codes AuditEvent.type and .subtype are searched by, as the trail's content names them.
std::string TypeField(std::string_view code) {
  if (code == "110114") return "login";
  if (code == "110107") return "import";
  if (code == "110106") return "export";
  if (code == "110113") return "security";
  return std::string(code);
}

std::string SubtypeField(std::string_view code) {
  if (code == "110122") return "login";
  if (code == "110123") return "logout";
  return std::string(code);
}

// "system|code" or "code" to the code.
std::string_view TokenCode(std::string_view value) {
  const std::size_t bar = value.find('|');
  return bar == std::string_view::npos ? value : value.substr(bar + 1);
}

// "Patient/123", or "123" for a parameter whose type is fixed.
std::string ReferenceId(std::string_view value, std::string_view type) {
  const std::string prefix = std::string(type) + "/";
  return std::string(value.starts_with(prefix) ? value.substr(prefix.size()) : value);
}

// Narrows `range` by a date parameter's value with its prefix. Errors: kInvalid.
Status NarrowByDate(std::string_view value, TimeRange& range) {
  std::string_view prefix = value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0])) ? value.substr(0, 2) : "eq";
  if (prefix != "eq") value.remove_prefix(2);
  std::optional<TimeRange> date = ParseFhirDateTimeRange(value);
  if (!date) return Status::Invalid("date: '" + std::string(value) + "' is not a FHIR date or dateTime");
  if (prefix == "eq") {
    range.start = std::max(range.start, date->start);
    range.end = std::min(range.end, date->end);
  } else if (prefix == "ge") {
    range.start = std::max(range.start, date->start);
  } else if (prefix == "gt" || prefix == "sa") {
    range.start = std::max(range.start, date->end);
  } else if (prefix == "le") {
    range.end = std::min(range.end, date->end);
  } else if (prefix == "lt" || prefix == "eb") {
    range.end = std::min(range.end, date->start);
  } else {
    return Status::Invalid("date: AuditEvent searches take the prefixes eq, ge, gt, le, lt, sa and eb");
  }
  return Status::Ok();
}

struct ParsedAuditSearch {
  store::AuditQuery query;
  QueryParameters link_parameters;  // what the next link carries
};

Result<ParsedAuditSearch> ParseAuditSearch(const QueryParameters& parameters, unsigned default_count, unsigned max_count) {
  ParsedAuditSearch parsed;
  store::AuditQuery& query = parsed.query;
  query.count = default_count;
  TimeRange range{INT64_MIN, INT64_MAX};
  bool dated = false;
  for (const auto& [name, value] : parameters) {
    std::vector<std::string> values;
    for (std::string_view part : Split(value, ',')) values.emplace_back(part);
    if (name == "_format" || name == "_pretty") continue;
    if (name == "_cursor") {
      std::int64_t before = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), before);
      if (error != std::errc() || end != value.data() + value.size() || before <= 0) return Err(Status::Invalid("_cursor: not one of this server's"));
      query.before = before;
      continue;
    }
    parsed.link_parameters.emplace_back(name, value);
    if (name == "_count") {
      unsigned count = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (error != std::errc() || end != value.data() + value.size()) return Err(Status::Invalid("_count: not a number"));
      query.count = std::min(count, max_count);
    } else if (name == "patient") {
      for (std::string& v : values) query.patients.push_back(ReferenceId(v, "Patient"));
    } else if (name == "agent") {
      query.agents.insert(query.agents.end(), values.begin(), values.end());
    } else if (name == "entity") {
      query.entities.insert(query.entities.end(), values.begin(), values.end());
    } else if (name == "date") {
      CK_RETURN_IF_ERROR(NarrowByDate(value, range));
      dated = true;
    } else if (name == "type" || name == "subtype" || name == "action" || name == "outcome") {
      std::vector<std::string> codes;
      for (const std::string& v : values) {
        std::string_view code = TokenCode(v);
        codes.push_back(name == "type" ? TypeField(code) : name == "subtype" ? SubtypeField(code) : std::string(code));
      }
      query.fields.emplace_back(name, std::move(codes));
    } else {
      return Err(Status::Invalid("AuditEvent is searched by patient, agent, entity, date, type, subtype, action, outcome and "
                                 "_count; not by '" + name + "'"));
    }
  }
  if (dated) query.time = range;
  return parsed;
}

HttpResponse JsonResponse(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  response.With("Content-Type", kFhirJson);
  return response;
}

}  // namespace

bool AuditApi::WantsCsv(const HttpRequest& request) {
  const std::string format = ToLowerAscii(request.Query("_format"));
  return format == "csv" || format == "text/csv";
}

HttpResponse AuditApi::AuditEvents(const records::RequestContext& context, std::string_view method, std::span<const std::string> s,
                                   const QueryParameters& parameters) const {
  const bool search = s.size() == 1 || (s.size() == 2 && s[1] == "_search");
  const bool read = s.size() == 2 && s[1] != "_search";
  const bool allowed_method = (search && (method == "GET" || (s.size() == 2 && method == "POST"))) || (read && method == "GET");
  audit::AuditEntry entry = records::RecordService::EntryFor(
      context, search ? "search-type" : read ? "read" : "operation", method == "POST" && s.size() == 1 ? 'C'
                                                                 : method == "PUT" || method == "PATCH" ? 'U'
                                                                 : method == "DELETE"                   ? 'D'
                                                                 : search                               ? 'E'
                                                                                                        : 'R');
  if (read || s.size() > 2) entry.entities.push_back("AuditEvent/" + s[1]);
  if (!allowed_method) {
    if (method == "POST" && s.size() == 1) entry.subtype = "create";
    if (method == "PUT") entry.subtype = "update";
    if (method == "PATCH") entry.subtype = "patch";
    if (method == "DELETE") entry.subtype = "delete";
    Status refused(StatusCode::kMethodNotAllowed,
                   "the audit trail is written by the server alone: AuditEvent can be read and searched, never created, updated, "
                   "patched or deleted");
    Status recorded = records.RecordAccess(context, std::move(entry), refused);
    HttpResponse response = ErrorResponse(recorded.ok() ? refused : recorded);
    response.With("Allow", "GET");
    return response;
  }
  const Status allowed = records::RecordService::Authorize(context, search ? Interaction::kSearch : Interaction::kRead, "AuditEvent");
  if (!allowed.ok()) {
    Status recorded = records.RecordAccess(context, std::move(entry), allowed);
    return ErrorResponse(recorded.ok() ? allowed : recorded);
  }
  if (read) {
    std::int64_t sequence = 0;
    auto [end, error] = std::from_chars(s[1].data(), s[1].data() + s[1].size(), sequence);
    Result<std::vector<store::AuditRecord>> found = std::vector<store::AuditRecord>();
    if (error == std::errc() && end == s[1].data() + s[1].size() && sequence > 0) found = store.ReadAudit(sequence, 1);
    Status outcome = !found ? found.error()
                     : found->empty() || found->front().sequence != sequence ? Status::NotFound("AuditEvent/" + s[1] + " is not known")
                                                                             : Status::Ok();
    Result<std::string> event = outcome.ok() ? audit::AuditEventJson(found->front()) : Result<std::string>(Err(outcome));
    if (!event) outcome = event.error();
    Status recorded = records.RecordAccess(context, std::move(entry), outcome);
    if (!recorded.ok()) return ErrorResponse(recorded);
    if (!outcome.ok()) return ErrorResponse(outcome);
    HttpResponse response = JsonResponse(std::move(*event));
    response.With("ETag", "W/\"1\"").With("Last-Modified", FormatHttpDate(found->front().time));
    return response;
  }
  entry.query = "AuditEvent?" + QueryString(parameters);
  auto parsed = ParseAuditSearch(parameters, default_page_size, max_page_size);
  Result<std::vector<store::AuditRecord>> rows = parsed ? store.SearchAudit(parsed->query) : Result<std::vector<store::AuditRecord>>(Err(parsed.error()));
  Status outcome = rows ? Status::Ok() : rows.error();
  std::string entries;
  if (rows) {
    for (const store::AuditRecord& row : *rows) {
      Result<std::string> event = audit::AuditEventJson(row);
      if (!event) {
        outcome = event.error();
        break;
      }
      entries += (entries.empty() ? "" : ",") + std::string(R"({"fullUrl":")") + base_url + "/AuditEvent/" + std::to_string(row.sequence) +
                 R"(","resource":)" + *event + R"(,"search":{"mode":"match"}})";
    }
  }
  Status recorded = records.RecordAccess(context, std::move(entry), outcome);
  if (!recorded.ok()) return ErrorResponse(recorded);
  if (!outcome.ok()) return ErrorResponse(outcome);
  const std::string self = base_url + "/AuditEvent?" + QueryString(parsed->link_parameters);
  std::string links = R"([{"relation":"self","url":")" + self + "\"}";
  if (!rows->empty() && rows->size() == parsed->query.count) {
    links += R"(,{"relation":"next","url":")" + self + (parsed->link_parameters.empty() ? "" : "&") + "_cursor=" +
             std::to_string(rows->back().sequence) + "\"}";
  }
  std::string body = R"({"resourceType":"Bundle","type":"searchset","link":)" + links + "]";
  if (!entries.empty()) body += R"(,"entry":[)" + entries + "]";
  return JsonResponse(body + "}");
}

HttpResponse AuditApi::Disclosures(const records::RequestContext& context, std::string_view patient,
                                   const QueryParameters& parameters) const {
  audit::AuditEntry entry = records::RecordService::EntryFor(context, "operation", 'E');
  entry.detail = "$disclosures";
  entry.entities.push_back("Patient/" + std::string(patient));
  entry.patients.emplace_back(patient);
  entry.query = "Patient/" + std::string(patient) + "/$disclosures?" + QueryString(parameters);
  audit::DisclosureQuery query{std::string(patient), {0, SystemClock().Now() + 1}, disclosure_exclusions};
  query.period.start = query.period.end - audit::kMaxDisclosurePeriod;
  Status outcome = records::RecordService::Authorize(context, Interaction::kRead, "AuditEvent");
  for (const auto& [name, value] : parameters) {
    if (!outcome.ok()) break;
    if (name == "start" || name == "end") {
      std::optional<TimeRange> date = ParseFhirDateTimeRange(value);
      if (!date) {
        outcome = Status::Invalid(name + ": '" + value + "' is not a FHIR date or dateTime");
      } else if (name == "start") {
        query.period.start = date->start;
      } else {
        query.period.end = date->end;
      }
    } else if (name == "exclude") {
      query.exclude_purposes.clear();
      for (std::string_view code : Split(value, ',')) {
        if (!code.empty()) query.exclude_purposes.emplace_back(code);
      }
    } else if (name != "_format" && name != "_pretty") {
      outcome = Status::Invalid("$disclosures takes start, end, exclude and _format; not '" + name + "'");
    }
  }
  Result<std::vector<store::AuditRecord>> rows = outcome.ok() ? audit::DisclosureRecords(store, query)
                                                              : Result<std::vector<store::AuditRecord>>(Err(outcome));
  const bool csv = std::any_of(parameters.begin(), parameters.end(), [](const auto& p) {
    return p.first == "_format" && (ToLowerAscii(p.second) == "csv" || ToLowerAscii(p.second) == "text/csv");
  });
  Result<std::string> body = !rows ? Result<std::string>(Err(rows.error()))
                             : csv ? audit::DisclosuresCsv(*rows)
                                   : audit::DisclosuresBundle(*rows, base_url);
  Status recorded = records.RecordAccess(context, std::move(entry), body ? Status::Ok() : body.error());
  if (!recorded.ok()) return ErrorResponse(recorded);
  if (!body) return ErrorResponse(body.error());
  HttpResponse response;
  response.body = std::move(*body);
  response.With("Content-Type", csv ? "text/csv; charset=utf-8" : kFhirJson);
  if (csv) response.With("Content-Disposition", "attachment; filename=\"disclosures-" + std::string(patient) + ".csv\"");
  return response;
}

}  // namespace ck::rest
