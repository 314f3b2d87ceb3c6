#include "store/sqlite/sqlite_search.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "store/sqlite/rid_intersection.h"
#include "store/sqlite/search_index_rows.h"
#include "store/sqlite/sql_text.h"
#include "store/sqlite/version_rows.h"
#include "util/time.h"

namespace ck::store::sqlite {
namespace {

using search::Prefix;

// Strings start with the prefix when they sort between it and the prefix followed by 0xFF, a
// byte no UTF-8 text holds: an index range.
std::string PrefixEnd(const std::string& prefix) { return prefix + '\xFF'; }

const char* TableFor(fhir::SearchParamType type) {
  switch (type) {
    case fhir::SearchParamType::kToken: return "search_token";
    case fhir::SearchParamType::kString: return "search_string";
    case fhir::SearchParamType::kDate: return "search_date";
    case fhir::SearchParamType::kNumber: return "search_number";
    case fhir::SearchParamType::kQuantity: return "search_quantity";
    case fhir::SearchParamType::kReference: return "search_reference";
    case fhir::SearchParamType::kUri: return "search_uri";
    default: return "search_token";
  }
}

// The columns of an indexed interval: `x.low` and `x.high`, or for the second number of a pair
// `x.low2` and `x.high2`.
struct IntervalColumns {
  const char* low = "x.low";
  const char* high = "x.high";
};

// The test of a prefix on an indexed interval [low, high) against the searched one: eq, ne and
// ap compare intervals (eq: the searched interval holds the indexed one). For dates the order
// prefixes compare intervals too (gt: some of the indexed period is after the searched one); for
// numbers and quantities they compare values (`point`: the indexed value), as people read
// "value-quantity=gt5" (5.4 is greater than 5, though within 5's precision).
template <typename T>
void Range(Sql& sql, Prefix prefix, T low, T high, T value, T approximate, const char* point, IntervalColumns columns = {}) {
  auto within = [&] {
    sql << "(" << columns.low << " >= ";
    sql.Value(low) << " AND " << columns.high << " <= ";
    sql.Value(high) << ")";
  };
  auto compare = [&](const char* interval_column, const char* op, T interval_bound) {
    if (point != nullptr) {
      sql << point << op;
      sql.Value(value);
    } else {
      sql << interval_column << op;
      sql.Value(interval_bound);
    }
  };
  switch (prefix) {
    case Prefix::kEq: within(); return;
    case Prefix::kNe: sql << "NOT "; within(); return;
    case Prefix::kGt: case Prefix::kSa: compare(prefix == Prefix::kSa ? columns.low : columns.high, prefix == Prefix::kSa ? " >= " : " > ", high); return;
    case Prefix::kLt: case Prefix::kEb: compare(prefix == Prefix::kEb ? columns.high : columns.low, prefix == Prefix::kEb ? " <= " : " < ", low); return;
    // ge/le: gt/lt (the range above/below the searched one, which excludes it, overlaps the
    // target's) or eq; on a point value that is value >= / <= the searched value.
    case Prefix::kGe: sql << "("; compare(columns.high, point != nullptr ? " >= " : " > ", high); sql << " OR "; within(); sql << ")"; return;
    case Prefix::kLe: sql << "("; compare(columns.low, point != nullptr ? " <= " : " < ", low); sql << " OR "; within(); sql << ")"; return;
    case Prefix::kAp:  // overlaps the searched interval widened by `approximate` either side
      sql << "(" << columns.low << " < ";
      sql.Value(high + approximate) << " AND " << columns.high << " > ";
      sql.Value(low - approximate) << ")";
      return;
  }
}

// How a search meets one condition, in the two forms the planner chooses between
// (docs/design/search.md): the set of rids that meet it, read from the index by value (to drive
// a search), and a test of one candidate resource `r`, read from the index by rid (for the
// other conditions). A set is `ordered` when each of its parts is one range of an index whose
// key has the rid right after the columns the part fixes, so it comes in rid order: a search
// driven by one such range can stop when its page is full, and such sets can be intersected by
// seeking (rid_intersection.h).
struct Clause {
  std::vector<Sql> parts;  // "SELECT x.rid FROM ..."; the set is their union
  Sql test;                // a boolean SQL expression on `r.rid`
  bool ordered = false;    // every part is one index range in rid order
  bool ranged = false;     // every part is read through an index range (so it can be counted)
  std::size_t test_index = 0;  // where its test is in Clauses::tests
  std::string label;           // what it is, for _explain: "code (search_token)"
  // When set, what the planner counts (up to its cap) to estimate the set instead of the parts:
  // a cheaper upper bound.
  Sql estimate;

  bool OneOrderedRange() const { return ordered && parts.size() == 1; }
};

// A test (on `r.rid`) of a candidate whose rid is in `rid_column`, so it can run before, or
// without, the join with the resource table. The tests are SQL text of this file's own, with
// every value bound, and name the candidate only as "r.rid".
Sql OnCandidate(const Sql& test, std::string_view rid_column) {
  constexpr std::string_view kCandidate = "r.rid";
  Sql out;
  out.values = test.values;
  std::string_view text = test.text;
  for (std::size_t at = text.find(kCandidate); at != std::string_view::npos; at = text.find(kCandidate)) {
    out << text.substr(0, at) << rid_column;
    text.remove_prefix(at + kCandidate.size());
  }
  out << text;
  return out;
}

// Builds the clause of one match: the table, and the predicate on its row `x` that both forms
// share.
class MatchWriter {
 public:
  MatchWriter(std::int64_t type_id, std::int64_t param_id, Clause& clause) : type_id_(type_id), param_id_(param_id), clause_(clause) {}

  void operator()(const search::TokenMatch& m) {
    Add("search_token", m.code ? Read::kOrderedRange : Read::kFiltered, [&](Sql& sql) {
      if (m.code) {
        sql << " AND x.code = ";
        sql.Value(*m.code);
      }
      if (m.system) {
        sql << " AND x.system = ";
        sql.Value(*m.system);
      }
    });
  }
  void operator()(const search::IdentifierTypeMatch& m) {
    Add("search_identifier_type", Read::kOrderedRange, [&](Sql& sql) {
      sql << " AND x.type_code = ";
      sql.Value(m.type_code) << " AND x.type_system = ";
      sql.Value(m.type_system) << " AND x.value = ";
      sql.Value(m.value);
    });
  }
  void operator()(const search::StringMatch& m) {
    const Read read = m.mode == search::StringMatch::Mode::kStartsWith ? Read::kRange
                      : m.mode == search::StringMatch::Mode::kExact    ? Read::kOrderedRange
                                                                       : Read::kFiltered;
    Add("search_string", read, [&](Sql& sql) {
      switch (m.mode) {
        case search::StringMatch::Mode::kStartsWith:
          StartsWith(sql, "x.normalized", m.value);
          return;
        case search::StringMatch::Mode::kContains:
          sql << " AND instr(x.normalized, ";
          sql.Value(m.value) << ") > 0";
          return;
        case search::StringMatch::Mode::kExact:  // the normalized form too, for the index range
          sql << " AND x.normalized = ";
          sql.Value(m.normalized) << " AND x.exact = ";
          sql.Value(m.value);
          return;
      }
    });
  }
  void operator()(const search::DateMatch& m) {
    // ap: within a tenth of the time between now and the value, either side.
    const Millis approximate = std::llabs(SystemClock().Now() - m.low) / 10;
    const bool range = m.prefix == Prefix::kEq || m.prefix == Prefix::kLt || m.prefix == Prefix::kSa || m.prefix == Prefix::kAp;
    Add("search_date", range ? Read::kRange : Read::kFiltered, [&](Sql& sql) {
      if (m.prefix == Prefix::kEq) {  // implied (low < high <= the end), and an index range
        sql << " AND x.low <= ";
        sql.Value(m.high);
      }
      sql << " AND ";
      Range<std::int64_t>(sql, m.prefix, m.low, m.high, m.low, approximate, nullptr);
    });
  }
  void operator()(const search::NumberMatch& m) {
    Add("search_number", NumberRead(m), [&](Sql& sql) { Number(sql, m, "x.value"); });
  }
  // The second and third components of a composite of three, in the same row.
  void Pair(const search::NumberMatch& first, const search::NumberMatch& second) {
    Add("search_number_pair", NumberRead(first), [&](Sql& sql) {
      Number(sql, first, "x.value");
      Number(sql, second, "x.value2", {"x.low2", "x.high2"});
    });
  }
  void operator()(const search::QuantityMatch& m) {
    if (m.canonical_unit) {
      Add("search_quantity_canonical", Read::kFiltered, [&](Sql& sql) {
        sql << " AND x.unit = ";
        sql.Value(*m.canonical_unit);
        Number(sql, m.number, "((x.low + x.high) / 2)");
      });
      return;
    }
    Add("search_quantity", m.code && m.system ? NumberRead(m.number) : Read::kFiltered, [&](Sql& sql) {
      if (m.code) {
        sql << " AND x.code = ";
        sql.Value(*m.code);
      }
      if (m.system) {
        sql << " AND x.system = ";
        sql.Value(*m.system);
      }
      Number(sql, m.number, "x.value");
    });
  }
  void operator()(const search::ReferenceMatch& m) {
    Add("search_reference", Read::kOrderedRange, [&](Sql& sql) {
      if (!m.url.empty()) {
        sql << " AND x.target_id = '' AND x.url = ";
        sql.Value(m.url);
        return;
      }
      sql << " AND x.target_id = ";
      sql.Value(m.id) << " AND x.url = ''";
      if (!m.type.empty()) {
        sql << " AND x.target_type = ";
        sql.Value(m.type);
      }
    });
  }
  void operator()(const search::UriMatch& m) {
    const Read read = m.mode == search::UriMatch::Mode::kEqual ? Read::kOrderedRange
                      : m.mode == search::UriMatch::Mode::kBelow ? Read::kRange
                                                                 : Read::kFiltered;
    Add("search_uri", read, [&](Sql& sql) {
      switch (m.mode) {
        case search::UriMatch::Mode::kEqual:
          sql << " AND x.uri = ";
          sql.Value(m.value);
          return;
        case search::UriMatch::Mode::kBelow:
          StartsWith(sql, "x.uri", m.value);
          return;
        case search::UriMatch::Mode::kAbove:
          sql << " AND substr(";
          sql.Value(m.value) << ", 1, length(x.uri)) = x.uri";
          return;
      }
    });
  }
  // The parameter has some value (:missing=false), as a test only.
  void AnyValue(const char* table) { Add(table, Read::kFiltered, [](Sql&) {}); }

