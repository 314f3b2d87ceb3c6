#include "store/sqlite/sqlite_search.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <variant>

#include "store/sqlite/version_rows.h"
#include "util/time.h"

namespace ck::store::sqlite {
namespace {

using search::Prefix;
using Bound = std::variant<std::int64_t, double, std::string>;

// SQL text and the values its placeholders take, in order.
struct Sql {
  std::string text;
  std::vector<Bound> values;

  Sql& operator<<(std::string_view part) {
    text += part;
    return *this;
  }
  Sql& Value(Bound value) {
    text += '?';
    values.push_back(std::move(value));
    return *this;
  }
};

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

// The test of a prefix on an indexed interval [low, high) against the searched one: eq, ne and
// ap compare intervals (eq: the searched interval holds the indexed one). For dates the order
// prefixes compare intervals too (gt: some of the indexed period is after the searched one); for
// numbers and quantities they compare values (`point`: the indexed value), as people read
// "value-quantity=gt5" (5.4 is greater than 5, though within 5's precision).
template <typename T>
void Range(Sql& sql, Prefix prefix, T low, T high, T value, T approximate, const char* point) {
  auto within = [&] {
    sql << "(x.low >= ";
    sql.Value(low) << " AND x.high <= ";
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
    case Prefix::kGt: case Prefix::kSa: compare(prefix == Prefix::kSa ? "x.low" : "x.high", prefix == Prefix::kSa ? " >= " : " > ", high); return;
    case Prefix::kLt: case Prefix::kEb: compare(prefix == Prefix::kEb ? "x.high" : "x.low", prefix == Prefix::kEb ? " <= " : " < ", low); return;
    case Prefix::kGe: sql << "("; compare("x.high", " >= ", high); sql << " OR "; within(); sql << ")"; return;
    case Prefix::kLe: sql << "("; compare("x.low", " <= ", low); sql << " OR "; within(); sql << ")"; return;
    case Prefix::kAp:  // overlaps the searched interval widened by `approximate` either side
      sql << "(x.low < ";
      sql.Value(high + approximate) << " AND x.high > ";
      sql.Value(low - approximate) << ")";
      return;
  }
}

class ConditionWriter {
 public:
  // " AND <column> starts with <prefix>", as an index range.
  void StartsWith(const char* column, const std::string& prefix) {
    sql_ << " AND " << column << " >= ";
    sql_.Value(prefix) << " AND " << column << " < ";
    sql_.Value(PrefixEnd(prefix));
  }

  ConditionWriter(Sql& sql, std::int64_t type_id, std::int64_t param_id) : sql_(sql), type_id_(type_id), param_id_(param_id) {}

  // "r.seq IN (SELECT seq FROM table x WHERE type and parameter AND <predicate>)".
  template <typename Predicate>
  void In(const char* table, Predicate predicate) {
    sql_ << "r.seq IN (SELECT x.seq FROM " << table << " x WHERE x.type_id = ";
    sql_.Value(type_id_) << " AND x.param_id = ";
    sql_.Value(param_id_);
    predicate();
    sql_ << ")";
  }