 private:
  // How a part's rows are found: every row of the parameter filtered; an index range (reading
  // it costs about as much as what it finds); or one that yields rids in order.
  enum class Read { kFiltered, kRange, kOrderedRange };

  // Prefixes other than ne and ap bound the value (number ranges below add what eq, ge and le
  // imply), so the rows come from a range of the value column.
  static Read NumberRead(const search::NumberMatch& m) {
    return m.prefix == Prefix::kNe || m.prefix == Prefix::kAp ? Read::kFiltered : Read::kRange;
  }

  // " AND <column> starts with <prefix>", as an index range.
  static void StartsWith(Sql& sql, const char* column, const std::string& prefix) {
    sql << " AND " << column << " >= ";
    sql.Value(prefix) << " AND " << column << " < ";
    sql.Value(PrefixEnd(prefix));
  }
  static void Number(Sql& sql, const search::NumberMatch& m, const char* point, IntervalColumns columns = {}) {
    // A value lies within its own interval, so eq (the interval within the searched one), ge and
    // le (greater or less, or eq) imply bounds on the value: an index range.
    const bool column = std::string_view(point) == "x.value";
    if (column && (m.prefix == Prefix::kEq || m.prefix == Prefix::kGe)) {
      sql << " AND x.value >= ";
      sql.Value(m.low);
    }
    if (column && (m.prefix == Prefix::kEq || m.prefix == Prefix::kLe)) {
      sql << " AND x.value <= ";
      sql.Value(m.high);
    }
    sql << " AND ";
    Range<double>(sql, m.prefix, m.low, m.high, m.value, std::fabs(m.value) / 10, point, columns);
  }

  // Adds "SELECT x.rid FROM table x WHERE type and parameter <predicate>" to the set and
  // "EXISTS (SELECT 1 FROM table x WHERE x.rid = r.rid AND parameter <predicate>)" to the test,
  // OR'ed with the clause's other values.
  template <typename Predicate>
  void Add(const char* table, Read read, Predicate predicate) {
    Sql& part = clause_.parts.emplace_back();
    part << "SELECT x.rid FROM " << table << " x WHERE x.type_id = ";
    part.Value(type_id_) << " AND x.param_id = ";
    part.Value(param_id_);
    predicate(part);
    const bool first = clause_.parts.size() == 1;
    clause_.ordered = (first || clause_.ordered) && read == Read::kOrderedRange;
    clause_.ranged = (first || clause_.ranged) && read != Read::kFiltered;
    if (!clause_.test.text.empty()) clause_.test << " OR ";
    clause_.test << "EXISTS (SELECT 1 FROM " << table << " x WHERE x.rid = r.rid AND x.param_id = ";
    clause_.test.Value(param_id_);
    predicate(clause_.test);
    clause_.test << ")";
  }

  const std::int64_t type_id_;
  const std::int64_t param_id_;
  Clause& clause_;
};

// The value a resource sorts by for a _sort key (search/search_query.h): the least of its values
// for ascending, the greatest for descending; NULL without one. A resource's one `_id` value is
// its id, read without the index (a contained resource's is only in the index).
void SortExpression(Sql& sql, const search::SortKey& key, std::int64_t param_id, bool contained) {
  if (!key.full_text.empty()) {  // _score: bm25 is lower for a better match
    sql << "(SELECT bm25(search_fulltext) FROM search_fulltext WHERE search_fulltext MATCH ";
    sql.Value(key.full_text) << " AND rowid = r.rid)";
    return;
  }
  if (key.param->code == "_id" && !contained) {
    sql << "r.id";
    return;
  }
  const char* aggregate = key.descending ? "max" : "min";
  const char* column = "x.code";
  const char* table = TableFor(key.param->type);
  switch (key.param->type) {
    case fhir::SearchParamType::kDate: column = key.descending ? "x.high" : "x.low"; break;
    case fhir::SearchParamType::kString: column = "x.normalized"; break;
    case fhir::SearchParamType::kNumber: case fhir::SearchParamType::kQuantity: column = "x.value"; break;
    case fhir::SearchParamType::kReference: column = "(x.target_type || '/' || x.target_id || x.url)"; break;
    case fhir::SearchParamType::kUri: column = "x.uri"; break;
    default: break;
  }
  sql << "(SELECT " << aggregate << "(" << column << ") FROM " << table << " x WHERE x.rid = r.rid AND x.param_id = ";
  sql.Value(param_id) << ")";
}

// A cursor: the sort values of the last match of a page, then its rid, each as "n;" (none),
// "i<integer>;", "r<real>;" or "s<length>:<text>" ("i<rid>;" alone when there is no sort key).
std::string EncodeCursor(const std::vector<Bound>& keys, const std::vector<bool>& nulls, std::int64_t rid) {
  std::string out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (nulls[i]) {
      out += "n;";
    } else if (const auto* integer = std::get_if<std::int64_t>(&keys[i])) {
      out += "i" + std::to_string(*integer) + ";";
    } else if (const auto* real = std::get_if<double>(&keys[i])) {
      char text[32];
      std::snprintf(text, sizeof text, "r%.17g;", *real);
      out += text;
    } else {
      const std::string& text = std::get<std::string>(keys[i]);
      out += "s" + std::to_string(text.size()) + ":" + text;
    }
  }
  return out + "i" + std::to_string(rid) + ";";
}

// The values of a cursor (nullopt entries for "n;"), the rid last. Errors: kInvalid.
Result<std::vector<std::optional<Bound>>> DecodeCursor(std::string_view cursor, std::size_t keys) {
  auto bad = [] { return Err(Status::Invalid("_cursor: not a cursor this server made (take the next link as it is)")); };
  std::vector<std::optional<Bound>> out;
  while (!cursor.empty()) {
    char kind = cursor[0];
    cursor.remove_prefix(1);
    if (kind == 'n') {
      if (cursor.empty() || cursor[0] != ';') return bad();
      cursor.remove_prefix(1);
      out.emplace_back();
    } else if (kind == 'i' || kind == 'r') {
      std::size_t end = cursor.find(';');
      if (end == std::string_view::npos) return bad();
      std::string number(cursor.substr(0, end));
      char* rest = nullptr;
      errno = 0;
      if (kind == 'i') {
        long long value = std::strtoll(number.c_str(), &rest, 10);
        out.emplace_back(Bound(static_cast<std::int64_t>(value)));
      } else {
        out.emplace_back(Bound(std::strtod(number.c_str(), &rest)));
      }
      if (number.empty() || *rest != '\0' || errno == ERANGE) return bad();
      cursor.remove_prefix(end + 1);
    } else if (kind == 's') {
      std::size_t colon = cursor.find(':');
      if (colon == std::string_view::npos || colon == 0) return bad();
      std::size_t length = 0;
      auto [ptr, error] = std::from_chars(cursor.data(), cursor.data() + colon, length);
      if (error != std::errc() || ptr != cursor.data() + colon || colon + 1 + length > cursor.size()) return bad();
      out.emplace_back(Bound(std::string(cursor.substr(colon + 1, length))));
      cursor.remove_prefix(colon + 1 + length);
    } else {
      return bad();
    }
  }
  if (out.size() != keys + 1 || !out.back() || !std::holds_alternative<std::int64_t>(*out.back())) return bad();
  return out;
}

// A version read by a search, with its resource's rid.
struct Found {
  StoredVersion version;
  std::int64_t rid;
};

// What a search's candidates `r` (type_id, rid, deleted, seq) are read from: resources, or
// contained resources (schema_v7.sql), which live as long as their container's version.
const char* Candidates(bool contained) {
  return contained ? "(SELECT type_id, rid, 0 AS deleted, seq FROM contained_resource)" : "resource";
}

// "SELECT <version columns>, r.rid<extra> FROM <source> JOIN resource_version v ON v.seq = r.seq
// <version joins>": the versions of the resources `r` that `source` finds (values in order).
Sql SelectVersions(const Sql& source, const Sql& extra = {}) {
  Sql sql;
  sql << "SELECT " << kVersionColumns << ", r.rid";
  sql.Append(extra) << " FROM ";
  sql.Append(source) << " JOIN resource_version v ON v.seq = r.seq" << kVersionJoins;
  return sql;
}

Result<Found> ReadFound(const Statement& row) {
  CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(row));
  return Found{std::move(version), row.Int(kVersionColumnCount)};
}

// Reads the versions a statement selects (with SelectVersions) that are new to `seen` (rids)
// into `out`, up to search::kMaxIncluded in all; false when the cap stopped it.
Result<bool> CollectNew(Statement& statement, std::set<std::int64_t>& seen, std::vector<Found>& out, std::size_t& total) {
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return true;
    if (seen.contains(statement.Int(kVersionColumnCount))) continue;
    if (total >= search::kMaxIncluded) return false;
    CK_ASSIGN_OR_RETURN(Found found, ReadFound(statement));
    seen.insert(found.rid);
    out.push_back(std::move(found));
    ++total;
  }
}

Status Run(Connection& db, const Sql& sql, std::set<std::int64_t>& seen, std::vector<Found>& found, std::size_t& total,
           bool& capped) {
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
  BindAll(*statement, sql.values);
  CK_ASSIGN_OR_RETURN(bool complete, CollectNew(*statement, seen, found, total));
  if (!complete) capped = true;
  return Status::Ok();
}

// A resource type and one of its reference parameters.
struct ReferenceColumn {
  std::int64_t type_id;
  std::int64_t param_id;
};

// Every (type, parameter) that has reference rows, for _revinclude=*: read by skipping from one
// to the next along the index's key (one probe each), not by reading the rows.
Result<std::vector<ReferenceColumn>> IndexedReferenceColumns(Connection& db) {
  std::vector<ReferenceColumn> out;
  CK_ASSIGN_OR_RETURN(ScopedStatement next, db.Prepare("SELECT type_id, param_id FROM search_reference "
                                                       "WHERE (type_id, param_id) > (?, ?) ORDER BY type_id, param_id LIMIT 1"));
  ReferenceColumn last{0, 0};  // resources' types only (contained resources' are negative)
  while (true) {
    next->Bind(1, last.type_id).Bind(2, last.param_id);
    CK_ASSIGN_OR_RETURN(bool row, next->Step());
    if (!row) break;
    last = {next->Int(0), next->Int(1)};
    out.push_back(last);
    next->Reset();
  }
  return out;
}

// The _include and _revinclude resources of the page's matches, and with :iterate of what they
// bring in turn, each once. Index rows belong to current versions only, so what they lead to is
// current.
Status AddIncluded(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query,
                   std::vector<Found> frontier, SearchPage& page) {
  std::set<std::int64_t> seen;
  for (const Found& match : frontier) seen.insert(match.rid);
  std::size_t total = 0;
  for (bool first_round = true; !frontier.empty(); first_round = false) {
    std::vector<Found> found;
    for (const search::Include& include : query.includes) {
      if (!first_round && !include.iterate) continue;
      std::optional<std::int64_t> param_id;
      if (include.param != nullptr) {
        CK_ASSIGN_OR_RETURN(param_id, params.Lookup(db, include.param->url));
        if (!param_id) continue;
      }
      for (const Found& source : frontier) {
        // A contained match's rows are its own, under its own type (its version is its container's).
        if ((source.rid < 0 ? query.type : source.version.type) != include.source_type) continue;
        Sql targets;
        targets << "search_reference x JOIN resource_type tt ON tt.name = x.target_type "
                   "JOIN resource r ON r.type_id = tt.type_id AND r.id = x.target_id";
        Sql sql = SelectVersions(targets);
        sql << "WHERE x.rid = ";
        sql.Value(source.rid) << " AND x.url = '' AND r.deleted = 0";
        if (param_id) {
          sql << " AND x.param_id = ";
          sql.Value(*param_id);
        }
        if (!include.target_type.empty()) {
          sql << " AND x.target_type = ";
          sql.Value(include.target_type);
        }
        CK_RETURN_IF_ERROR(Run(db, sql, seen, found, total, page.included_capped));
      }
    }
    for (const search::Include& include : query.revincludes) {
      if (!first_round && !include.iterate) continue;
      std::vector<ReferenceColumn> sources;
      if (include.param == nullptr) {
        CK_ASSIGN_OR_RETURN(sources, IndexedReferenceColumns(db));
      } else {
        CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> source_type_id, types.Lookup(db, include.source_type));
        CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, include.param->url));
        if (!source_type_id || !param_id) continue;
        sources.push_back({*source_type_id, *param_id});
      }
      for (const Found& target : frontier) {
        if (target.rid < 0) continue;  // contained: only its container points to it
        if (!include.target_type.empty() && include.target_type != target.version.type) continue;
        for (const ReferenceColumn& source : sources) {
          // From the references to the target (one index range), each joined to its resource:
          // with `r.rid IN (...)` SQLite may scan the source type's resources instead.
          Sql from;
          from << "(SELECT DISTINCT x.rid FROM search_reference x WHERE x.type_id = ";
          from.Value(source.type_id) << " AND x.param_id = ";
          from.Value(source.param_id) << " AND x.target_id = ";
          from.Value(target.version.id) << " AND x.url = '' AND x.target_type = ";
          from.Value(target.version.type) << ") s CROSS JOIN resource r ON r.type_id = ";
          from.Value(source.type_id) << " AND r.rid = s.rid";
          Sql sql = SelectVersions(from);
          sql << "WHERE r.deleted = 0";
          CK_RETURN_IF_ERROR(Run(db, sql, seen, found, total, page.included_capped));
        }
      }
    }
    for (const Found& item : found) page.included.push_back(item.version);
    if (page.included_capped) break;
    frontier = std::move(found);
  }
  return Status::Ok();
}

// The clauses of a query's conditions and compartment, with the type's id: for each, the set
// (to drive from) unless it cannot drive (:not, :missing), and the test.
struct Clauses {
  std::vector<Clause> drivers;      // conditions a match meets through a value it has
  std::vector<Sql> tests;           // every condition, as a test on `r`
  std::vector<std::string> labels;  // each test's condition, for _explain
};

// The parameters a composite's values are kept under (search_index_rows.h, CompositeParamUrl)
// whose first component matches `first`.
Result<std::vector<std::int64_t>> CompositeParamIds(Connection& db, NameIds& params, const std::string& composite_url,
                                                   const search::TokenMatch& first) {
  std::vector<std::int64_t> ids;
  if (first.system && first.code) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> id, params.Lookup(db, CompositeParamUrl(composite_url, *first.system + "|" + *first.code)));
    if (id) ids.push_back(*id);
    return ids;
  }
  const std::string prefix = CompositeParamUrl(composite_url, "");
  CK_ASSIGN_OR_RETURN(ScopedStatement keys, db.Prepare("SELECT param_id, url FROM search_param WHERE url >= ? AND url < ?"));
  keys->Bind(1, prefix).Bind(2, PrefixEnd(prefix));
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, keys->Step());
    if (!row) break;
    const std::string_view key = keys->Text(1).substr(prefix.size());
    const std::size_t bar = key.find('|');
    if (bar == std::string_view::npos) continue;
    if (first.system && key.substr(0, bar) != *first.system) continue;
    if (first.code && key.substr(bar + 1) != *first.code) continue;
    ids.push_back(keys->Int(0));
  }
  return ids;
}

Result<Clause> ChainClause(Connection& db, NameIds& types, NameIds& params, const search::Condition& condition,
                           const std::string& type_name, std::int64_t type_id);

// _text or _content (search/full_text.h): the resources of the type among the FTS5 table's
// matches of `query` (schema_v10.sql). FTS5 yields its matches in rowid (= rid) order, each
// looked up in the resource table's (type, rid) index: one ordered range, so a common word is
// read only until the page is full, and seeks (`rid >= ?`) when intersected with other ranges.
Clause FullTextClause(const std::string& query, std::int64_t type_id) {
  Clause clause;
  clause.ordered = clause.ranged = true;
  Sql& part = clause.parts.emplace_back();
  part << "SELECT x.rid FROM (SELECT f.rowid AS rid FROM search_fulltext f CROSS JOIN resource t ON t.type_id = ";
  part.Value(type_id) << " AND t.rid = f.rowid WHERE search_fulltext MATCH ";
  part.Value(query) << ") x WHERE 1";
  // Estimated by the matches of every type: counting the type's alone would read the matches of
  // the others between them (a word in every resource, 5% of them notes: 40,000 rows for 2,000).
  clause.estimate << "SELECT rowid FROM search_fulltext WHERE search_fulltext MATCH ";
  clause.estimate.Value(query);
  clause.test << "r.rid IN (SELECT rowid FROM search_fulltext WHERE search_fulltext MATCH ";
  clause.test.Value(query) << ")";
  return clause;
}

// Limits reference rows (`x`) to those that point to the compartment's resource (to any
// resource of its type when it has no id).
void PointsIntoCompartment(Sql& sql, const search::CompartmentFilter& compartment) {
  sql << " AND x.url = '' AND x.target_type = ";
  sql.Value(compartment.type);
  if (!compartment.id.empty()) {
    sql << " AND x.target_id = ";
    sql.Value(compartment.id);
  }
}

// The compartment's own resource (every resource of its type when it has no id) among the
// resources of type `type_id`, as one SELECT of rids.
Sql CompartmentResource(const search::CompartmentFilter& compartment, std::int64_t type_id) {
  Sql sql;
  sql << "SELECT x.rid FROM resource x WHERE x.type_id = ";
  sql.Value(type_id) << " AND x.deleted = 0";
  if (!compartment.id.empty()) {
    sql << " AND x.id = ";
    sql.Value(compartment.id);
  }
  return sql;
}

// The members of type `type_id` that point into the compartment through `members` (one SELECT
// of rids per parameter, appended to `parts`); their parameter ids are added to `param_ids`.
Status AddMemberParts(Connection& db, NameIds& params, const search::CompartmentFilter& compartment, std::int64_t type_id,
                      const std::vector<search::Param>& members, std::vector<Sql>& parts, Sql* param_ids) {
  for (search::Param param : members) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, param->url));
    if (!param_id) continue;
    if (param_ids != nullptr) param_ids->Value(*param_id) << ", ";
    Sql& part = parts.emplace_back();
    part << "SELECT x.rid FROM search_reference x WHERE x.type_id = ";
    part.Value(type_id) << " AND x.param_id = ";
    part.Value(*param_id);
    PointsIntoCompartment(part, compartment);
  }
  return Status::Ok();
}