  void operator()(const search::TokenMatch& m) {
    In("search_token", [&] {
      if (m.code) {
        sql_ << " AND x.code = ";
        sql_.Value(*m.code);
      }
      if (m.system) {
        sql_ << " AND x.system = ";
        sql_.Value(*m.system);
      }
    });
  }
  void operator()(const search::IdentifierTypeMatch& m) {
    In("search_identifier_type", [&] {
      sql_ << " AND x.type_code = ";
      sql_.Value(m.type_code) << " AND x.type_system = ";
      sql_.Value(m.type_system) << " AND x.value = ";
      sql_.Value(m.value);
    });
  }
  void operator()(const search::StringMatch& m) {
    In("search_string", [&] {
      switch (m.mode) {
        case search::StringMatch::Mode::kStartsWith:
          StartsWith("x.normalized", m.value);
          return;
        case search::StringMatch::Mode::kContains:
          sql_ << " AND instr(x.normalized, ";
          sql_.Value(m.value) << ") > 0";
          return;
        case search::StringMatch::Mode::kExact:
          sql_ << " AND x.exact = ";
          sql_.Value(m.value);
          return;
      }
    });
  }
  void operator()(const search::DateMatch& m) {
    // ap: within a tenth of the time between now and the value, either side.
    const Millis now = SystemClock().Now();
    const Millis approximate = std::llabs(now - m.low) / 10;
    In("search_date", [&] {
      sql_ << " AND ";
      Range<std::int64_t>(sql_, m.prefix, m.low, m.high, m.low, approximate, nullptr);
    });
  }
  void Number(const search::NumberMatch& m, const char* point) {
    sql_ << " AND ";
    Range<double>(sql_, m.prefix, m.low, m.high, m.value, std::fabs(m.value) / 10, point);
  }
  void operator()(const search::NumberMatch& m) {
    In("search_number", [&] { Number(m, "x.value"); });
  }
  void operator()(const search::QuantityMatch& m) {
    if (m.canonical_unit) {
      In("search_quantity_canonical", [&] {
        sql_ << " AND x.unit = ";
        sql_.Value(*m.canonical_unit);
        Number(m.number, "((x.low + x.high) / 2)");
      });
      return;
    }
    In("search_quantity", [&] {
      if (m.code) {
        sql_ << " AND x.code = ";
        sql_.Value(*m.code);
      }
      if (m.system) {
        sql_ << " AND x.system = ";
        sql_.Value(*m.system);
      }
      Number(m.number, "x.value");
    });
  }
  void operator()(const search::ReferenceMatch& m) {
    In("search_reference", [&] {
      if (!m.url.empty()) {
        sql_ << " AND x.url = ";
        sql_.Value(m.url);
        return;
      }
      if (!m.type.empty()) {
        sql_ << " AND x.target_type = ";
        sql_.Value(m.type);
      }
      sql_ << " AND x.target_id = ";
      sql_.Value(m.id);
    });
  }
  void operator()(const search::UriMatch& m) {
    In("search_uri", [&] {
      switch (m.mode) {
        case search::UriMatch::Mode::kEqual:
          sql_ << " AND x.uri = ";
          sql_.Value(m.value);
          return;
        case search::UriMatch::Mode::kBelow:
          StartsWith("x.uri", m.value);
          return;
        case search::UriMatch::Mode::kAbove:
          sql_ << " AND substr(";
          sql_.Value(m.value) << ", 1, length(x.uri)) = x.uri";
          return;
      }
    });
  }

 private:
  Sql& sql_;
  const std::int64_t type_id_;
  const std::int64_t param_id_;
};

// The value a resource sorts by for a _sort key (search/search_query.h): the least of its values
// for ascending, the greatest for descending; NULL without one.
void SortExpression(Sql& sql, const search::SortKey& key, std::int64_t param_id) {
  if (key.param == nullptr) {
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
  sql << "(SELECT " << aggregate << "(" << column << ") FROM " << table << " x WHERE x.seq = r.seq AND x.param_id = ";
  sql.Value(param_id) << ")";
}

// A cursor: the sort values of the last match of a page, then its id, each as "n;" (none),
// "i<integer>;", "r<real>;" or "s<length>:<text>" (the id last, always text). An id alone when
// the order is by id only.
std::string EncodeCursor(const std::vector<Bound>& keys, const std::vector<bool>& nulls, const std::string& id) {
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
  return out + "s" + std::to_string(id.size()) + ":" + id;
}

// The values of a cursor (nullopt entries for "n;"), the id last. Errors: kInvalid.
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
      if (kind == 'i') {
        long long value = std::strtoll(number.c_str(), &rest, 10);
        out.emplace_back(Bound(static_cast<std::int64_t>(value)));
      } else {
        out.emplace_back(Bound(std::strtod(number.c_str(), &rest)));
      }
      if (number.empty() || *rest != '\0') return bad();
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
  if (out.size() != keys + 1 || !out.back() || !std::holds_alternative<std::string>(*out.back())) return bad();
  return out;
}

Status BindAll(Statement& statement, const std::vector<Bound>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    if (const auto* integer = std::get_if<std::int64_t>(&values[i])) {
      statement.Bind(index, *integer);
    } else if (const auto* real = std::get_if<double>(&values[i])) {
      statement.BindDouble(index, *real);
    } else {
      statement.Bind(index, std::get<std::string>(values[i]));
    }
  }
  return Status::Ok();
}

// Reads the versions a statement selects (with kSelectVersionColumns) that are new to `seen`
// into `out`, up to search::kMaxIncluded in all; false when the cap stopped it.
Result<bool> CollectNew(Statement& statement, std::set<std::int64_t>& seen, std::vector<StoredVersion>& out, std::size_t& total) {
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return true;
    if (seen.contains(statement.Int(0))) continue;
    if (total >= search::kMaxIncluded) return false;
    CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(statement));
    seen.insert(version.sequence);
    out.push_back(std::move(version));
    ++total;
  }
}