// A compartment search's clause: the resources that point into the compartment through one of
// its parameters (an index range in rid order per parameter when the compartment has an id), or
// are its own resource.
Result<Clause> CompartmentClause(Connection& db, NameIds& params, const search::CompartmentFilter& compartment, std::int64_t type_id) {
  Clause clause;
  clause.ordered = !compartment.id.empty();
  clause.ranged = true;
  Sql param_ids;
  param_ids << "(";
  CK_RETURN_IF_ERROR(AddMemberParts(db, params, compartment, type_id, compartment.params, clause.parts, &param_ids));
  param_ids << "-1)";
  clause.test << "(EXISTS (SELECT 1 FROM search_reference x WHERE x.rid = r.rid AND x.param_id IN ";
  clause.test.Append(param_ids);
  PointsIntoCompartment(clause.test, compartment);
  clause.test << ")";
  if (compartment.itself) {
    Sql itself = CompartmentResource(compartment, type_id);
    clause.test << " OR r.rid IN (";
    clause.test.Append(itself) << ")";
    clause.parts.push_back(std::move(itself));
  }
  clause.test << ")";
  if (clause.parts.empty()) {  // no resource of the type refers to anything through these
    clause.parts.emplace_back() << "SELECT x.rid FROM resource x WHERE 0";
  }
  return clause;
}

// $everything's clause for a type outside the compartment: the resources of `type_name` that
// the compartment's resource or its members (CompartmentFilter::referenced_by) refer to.
Result<Clause> ReferencedClause(Connection& db, NameIds& types, NameIds& params, const search::CompartmentFilter& compartment,
                                const std::string& type_name, std::int64_t type_id) {
  std::vector<Sql> members;
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> compartment_type_id, types.Lookup(db, compartment.type));
  if (compartment_type_id) members.push_back(CompartmentResource(compartment, *compartment_type_id));
  for (const search::CompartmentFilter::Members& of_type : compartment.referenced_by) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> member_type_id, types.Lookup(db, of_type.type));
    if (!member_type_id) continue;
    CK_RETURN_IF_ERROR(AddMemberParts(db, params, compartment, *member_type_id, of_type.params, members, nullptr));
  }
  Clause clause;
  clause.ranged = true;
  Sql& part = clause.parts.emplace_back();
  part << "SELECT t.rid FROM resource t WHERE t.type_id = ";
  part.Value(type_id) << " AND t.deleted = 0 AND t.id IN (SELECT y.target_id FROM search_reference y WHERE y.url = '' AND y.target_type = ";
  part.Value(type_name) << " AND y.rid IN (";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) part << " UNION ALL ";
    part.Append(members[i]);
  }
  if (members.empty()) part << "SELECT 0 WHERE 0";
  part << "))";
  clause.test << "r.rid IN (";
  clause.test.Append(part) << ")";
  return clause;
}

Result<Clauses> BuildClauses(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query, std::int64_t type_id) {
  Clauses out;
  if (query.compartment) {
    const search::CompartmentFilter& compartment = *query.compartment;
    CK_ASSIGN_OR_RETURN(Clause clause, compartment.referenced_by.empty()
                                           ? CompartmentClause(db, params, compartment, type_id)
                                           : ReferencedClause(db, types, params, compartment, query.type, type_id));
    const std::string name = compartment.type + "/" + (compartment.id.empty() ? "*" : compartment.id);
    clause.label = compartment.referenced_by.empty() ? "the compartment " + name : "what the compartment " + name + " refers to";
    clause.test_index = out.tests.size();
    out.tests.push_back(clause.test);
    out.labels.push_back(clause.label);
    out.drivers.push_back(std::move(clause));
  }
  auto add_driver = [&out](Clause clause) {
    clause.test_index = out.tests.size();
    Sql test;
    test << "(";
    test.Append(clause.test) << ")";
    out.tests.push_back(std::move(test));
    out.labels.push_back(clause.label);
    out.drivers.push_back(std::move(clause));
  };
  for (const search::Condition& condition : query.all_of) {
    if (condition.chain) {
      CK_ASSIGN_OR_RETURN(Clause clause, ChainClause(db, types, params, condition, query.type, type_id));
      clause.label = std::string(condition.chain->reverse ? "reverse chain _has:" + condition.chain->types[0] + ":" : "chain ") +
                     condition.param->code + " (search_reference, its inner set first)";
      add_driver(std::move(clause));
      continue;
    }
    if (!condition.full_text.empty()) {
      Clause clause = FullTextClause(condition.full_text, type_id);
      clause.label = condition.param->code + " (search_fulltext)";
      add_driver(std::move(clause));
      continue;
    }
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, condition.param->url));
    Clause clause;
    MatchWriter writer(type_id, param_id.value_or(-1), clause);  // no id: no resource has a value
    if (condition.missing) {
      writer.AnyValue(TableFor(condition.param->type));
    } else {
      for (const search::Match& match : condition.any_of) std::visit(writer, match);
      for (const search::CompositeMatch& match : condition.any_composite) {
        CK_ASSIGN_OR_RETURN(std::vector<std::int64_t> ids, CompositeParamIds(db, params, condition.param->url, match.first));
        if (ids.empty()) ids.push_back(-1);  // no resource has a value for that code
        for (std::int64_t id : ids) {
          MatchWriter values(type_id, id, clause);
          if (match.third) {
            values.Pair(std::get<search::NumberMatch>(match.second), *match.third);
          } else {
            std::visit(values, match.second);
          }
        }
      }
    }
    const bool negative = condition.negated || condition.missing.value_or(false);
    Sql test;
    test << (negative ? "NOT (" : "(");
    test.Append(clause.test) << ")";
    clause.test_index = out.tests.size();
    clause.label = condition.param->code + (condition.missing ? ":missing" : condition.negated ? ":not" : "") + " (" +
                   (condition.param->type == fhir::SearchParamType::kComposite ? "composite rows" : TableFor(condition.param->type)) + ")";
    out.tests.push_back(std::move(test));
    out.labels.push_back(clause.label);
    if (!negative && !condition.missing) out.drivers.push_back(std::move(clause));
  }
  return out;
}

// The set of a clause as one SELECT of distinct rids.
Sql DistinctSet(const Clause& clause) {
  Sql sql;
  if (clause.parts.size() == 1) {
    sql << "SELECT DISTINCT" << std::string_view(clause.parts[0].text).substr(6);
    sql.values = clause.parts[0].values;
    return sql;
  }
  for (std::size_t i = 0; i < clause.parts.size(); ++i) {
    if (i > 0) sql << " UNION ";
    sql.Append(clause.parts[i]);
  }
  return sql;
}

// The rids of the resources of `type_name` that meet `condition` (which may chain further), as
// one SELECT; nullopt when no resource of the type was ever stored.
Result<std::optional<Sql>> MatchingSet(Connection& db, NameIds& types, NameIds& params, const std::string& type_name,
                                       const search::Condition& condition) {
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types.Lookup(db, type_name));
  if (!type_id) return std::optional<Sql>();
  search::SearchQuery inner;
  inner.type = type_name;
  inner.all_of = {condition};
  CK_ASSIGN_OR_RETURN(Clauses clauses, BuildClauses(db, types, params, inner, *type_id));
  if (!clauses.drivers.empty()) return std::optional<Sql>(DistinctSet(clauses.drivers[0]));
  Sql set;  // a negative condition (:not, :missing=true): every resource of the type it holds for
  set << "SELECT m.rid FROM resource m WHERE m.type_id = ";
  set.Value(*type_id) << " AND m.deleted = 0 AND ";
  set.Append(OnCandidate(clauses.tests[0], "m.rid"));
  return std::optional<Sql>(std::move(set));
}

// The ids of the resources of `type_id` in `inner`, when there are at most `most`; else nullopt.
Result<std::optional<std::vector<std::string>>> FewTargets(Connection& db, std::int64_t type_id, const Sql& inner, std::size_t most) {
  Sql sql;
  sql << "SELECT t.id FROM resource t WHERE t.type_id = ";
  sql.Value(type_id) << " AND t.rid IN (";
  sql.Append(inner) << ") LIMIT ";
  sql.Value(static_cast<std::int64_t>(most) + 1);
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
  BindAll(*statement, sql.values);
  std::vector<std::string> ids;
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, statement->Step());
    if (!row) break;
    if (ids.size() == most) return std::optional<std::vector<std::string>>();
    ids.emplace_back(statement->Text(0));
  }
  return std::optional<std::vector<std::string>>(std::move(ids));
}

// A forward chain whose inner sets hold at most this many resources is one index range per
// target (see ChainClause).
constexpr std::size_t kFewTargets = 64;