// The _include and _revinclude resources of the page's matches, and with :iterate of what they
// bring in turn, each once. Index rows belong to current versions only, so what they lead to is
// current.
Status AddIncluded(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query, SearchPage& page) {
  std::set<std::int64_t> seen;
  for (const StoredVersion& version : page.versions) seen.insert(version.sequence);
  std::vector<StoredVersion> frontier = page.versions;
  std::size_t total = 0;
  for (bool first_round = true; !frontier.empty(); first_round = false) {
    std::vector<StoredVersion> found;
    for (const search::Include& include : query.includes) {
      if (!first_round && !include.iterate) continue;
      std::optional<std::int64_t> param_id;
      if (include.param != nullptr) {
        CK_ASSIGN_OR_RETURN(param_id, params.Lookup(db, include.param->url));
        if (!param_id) continue;
      }
      for (const StoredVersion& source : frontier) {
        if (source.type != include.source_type) continue;
        Sql sql;
        sql << std::string(kSelectVersionColumns) << "JOIN resource r ON r.seq = v.seq JOIN resource_type tt ON tt.type_id = r.type_id "
            << "JOIN search_reference x ON x.target_type = tt.name AND x.target_id = r.id WHERE x.seq = ";
        sql.Value(source.sequence) << " AND r.deleted = 0";
        if (param_id) {
          sql << " AND x.param_id = ";
          sql.Value(*param_id);
        }
        if (!include.target_type.empty()) {
          sql << " AND x.target_type = ";
          sql.Value(include.target_type);
        }
        CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
        CK_RETURN_IF_ERROR(BindAll(*statement, sql.values));
        CK_ASSIGN_OR_RETURN(bool complete, CollectNew(*statement, seen, found, total));
        if (!complete) page.included_capped = true;
      }
    }
    for (const search::Include& include : query.revincludes) {
      if (!first_round && !include.iterate) continue;
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> source_type_id, types.Lookup(db, include.source_type));
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, include.param->url));
      if (!source_type_id || !param_id) continue;
      for (const StoredVersion& target : frontier) {
        if (!include.target_type.empty() && include.target_type != target.type) continue;
        Sql sql;
        sql << std::string(kSelectVersionColumns) << "WHERE v.seq IN (SELECT x.seq FROM search_reference x WHERE x.type_id = ";
        sql.Value(*source_type_id) << " AND x.param_id = ";
        sql.Value(*param_id) << " AND x.target_type = ";
        sql.Value(target.type) << " AND x.target_id = ";
        sql.Value(target.id) << ")";
        CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(sql.text));
        CK_RETURN_IF_ERROR(BindAll(*statement, sql.values));
        CK_ASSIGN_OR_RETURN(bool complete, CollectNew(*statement, seen, found, total));
        if (!complete) page.included_capped = true;
      }
    }
    page.included.insert(page.included.end(), found.begin(), found.end());
    if (page.included_capped) break;
    frontier = std::move(found);
  }
  return Status::Ok();
}

}  // namespace