// A chained parameter's clause: the resources whose reference points to a resource meeting the
// inner condition (one part per target type, or per target when there are few); a reverse
// chain's: the resources a resource meeting the inner condition points to.
Result<Clause> ChainClause(Connection& db, NameIds& types, NameIds& params, const search::Condition& condition,
                           const std::string& type_name, std::int64_t type_id) {
  const search::Chain& chain = *condition.chain;
  Clause clause;
  clause.ranged = true;
  bool all_ranges = !chain.reverse;  // every part one index range in rid order
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, condition.param->url));
  for (std::size_t i = 0; param_id && i < chain.types.size(); ++i) {
    CK_ASSIGN_OR_RETURN(std::optional<Sql> inner, MatchingSet(db, types, params, chain.types[i], chain.inner[i]));
    if (!inner) continue;
    if (!clause.test.text.empty()) clause.test << " OR ";
    Sql& part = clause.parts.emplace_back();
    if (chain.reverse) {
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> source_type_id, types.Lookup(db, chain.types[i]));
      part << "SELECT t.rid FROM resource t WHERE t.type_id = ";
      part.Value(type_id) << " AND t.deleted = 0 AND t.id IN (SELECT x.target_id FROM search_reference x WHERE x.type_id = ";
      part.Value(source_type_id.value_or(-1)) << " AND x.param_id = ";
      part.Value(*param_id) << " AND x.url = '' AND x.target_type = ";
      part.Value(type_name) << " AND x.rid IN (";
      part.Append(*inner) << "))";
      clause.test << "r.rid IN (";
      clause.test.Append(part) << ")";
      // Or a canonical reference to the resource's url (any version).
      const search::Param canonical = chain.canonical.empty() ? nullptr : chain.canonical[0];
      if (canonical == nullptr) continue;
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> url_param_id, params.Lookup(db, canonical->url));
      if (!url_param_id) continue;
      Sql& by_url = clause.parts.emplace_back();
      by_url << "SELECT u.rid FROM search_uri u WHERE u.type_id = ";
      by_url.Value(type_id) << " AND u.param_id = ";
      by_url.Value(*url_param_id) << " AND u.uri IN (SELECT x.url FROM search_reference x WHERE x.type_id = ";
      by_url.Value(source_type_id.value_or(-1)) << " AND x.param_id = ";
      by_url.Value(*param_id) << " AND x.url != '' AND x.rid IN (";
      by_url.Append(*inner) << "))";
      clause.test << " OR r.rid IN (";
      clause.test.Append(by_url) << ")";
      continue;
    }
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> target_type_id, types.Lookup(db, chain.types[i]));
    Sql targets;  // the ids of the target type's resources that meet the inner condition
    targets << "x.url = '' AND x.target_type = ";
    targets.Value(chain.types[i]) << " AND x.target_id IN (SELECT t.id FROM resource t WHERE t.type_id = ";
    targets.Value(target_type_id.value_or(-1)) << " AND t.rid IN (";
    targets.Append(*inner) << "))";
    clause.test << "EXISTS (SELECT 1 FROM search_reference x WHERE x.rid = r.rid AND x.param_id = ";
    clause.test.Value(*param_id) << " AND ";
    clause.test.Append(targets) << ")";
    // A few targets (a family name's patients): one index range per target, in rid order, which
    // the planner intersects with the other conditions' ranges (a code) rather than testing each
    // candidate of the largest.
    CK_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> few, FewTargets(db, target_type_id.value_or(-1), *inner, kFewTargets));
    if (few) {
      auto range = [&](Sql& sql, const std::string& id) {
        sql << "SELECT x.rid FROM search_reference x WHERE x.type_id = ";
        sql.Value(type_id) << " AND x.param_id = ";
        sql.Value(*param_id) << " AND x.target_id = ";
        sql.Value(id) << " AND x.url = '' AND x.target_type = ";
        sql.Value(chain.types[i]);
      };
      if (few->empty()) {
        part << "SELECT x.rid FROM search_reference x WHERE 0";
      } else {
        range(part, few->front());
        for (std::size_t k = 1; k < few->size(); ++k) range(clause.parts.emplace_back(), (*few)[k]);
      }
    } else {
      all_ranges = false;
      part << "SELECT x.rid FROM search_reference x WHERE x.type_id = ";
      part.Value(type_id) << " AND x.param_id = ";
      part.Value(*param_id) << " AND ";
      part.Append(targets);
    }
    // A canonical reference names its target by the target's url (any version).
    const search::Param canonical = i < chain.canonical.size() ? chain.canonical[i] : nullptr;
    if (canonical == nullptr) continue;
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> url_param_id, params.Lookup(db, canonical->url));
    if (!url_param_id) continue;
    all_ranges = false;
    Sql urls;
    urls << "x.url IN (SELECT u.uri FROM search_uri u WHERE u.type_id = ";
    urls.Value(target_type_id.value_or(-1)) << " AND u.param_id = ";
    urls.Value(*url_param_id) << " AND u.rid IN (";
    urls.Append(*inner) << "))";
    Sql& by_url = clause.parts.emplace_back();
    by_url << "SELECT x.rid FROM search_reference x WHERE x.type_id = ";
    by_url.Value(type_id) << " AND x.param_id = ";
    by_url.Value(*param_id) << " AND ";
    by_url.Append(urls);
    clause.test << " OR EXISTS (SELECT 1 FROM search_reference x WHERE x.rid = r.rid AND x.param_id = ";
    clause.test.Value(*param_id) << " AND ";
    clause.test.Append(urls) << ")";
  }
  if (clause.parts.empty()) {  // nothing of the types was ever stored, or nothing points through the parameter
    clause.parts.emplace_back() << "SELECT x.rid FROM resource x WHERE 0";
    clause.test << "0";
  }
  clause.ordered = all_ranges;
  return clause;
}

// How many rids a clause's set holds, counted up to `cap`: what the planner compares.
Result<std::int64_t> EstimateSet(Connection& db, const Clause& clause, std::int64_t cap) {
  if (!clause.ranged) return cap;  // counting would read every row of the parameter: taken as large
  Sql sql;
  sql << "SELECT count(*) FROM (";
  if (!clause.estimate.text.empty()) sql.Append(clause.estimate);
  for (std::size_t i = 0; clause.estimate.text.empty() && i < clause.parts.size(); ++i) {
    if (i > 0) sql << " UNION ALL ";
    sql.Append(clause.parts[i]);
  }
  sql << " LIMIT ";
  sql.Value(cap) << ")";
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
  BindAll(*statement, sql.values);
  CK_ASSIGN_OR_RETURN(bool row, statement->Step());
  return row ? statement->Int(0) : 0;
}

// A driving set smaller than this is read whole and its matches sorted; from a larger one the
// search reads in rid order and stops when its page is full, or scans the type's resources.
constexpr std::int64_t kSmallSet = 2000;

// Where a search's candidates come from (docs/design/search.md, the query planner).
struct Plan {
  enum class Drive {
    kScan,          // the type's resources in rid order
    kSmallSet,      // one set read whole (then sorted)
    kOrderedSet,    // one index range in rid order, read until the page is full
    kIntersection,  // the rids common to the sets that come in rid order (rid_intersection.h)
  } drive = Drive::kScan;
  const Clause* driver = nullptr;          // kSmallSet, kOrderedSet
  std::vector<const Clause*> intersected;  // kIntersection
  std::vector<bool> met;                   // per test: met by every candidate, so not tested
  std::vector<std::int64_t> estimates;     // per driver clause, counted up to kSmallSet
};

// Without _sort: from the intersection of the sets that come as index ranges in rid order when
// one of them is about as small as any set, or when the only one is a union of several ranges;
// else from the smallest set if it is one range in rid order (read until the page is full);
// else from the smallest set if it is small or there is a _sort (read whole, then sorted); else,
// without _sort, from the smallest set that is one range in rid order; else scan the type's
// resources in rid order. Every other condition is tested on each candidate.
Result<Plan> ChoosePlan(Connection& db, const Clauses& clauses, const search::SearchQuery& query) {
  Plan plan;
  plan.met.assign(clauses.tests.size(), false);
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::int64_t smallest = kNone, smallest_range = kNone, smallest_in_rid_order = kNone;
  const Clause* range_driver = nullptr;
  // Without _sort, when every set comes in rid order the plan is the same whatever their sizes
  // (their intersection, or the one range): nothing to count but for _explain.
  const bool all_ordered = std::all_of(clauses.drivers.begin(), clauses.drivers.end(), [](const Clause& clause) { return clause.ordered; });
  const bool count_sets = !query.sort.empty() || !all_ordered || query.explain;
  for (const Clause& clause : clauses.drivers) {
    std::int64_t estimate = 0;
    if (count_sets) {
      CK_ASSIGN_OR_RETURN(estimate, EstimateSet(db, clause, kSmallSet));
    }
    plan.estimates.push_back(estimate);
    if (estimate < smallest) {
      smallest = estimate;
      plan.driver = &clause;
    }
    if (clause.OneOrderedRange() && estimate < smallest_range) {
      smallest_range = estimate;
      range_driver = &clause;
    }
    if (clause.ordered) {
      plan.intersected.push_back(&clause);
      smallest_in_rid_order = std::min(smallest_in_rid_order, estimate);
    }
  }
  using Drive = Plan::Drive;
  const bool several_ranges = plan.intersected.size() >= 2 || (plan.intersected.size() == 1 && !plan.intersected[0]->OneOrderedRange());
  if (query.sort.empty() && several_ranges && smallest_in_rid_order <= 2 * smallest) {
    plan.drive = Drive::kIntersection;
    for (const Clause* clause : plan.intersected) plan.met[clause->test_index] = true;
    plan.driver = nullptr;
    return plan;
  }
  plan.intersected.clear();
  if (query.sort.empty() && plan.driver != nullptr && plan.driver->OneOrderedRange()) {
    plan.drive = Drive::kOrderedSet;
  } else if (plan.driver != nullptr && (smallest < kSmallSet || !query.sort.empty())) {
    plan.drive = Drive::kSmallSet;
  } else if (range_driver != nullptr) {
    plan.drive = Drive::kOrderedSet;
    plan.driver = range_driver;
  } else {
    plan.driver = nullptr;
  }
  if (plan.driver != nullptr) plan.met[plan.driver->test_index] = true;
  return plan;
}

// " AND <test>" for each test the plan leaves, on the candidate rid in `rid_column`.
Sql TestsLeft(const Clauses& clauses, const Plan& plan, std::string_view rid_column) {
  Sql sql;
  for (std::size_t i = 0; i < clauses.tests.size(); ++i) {
    if (plan.met[i]) continue;
    sql << " AND ";
    sql.Append(OnCandidate(clauses.tests[i], rid_column));
  }
  return sql;
}

// The intersection's sets, as RidIntersection takes them.
std::vector<std::vector<const Sql*>> IntersectedSets(const Plan& plan) {
  std::vector<std::vector<const Sql*>> sets;
  for (const Clause* clause : plan.intersected) {
    auto& ranges = sets.emplace_back();
    for (const Sql& part : clause->parts) ranges.push_back(&part);
  }
  return sets;
}

// The next rids of an intersection after `after` (which moves along), as a JSON array for
// json_each; at most `limit`, none when it is exhausted.
Result<std::string> NextRids(RidIntersection& walk, std::optional<std::int64_t>& after, std::size_t limit, std::size_t& taken) {
  std::string rids = "[";
  for (taken = 0; taken < limit; ++taken) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> rid, walk.Next(after));
    if (!rid) break;
    after = rid;
    if (taken > 0) rids += ',';
    rids += std::to_string(*rid);
  }
  return rids + "]";
}

Result<std::int64_t> CountOne(Connection& db, const Sql& sql) {
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
  BindAll(*statement, sql.values);
  CK_ASSIGN_OR_RETURN(bool row, statement->Step());
  return row ? statement->Int(0) : 0;
}

// How many resources match. Index rows belong to live resources only (a delete removes its
// resource's rows), so a count from the index never reads the resource table. `by_container`:
// how many containers hold a contained resource that matches (rid >> 20 tells a container's
// contained resources from another's: search_index_rows.h, ContainedRid).
Result<std::int64_t> CountMatches(Connection& db, const Clauses& clauses, const Plan& plan, std::int64_t type_id, bool by_container) {
  using Drive = Plan::Drive;
  const std::string counted = by_container ? "count(DISTINCT " : "count(";
  const std::string per = by_container ? " >> 20)" : ")";
  Sql count;
  switch (plan.drive) {
    case Drive::kScan:
      count << "SELECT " << counted << "r.rid" << per << " FROM " << Candidates(type_id < 0) << " r WHERE r.type_id = ";
      count.Value(type_id) << " AND r.deleted = 0";
      count.Append(TestsLeft(clauses, plan, "r.rid"));
      return CountOne(db, count);
    case Drive::kSmallSet:
      count << "SELECT " << counted << "d.rid" << per << " FROM (";
      count.Append(DistinctSet(*plan.driver)) << ") d WHERE 1";
      count.Append(TestsLeft(clauses, plan, "d.rid"));
      return CountOne(db, count);
    case Drive::kOrderedSet:  // the range holds a resource's rows next to each other
      count << "SELECT count(DISTINCT o.rid" << (by_container ? " >> 20" : "") << ") FROM (";
      count.Append(plan.driver->parts[0]) << ") o WHERE 1";
      count.Append(TestsLeft(clauses, plan, "o.rid"));
      return CountOne(db, count);
    case Drive::kIntersection: break;
  }
  // The intersection comes in rid order: a container's contained resources one after another.
  RidIntersection walk(db, IntersectedSets(plan), /*descending=*/false);
  std::optional<std::int64_t> after;
  std::optional<std::int64_t> last_container;
  std::int64_t total = 0;
  auto add = [&](std::int64_t rid) {
    if (by_container) {
      const std::int64_t container = ContainerOf(rid).first;
      if (container == last_container) return;
      last_container = container;
    }
    ++total;
  };
  const Sql tests = TestsLeft(clauses, plan, "j.value");
  if (tests.text.empty()) {
    while (true) {
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> rid, walk.Next(after));
      if (!rid) return total;
      after = rid;
      add(*rid);
    }
  }
  // Each batch of the intersection's rids that pass the tests: counted in SQL, or for containers
  // read in order.
  Sql batch;
  batch << (by_container ? "SELECT j.value" : "SELECT count(*)") << " FROM json_each(";
  batch.Value(std::string()) << ") j WHERE 1";
  batch.Append(tests);
  if (by_container) batch << " ORDER BY j.value";
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(batch.text));
  while (true) {
    std::size_t taken = 0;
    CK_ASSIGN_OR_RETURN(std::get<std::string>(batch.values[0]), NextRids(walk, after, 512, taken));
    if (taken == 0) return total;
    statement->Reset();
    BindAll(*statement, batch.values);
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) break;
      if (by_container) {
        add(statement->Int(0));
      } else {
        total += statement->Int(0);
      }
    }
  }
}

// One search of one type, set up: the type's id (negated for contained resources), its
// conditions and the plan that meets them.
struct PreparedSearch {
  std::int64_t type_id = 0;
  bool contained = false;
  // A contained match stands for its container unless it is answered alone: each container
  // once, its contained resources (consecutive rids) skipped together.
  bool by_container = false;
  Clauses clauses;
  Plan plan;  // points into `clauses`
};

// Sets `query` up in the open read transaction; nullopt when no resource of its type was ever
// stored (nothing can match).
Result<std::optional<PreparedSearch>> Prepare(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query) {
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types.Lookup(db, query.type));
  if (!type_id) return std::optional<PreparedSearch>();
  std::optional<PreparedSearch> prepared(std::in_place);
  // Contained resources are indexed under their type's negated id (schema_v7.sql).
  prepared->contained = query.contained == search::ContainedMode::kOnly;
  prepared->type_id = prepared->contained ? -*type_id : *type_id;
  prepared->by_container = prepared->contained && !query.contained_alone;
  CK_ASSIGN_OR_RETURN(prepared->clauses, BuildClauses(db, types, params, query, prepared->type_id));
  CK_ASSIGN_OR_RETURN(prepared->plan, ChoosePlan(db, prepared->clauses, query));
  return prepared;
}

// A match with its sort values and its positions: for the page after it and for the page
// before it (the same but for a container, whose contained resources all lie between the two).
struct Match {
  Found found;
  std::vector<std::optional<Bound>> keys;
  std::string after;
  std::string before;
};

// The matches of one page, in the page's reading order (reversed going backward).
struct PageRows {
  std::vector<Match> matches;
  bool beyond = false;  // a match past the page
  Sql query;            // the SELECT that read them (for _explain)
};