Result<SearchPage> RunSearch(Connection& db, NameIds& types, NameIds& params, const search::SearchQuery& query) {
  SearchPage page;
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, types.Lookup(db, query.type));
  if (!type_id) {
    if (query.want_total) page.total = 0;
    return page;
  }
  Sql where;
  where << " WHERE r.type_id = ";
  where.Value(*type_id) << " AND r.deleted = 0";
  if (query.compartment) {
    // Points to the compartment's resource through one of its parameters, or is that resource.
    const search::CompartmentFilter& compartment = *query.compartment;
    where << " AND (r.seq IN (SELECT x.seq FROM search_reference x WHERE x.type_id = ";
    where.Value(*type_id) << " AND x.target_type = ";
    where.Value(compartment.type) << " AND x.target_id = ";
    where.Value(compartment.id) << " AND x.param_id IN (-1";
    for (search::Param param : compartment.params) {
      CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, param->url));
      if (!param_id) continue;
      where << ", ";
      where.Value(*param_id);
    }
    where << "))";
    if (compartment.itself) {
      where << " OR r.id = ";
      where.Value(compartment.id);
    }
    where << ")";
  }
  for (const search::Condition& condition : query.all_of) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> param_id, params.Lookup(db, condition.param->url));
    ConditionWriter writer(where, *type_id, param_id.value_or(-1));  // no id: no resource has a value
    where << " AND ";
    if (condition.missing) {
      where << (*condition.missing ? "NOT " : "");
      writer.In(TableFor(condition.param->type), [] {});
      continue;
    }
    where << (condition.negated ? "NOT (" : "(");
    for (std::size_t i = 0; i < condition.any_of.size(); ++i) {
      if (i > 0) where << " OR ";
      std::visit(writer, condition.any_of[i]);
    }
    where << ")";
  }

  CK_RETURN_IF_ERROR(db.Execute("BEGIN"));  // one snapshot for the count and the page
  struct EndRead {
    Connection& db;
    ~EndRead() { (void)db.Execute("COMMIT"); }
  } end_read{db};
  if (query.want_total) {
    CK_ASSIGN_OR_RETURN(ScopedStatement count, db.Prepare("SELECT count(*) FROM resource r" + where.text));
    CK_RETURN_IF_ERROR(BindAll(*count, where.values));
    CK_ASSIGN_OR_RETURN(bool row, count->Step());
    page.total = row ? count->Int(0) : 0;
  }
  if (query.total_only) return page;

  // The page: ordered by the sort keys (resources without a value last), then by id; the cursor
  // picks up after the last match of the page before, by the same keys.
  std::vector<std::int64_t> sort_params;
  for (const search::SortKey& key : query.sort) {
    std::optional<std::int64_t> param_id;
    if (key.param != nullptr) {
      CK_ASSIGN_OR_RETURN(param_id, params.Lookup(db, key.param->url));
    }
    sort_params.push_back(param_id.value_or(-1));
  }
  const std::string_view columns = kSelectVersionColumns;
  const std::size_t from = columns.find(" FROM ");
  Sql select;
  select << columns.substr(0, from);
  for (std::size_t i = 0; i < query.sort.size(); ++i) {
    select << ", ";
    SortExpression(select, query.sort[i], sort_params[i]);
    select << " AS k" << std::to_string(i);
  }
  select << columns.substr(from) << "JOIN resource r ON r.seq = v.seq";
  select.text += where.text;
  select.values.insert(select.values.end(), where.values.begin(), where.values.end());
  if (!query.cursor.empty()) {
    if (query.sort.empty()) {
      select << " AND r.id > ";
      select.Value(query.cursor);
    } else {
      CK_ASSIGN_OR_RETURN(auto cursor, DecodeCursor(query.cursor, query.sort.size()));
      // After the cursor: for some key j, equal on the keys before it and after it on key j; or
      // equal on all keys and a greater id. Nothing sorts after a missing value but a later id.
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
        if (j == query.sort.size()) {
          select << " AND r.id > ";
          select.Value(*cursor.back());
        } else if (!cursor[j]) {
          select << " AND 0";
        } else {
          select << " AND (k" << std::to_string(j) << (query.sort[j].descending ? " < " : " > ");
          select.Value(*cursor[j]) << " OR k" << std::to_string(j) << " IS NULL)";
        }
        select << ")";
      }
      select << ")";
    }
  }
  select << " ORDER BY ";
  for (std::size_t i = 0; i < query.sort.size(); ++i) {
    std::string k = "k" + std::to_string(i);
    select << k << " IS NULL, " << k << (query.sort[i].descending ? " DESC, " : ", ");
  }
  select << "r.id LIMIT ";
  select.Value(static_cast<std::int64_t>(query.count) + 1);
  CK_ASSIGN_OR_RETURN(ScopedStatement statement, db.Prepare(select.text));
  CK_RETURN_IF_ERROR(BindAll(*statement, select.values));
  constexpr int kFirstKeyColumn = 10;  // after kSelectVersionColumns' columns
  std::vector<Bound> last_keys(query.sort.size());
  std::vector<bool> last_nulls(query.sort.size());
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, statement->Step());
    if (!row) break;
    if (page.versions.size() == query.count) {
      page.more = true;
      page.next_cursor = query.sort.empty() ? page.versions.back().id : EncodeCursor(last_keys, last_nulls, page.versions.back().id);
      break;
    }
    for (std::size_t i = 0; i < query.sort.size(); ++i) {
      const int column = kFirstKeyColumn + static_cast<int>(i);
      const int type = statement->ColumnType(column);
      last_nulls[i] = type == SQLITE_NULL;
      if (type == SQLITE_INTEGER) {
        last_keys[i] = statement->Int(column);
      } else if (type == SQLITE_FLOAT) {
        last_keys[i] = statement->Double(column);
      } else {
        last_keys[i] = std::string(statement->Text(column));
      }
    }
    CK_ASSIGN_OR_RETURN(StoredVersion version, ReadVersionRow(*statement));
    page.versions.push_back(std::move(version));
  }
  statement->Reset();
  CK_RETURN_IF_ERROR(AddIncluded(db, types, params, query, page));
  return page;
}

}  // namespace ck::store::sqlite