// Reads up to `count` matches of `search` after (or, `backward`, before) the decoded `cursor`
// (empty: from the start): ordered by the sort keys (resources without a value last), then by
// rid; the cursor picks up after the last match of the page before, by the same keys.
Result<PageRows> ReadMatches(Connection& db, NameIds& params, const search::SearchQuery& query, const PreparedSearch& search,
                             const std::vector<std::optional<Bound>>& cursor, bool backward, std::size_t count) {
  const Plan& plan = search.plan;
  const std::int64_t type_id = search.type_id;
  const bool contained = search.contained;
  using Drive = Plan::Drive;
  Sql source;  // where the candidates `r` come from
  std::string rid_column = "r.rid";  // the candidate's rid, before the join with its resource
  switch (plan.drive) {
    case Drive::kScan:
      source << Candidates(contained) << " r";
      break;
    case Drive::kSmallSet:
      source << "(";
      source.Append(DistinctSet(*plan.driver)) << ") d CROSS JOIN " << Candidates(contained) << " r ON r.type_id = ";
      source.Value(type_id) << " AND r.rid = +d.rid";  // `+`: see kOrderedSet
      rid_column = "d.rid";
      break;
    case Drive::kOrderedSet:
      // The one index range, joined row by row in its order (a resource with a value twice
      // comes twice, next to each other: skipped below).
      source << "(";
      source.Append(plan.driver->parts[0]) << ") o CROSS JOIN " << Candidates(contained) << " r ON r.type_id = ";
      // `+o.rid`: without it SQLite carries a cursor's `o.rid > ?` over to `r.rid > ?` and reads
      // the resource table as a range (every later resource of the type) for each candidate
      // instead of looking the candidate up: page 2 of a compartment took 10 s at 1 M resources.
      source.Value(type_id) << " AND r.rid = +o.rid";
      rid_column = "o.rid";
      break;
    case Drive::kIntersection:  // a batch of the intersection's rids at a time
      source << "json_each(";
      source.Value(std::string()) << ") j CROSS JOIN " << Candidates(contained) << " r ON r.type_id = ";
      source.Value(type_id) << " AND r.rid = j.value";
      rid_column = "j.value";
      break;
  }
  std::vector<std::int64_t> sort_params;
  for (const search::SortKey& key : query.sort) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, key.param->url));
    sort_params.push_back(param_id.value_or(-1));
  }
  Sql keys;
  for (std::size_t i = 0; i < query.sort.size(); ++i) {
    keys << ", ";
    SortExpression(keys, query.sort[i], sort_params[i], contained);
    keys << " AS k" << std::to_string(i);
  }
  // Plans that sort (kScan, kSmallSet) first pick the page's rids by their keys, then read the
  // versions of those alone: a sort that carried every candidate's body would read all of them.
  const bool sorted = plan.drive == Drive::kScan || plan.drive == Drive::kSmallSet;
  Sql select;
  if (sorted) {
    select << "SELECT r.rid AS rid, r.seq AS seq";
    select.Append(keys) << " FROM ";
    select.Append(source) << " ";
  } else {
    select = SelectVersions(source, keys);
  }
  select << "WHERE r.deleted = 0";
  if (plan.drive == Drive::kScan) {
    select << " AND r.type_id = ";
    select.Value(type_id);
  }
  select.Append(TestsLeft(search.clauses, plan, rid_column));
  if (!cursor.empty() && plan.drive != Drive::kIntersection) {  // the intersection starts after it
    // After the cursor: for some key j, equal on the keys before it and after it on key j; or
    // equal on all keys and a greater rid. Nothing sorts after a missing value but a later rid.
    // Before it: the mirror image.
    select << " AND (";
    for (std::size_t j = 0; j <= query.sort.size(); ++j) {
      if (j > 0) select << " OR ";
      select << "(1";
      for (std::size_t i = 0; i < j; ++i) {
        select << " AND k" << std::to_string(i);
        if (cursor[i]) {
          select << " = ";
          select.Value(*cursor[i]);
        } else {
          select << " IS NULL";
        }
      }
      const std::string k = "k" + std::to_string(j);
      if (j == query.sort.size()) {
        select << " AND " << rid_column << (backward ? " < " : " > ");
        select.Value(*cursor.back());
      } else if (!cursor[j]) {
        select << (backward ? " AND " + k + " IS NOT NULL" : std::string(" AND 0"));
      } else if (backward) {
        select << " AND " << k << (query.sort[j].descending ? " > " : " < ");
        select.Value(*cursor[j]);
      } else {
        select << " AND (" << k << (query.sort[j].descending ? " < " : " > ");
        select.Value(*cursor[j]) << " OR " << k << " IS NULL)";
      }
      select << ")";
    }
    select << ")";
  }
  // By the keys (missing values last), then the rid; all reversed going backward.
  auto order_by = [&](Sql& sql, std::string_view keys_of, std::string_view rid) {
    sql << " ORDER BY ";
    for (std::size_t i = 0; i < query.sort.size(); ++i) {
      const std::string k = std::string(keys_of) + "k" + std::to_string(i);
      sql << k << (backward ? " IS NULL DESC, " : " IS NULL, ") << k << (query.sort[i].descending != backward ? " DESC, " : ", ");
    }
    sql << rid << (backward ? " DESC" : "");
  };
  order_by(select, "", rid_column);
  if (sorted) {  // the others end with the page, unsorted
    select << " LIMIT ";
    select.Value(static_cast<std::int64_t>(count) + 1);
    Sql page_keys;
    for (std::size_t i = 0; i < query.sort.size(); ++i) page_keys << ", s.k" << std::to_string(i);
    Sql versions;
    versions << "SELECT " << kVersionColumns << ", s.rid";
    versions.Append(page_keys) << " FROM (";
    versions.Append(select) << ") s JOIN resource_version v ON v.seq = s.seq" << kVersionJoins;
    order_by(versions, "s.", "s.rid");
    select = std::move(versions);
  }
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(select.text));
  const int first_key_column = kVersionColumnCount + 1;  // after the version's columns and the rid
  PageRows rows;
  if (query.explain) rows.query = select;
  std::set<std::int64_t> containers;  // by_container: the containers on the page
  std::vector<Bound> sort_values(query.sort.size());
  std::vector<bool> nulls(query.sort.size());
  // Takes the statement's rows as matches until the page is full (then `beyond`).
  auto take_rows = [&]() -> Status {
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, statement->Step());
      if (!row) return Status::Ok();
      const std::int64_t rid = statement->Int(kVersionColumnCount);
      if (!rows.matches.empty() && rows.matches.back().found.rid == rid) continue;  // the same resource again (kOrderedSet)
      if (search.by_container && containers.contains(ContainerOf(rid).first)) continue;
      if (rows.matches.size() == count) {
        rows.beyond = true;
        return Status::Ok();
      }
      Match match;
      for (std::size_t i = 0; i < query.sort.size(); ++i) {
        const int column = first_key_column + static_cast<int>(i);
        const int type = statement->ColumnType(column);
        nulls[i] = type == SQLITE_NULL;
        if (type == SQLITE_INTEGER) {
          sort_values[i] = statement->Int(column);
        } else if (type == SQLITE_FLOAT) {
          sort_values[i] = statement->Double(column);
        } else {
          sort_values[i] = std::string(statement->Text(column));
        }
        match.keys.push_back(nulls[i] ? std::nullopt : std::optional<Bound>(sort_values[i]));
      }
      CK_ASSIGN_OR_RETURN(match.found, ReadFound(*statement));
      if (search.by_container) {
        const std::int64_t container = ContainerOf(rid).first;
        containers.insert(container);
        match.after = EncodeCursor(sort_values, nulls, ContainedRid(container, kMaxContained - 1));
        match.before = EncodeCursor(sort_values, nulls, ContainedRid(container, 0));
      } else {
        match.after = EncodeCursor(sort_values, nulls, rid);
        match.before = match.after;
      }
      rows.matches.push_back(std::move(match));
    }
  };
  if (plan.drive != Drive::kIntersection) {
    BindAll(*statement, select.values);
    CK_RETURN_IF_ERROR(take_rows());
  } else {
    RidIntersection walk(db, IntersectedSets(plan), backward);
    std::optional<std::int64_t> after;
    if (!cursor.empty()) after = std::get<std::int64_t>(*cursor.back());
    // Batches a little larger than what the page still needs: some candidates fail the tests.
    while (!rows.beyond) {
      std::size_t taken = 0;
      const std::size_t wanted = std::max<std::size_t>(count + 1 - rows.matches.size(), 8);
      CK_ASSIGN_OR_RETURN(std::get<std::string>(select.values[0]), NextRids(walk, after, wanted, taken));
      if (taken == 0) break;
      statement->Reset();
      BindAll(*statement, select.values);
      CK_RETURN_IF_ERROR(take_rows());
    }
  }
  statement->Reset();
  return rows;
}

// Opens a read transaction (one snapshot for the plan, the count and the page) and ends it; in
// a transaction already open (a write's), uses that one.
class ReadSnapshot {
 public:
  static Result<ReadSnapshot> Begin(Connection& db) {
    if (!db.InAutocommit()) return ReadSnapshot(nullptr);
    CK_RETURN_IF_ERROR(db.Execute("BEGIN"));
    return ReadSnapshot(&db);
  }
  ReadSnapshot(ReadSnapshot&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ReadSnapshot& operator=(ReadSnapshot&&) = delete;
  ~ReadSnapshot() {
    if (db_ != nullptr) (void)db_->Execute("COMMIT");
  }

 private:
  explicit ReadSnapshot(Connection* db) : db_(db) {}
  Connection* db_;
};

// Orders sort values as SQLite does (numbers before text, text bytewise), missing ones last
// whatever the direction: <0, 0 or >0.
int CompareKeys(const std::vector<search::SortKey>& sort, const std::vector<std::optional<Bound>>& a,
                const std::vector<std::optional<Bound>>& b) {
  auto number = [](const Bound& value) {
    return std::holds_alternative<double>(value) ? std::get<double>(value) : static_cast<double>(std::get<std::int64_t>(value));
  };
  for (std::size_t i = 0; i < sort.size(); ++i) {
    if (!a[i] || !b[i]) {
      if (a[i].has_value() != b[i].has_value()) return a[i] ? -1 : 1;
      continue;
    }
    const bool a_text = std::holds_alternative<std::string>(*a[i]);
    const bool b_text = std::holds_alternative<std::string>(*b[i]);
    int order = 0;
    if (a_text != b_text) {
      order = a_text ? 1 : -1;
    } else if (a_text) {
      order = std::get<std::string>(*a[i]).compare(std::get<std::string>(*b[i]));
    } else if (std::holds_alternative<std::int64_t>(*a[i]) && std::holds_alternative<std::int64_t>(*b[i])) {
      order = std::get<std::int64_t>(*a[i]) < std::get<std::int64_t>(*b[i]) ? -1 : std::get<std::int64_t>(*a[i]) > std::get<std::int64_t>(*b[i]);
    } else {
      order = number(*a[i]) < number(*b[i]) ? -1 : number(*a[i]) > number(*b[i]);
    }
    if (order != 0) return sort[i].descending ? -order : order;
  }
  return 0;
}

}  // namespace

// _explain: the plan chosen and what drove it, each condition with its estimated rows (as the
// planner counted them, up to kSmallSet) and its actual rows (counted whole, here), SQLite's own
// plan of the query that read the page, and the time the search took.
Result<std::vector<std::string>> Explain(Connection& db, const PreparedSearch& search, const PageRows& rows, double milliseconds) {
  const Plan& plan = search.plan;
  const Clauses& clauses = search.clauses;
  static constexpr const char* kDrives[] = {
      "a scan of the type's resources in creation order, each candidate tested",
      "a small set read whole, its matches then ordered",
      "one index range in creation order, read until the page is full",
      "the intersection of index ranges in creation order (seeking from one to the next)",
  };
  std::vector<std::string> lines;
  std::string line = std::string("plan: ") + kDrives[static_cast<int>(plan.drive)];
  if (plan.driver != nullptr) line += ", from " + plan.driver->label;
  lines.push_back(std::move(line));
  std::vector<bool> drives(clauses.tests.size(), false);
  for (std::size_t i = 0; i < clauses.drivers.size(); ++i) {
    const Clause& clause = clauses.drivers[i];
    drives[clause.test_index] = true;
    Sql count;
    count << "SELECT count(*) FROM (";
    count.Append(DistinctSet(clause)) << ")";
    CK_ASSIGN_OR_RETURN(std::int64_t actual, CountOne(db, count));
    const bool intersected = std::find(plan.intersected.begin(), plan.intersected.end(), &clause) != plan.intersected.end();
    const std::int64_t estimate = plan.estimates[i];
    lines.push_back("condition " + clause.label + ": estimated " +
                    (estimate >= kSmallSet ? std::to_string(kSmallSet) + " or more" : std::to_string(estimate)) + " rows, actual " +
                    std::to_string(actual) + "; " +
                    (&clause == plan.driver ? "drives the search" : intersected ? "intersected" : "tested on each candidate"));
  }
  for (std::size_t i = 0; i < clauses.tests.size(); ++i) {
    if (!drives[i]) lines.push_back("condition " + clauses.labels[i] + ": tested on each candidate (it cannot drive)");
  }
  if (!rows.query.text.empty()) {
    CK_ASSIGN_OR_RETURN(ScopedStatement explained, db.Prepare("EXPLAIN QUERY PLAN " + rows.query.text));
    BindAll(*explained, rows.query.values);
    std::string steps;
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, explained->Step());
      if (!row) break;
      steps += (steps.empty() ? "" : "; ") + std::string(explained->Text(3));
    }
    lines.push_back("SQLite: " + steps);
  }
  char time[64];
  std::snprintf(time, sizeof time, "%.2f ms", milliseconds);
  lines.push_back("page: " + std::to_string(rows.matches.size()) + " matches" + (rows.beyond ? " and more" : "") + " in " + time);
  return lines;
}

Result<SearchPage> RunSearch(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query) {
  const auto started = std::chrono::steady_clock::now();
  SearchPage page;
  CK_ASSIGN_OR_RETURN(ReadSnapshot snapshot, ReadSnapshot::Begin(db));
  CK_ASSIGN_OR_RETURN(std::optional<PreparedSearch> search, Prepare(db, types, params, query));
  if (!search) {
    if (query.want_total) page.total = 0;
    if (query.explain) page.explanation.push_back("plan: none (no " + query.type + " was ever stored, so nothing can match)");
    return page;
  }
  if (query.want_total) {
    CK_ASSIGN_OR_RETURN(page.total, CountMatches(db, search->clauses, search->plan, search->type_id, search->by_container));
  }
  if (query.total_only) {
    if (query.explain) {
      const double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      CK_ASSIGN_OR_RETURN(page.explanation, Explain(db, *search, PageRows{}, milliseconds));
    }
    return page;
  }
  // A cursor "b<position>" asks for the page before the position (a previous link): the same
  // order reversed, then the page turned back around.
  const bool backward = query.cursor.starts_with('b');
  std::vector<std::optional<Bound>> cursor;
  if (!query.cursor.empty()) {
    CK_ASSIGN_OR_RETURN(cursor, DecodeCursor(std::string_view(query.cursor).substr(backward ? 1 : 0), query.sort.size()));
  }
  CK_ASSIGN_OR_RETURN(PageRows rows, ReadMatches(db, params, query, *search, cursor, backward, query.count));
  if (query.explain) {
    const double milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    CK_ASSIGN_OR_RETURN(page.explanation, Explain(db, *search, rows, milliseconds));
  }
  if (backward) std::reverse(rows.matches.begin(), rows.matches.end());
  // Next: after the last match, when more follow (going back, the cursor's own match follows).
  // Previous: before the first, when the page did not start the search. (A page back with
  // nothing before it has neither: the first link starts over.)
  if (!rows.matches.empty()) {
    if (backward || rows.beyond) page.next_cursor = rows.matches.back().after;
    if (backward ? rows.beyond : !query.cursor.empty()) page.previous_cursor = "b" + rows.matches.front().before;
  }
  page.more = !page.next_cursor.empty();
  std::vector<Found> matches;
  for (Match& match : rows.matches) {
    page.versions.push_back(match.found.version);
    if (search->contained) page.contained_positions.push_back(ContainerOf(match.found.rid).second);
    matches.push_back(std::move(match.found));
  }
  CK_RETURN_IF_ERROR(AddIncluded(db, types, params, query, std::move(matches), page));
  return page;
}

Result<SearchPage> RunMergedSearch(Connection& db, NameIds& types, NameIds& params, const std::vector<search::SearchQuery>& parts,
                                   std::string_view cursor) {
  SearchPage page;
  if (parts.empty()) return page;
  const search::SearchQuery& first = parts.front();
  // The cursor: "<part>.<position>", the part and position of the last match of the page before.
  std::size_t last_part = 0;
  std::vector<std::optional<Bound>> position;
  if (!cursor.empty()) {
    const std::size_t dot = cursor.find('.');
    auto [end, error] = std::from_chars(cursor.data(), cursor.data() + std::min(dot, cursor.size()), last_part);
    if (dot == std::string_view::npos || error != std::errc() || end != cursor.data() + dot || last_part >= parts.size()) {
      return Err(Status::Invalid("_cursor: not a cursor this server made (take the next link as it is)"));
    }
    CK_ASSIGN_OR_RETURN(position, DecodeCursor(cursor.substr(dot + 1), first.sort.size()));
  }
  if (first.want_total) page.total = 0;
  CK_ASSIGN_OR_RETURN(ReadSnapshot snapshot, ReadSnapshot::Begin(db));
  struct PartMatch {
    std::size_t part;
    Match match;
  };
  std::vector<PartMatch> merged;
  std::vector<std::optional<PreparedSearch>> searches;
  bool beyond = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CK_ASSIGN_OR_RETURN(searches.emplace_back(), Prepare(db, types, params, parts[i]));
    const std::optional<PreparedSearch>& search = searches.back();
    if (!search) continue;
    if (first.want_total) {
      CK_ASSIGN_OR_RETURN(std::int64_t total, CountMatches(db, search->clauses, search->plan, search->type_id, search->by_container));
      *page.total += total;
    }
    if (first.total_only) continue;
    // Ties on the sort values go by part: a part before the last match's has given all its
    // matches with those values, a part after it none.
    std::vector<std::optional<Bound>> part_cursor = position;
    if (!part_cursor.empty() && i != last_part) {
      part_cursor.back() = i < last_part ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    }
    CK_ASSIGN_OR_RETURN(PageRows rows, ReadMatches(db, params, parts[i], *search, part_cursor, false, first.count));
    beyond = beyond || rows.beyond;
    for (Match& match : rows.matches) merged.push_back({i, std::move(match)});
  }
  if (first.total_only) return page;
  std::stable_sort(merged.begin(), merged.end(), [&](const PartMatch& a, const PartMatch& b) {
    const int order = CompareKeys(first.sort, a.match.keys, b.match.keys);
    return order != 0 ? order < 0 : a.part < b.part;
  });
  if (merged.size() > first.count) {
    merged.resize(first.count);
    beyond = true;
  }
  if (beyond && !merged.empty()) {
    page.next_cursor = std::to_string(merged.back().part) + "." + merged.back().match.after;
    page.more = true;
  }
  const bool any_contained = std::any_of(searches.begin(), searches.end(), [](const auto& search) { return search && search->contained; });
  for (const PartMatch& item : merged) {
    page.versions.push_back(item.match.found.version);
    if (!any_contained) continue;
    page.contained_positions.push_back(searches[item.part]->contained ? std::optional<std::size_t>(ContainerOf(item.match.found.rid).second)
                                                                       : std::nullopt);
  }
  // What each part's matches on the page include.
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::vector<Found> found;
    for (const PartMatch& item : merged) {
      if (item.part == i) found.push_back(item.match.found);
    }
    if (!found.empty()) CK_RETURN_IF_ERROR(AddIncluded(db, types, params, parts[i], std::move(found), page));
  }
  return page;
}

// One seek of search_reference's key per member parameter, then one of its by-rid index per
// member found (the rows of a resource's references, target type in the key: no table read).
Result<CompartmentReach> RunReach(Connection& db, NameIds& types, NameIds& params, const search::CompartmentFilter& compartment) {
  CompartmentReach reach;
  CK_ASSIGN_OR_RETURN(ReadSnapshot snapshot, ReadSnapshot::Begin(db));
  std::vector<std::int64_t> rids;
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> compartment_type_id, types.Lookup(db, compartment.type));
  if (compartment_type_id) {
    CK_ASSIGN_OR_RETURN(ScopedStatement itself, db.Prepare("SELECT rid FROM resource WHERE type_id = ? AND id = ? AND deleted = 0"));
    itself->Bind(1, *compartment_type_id).Bind(2, compartment.id);
    CK_ASSIGN_OR_RETURN(bool row, itself->Step());
    if (row) rids.push_back(itself->Int(0));
  }
  CK_ASSIGN_OR_RETURN(ScopedStatement members, db.Prepare("SELECT rid FROM search_reference WHERE type_id = ? AND param_id = ? AND "
                                                          "target_id = ? AND url = '' AND target_type = ?"));
  for (const search::CompartmentFilter::Members& of_type : compartment.referenced_by) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types.Lookup(db, of_type.type));
    if (!type_id) continue;
    search::CompartmentFilter::Members found{of_type.type, {}};
    for (search::Param param : of_type.params) {
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, param->url));
      if (!param_id) continue;
      members->Bind(1, *type_id).Bind(2, *param_id).Bind(3, compartment.id).Bind(4, compartment.type);
      const std::size_t before = rids.size();
      while (true) {
        CK_ASSIGN_OR_RETURN(bool row, members->Step());
        if (!row) break;
        rids.push_back(members->Int(0));
      }
      members->Reset();
      if (rids.size() > before) found.params.push_back(param);
    }
    if (!found.params.empty()) reach.members.push_back(std::move(found));
  }
  std::sort(rids.begin(), rids.end());
  rids.erase(std::unique(rids.begin(), rids.end()), rids.end());
  CK_ASSIGN_OR_RETURN(ScopedStatement targets, db.Prepare("SELECT target_type, target_id FROM search_reference WHERE rid = ? AND url = ''"));
  std::map<std::string, std::set<std::string>> referenced;
  for (std::int64_t rid : rids) {
    targets->Bind(1, rid);
    while (true) {
      CK_ASSIGN_OR_RETURN(bool row, targets->Step());
      if (!row) break;
      referenced[std::string(targets->Text(0))].emplace(targets->Text(1));
    }
    targets->Reset();
  }
  for (auto& [type, ids] : referenced) reach.referenced[type].assign(ids.begin(), ids.end());
  return reach;
}

}  // namespace ck::store::sqlite
