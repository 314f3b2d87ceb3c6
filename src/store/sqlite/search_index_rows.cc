#include "store/sqlite/search_index_rows.h"

#include <unordered_map>

#include <cstdint>
#include <string>

namespace ck::store::sqlite {
namespace {

// An index table: its name, its columns in the order rows are inserted (type, parameter, the
// value's columns, rid last), and its key.
struct IndexTable {
  const char* name;
  const char* columns;
  const char* key;
};

constexpr IndexTable kToken{"search_token", "type_id, param_id, code, system, rid", "type_id, param_id, code, rid, system"};
constexpr IndexTable kIdentifierType{"search_identifier_type", "type_id, param_id, type_code, type_system, value, rid",
                                     "type_id, param_id, type_code, type_system, value, rid"};
constexpr IndexTable kString{"search_string", "type_id, param_id, normalized, exact, rid", "type_id, param_id, normalized, exact, rid"};
constexpr IndexTable kDate{"search_date", "type_id, param_id, low, high, rid", "type_id, param_id, low, high, rid"};
constexpr IndexTable kNumber{"search_number", "type_id, param_id, value, low, high, rid", "type_id, param_id, value, low, high, rid"};
constexpr IndexTable kNumberPair{"search_number_pair", "type_id, param_id, value, low, high, value2, low2, high2, rid",
                                 "type_id, param_id, value, low, high, value2, low2, high2, rid"};
constexpr IndexTable kQuantity{"search_quantity", "type_id, param_id, code, system, value, low, high, rid",
                               "type_id, param_id, code, system, value, low, high, rid"};
constexpr IndexTable kQuantityCanonical{"search_quantity_canonical", "type_id, param_id, unit, low, high, rid",
                                        "type_id, param_id, unit, low, high, rid"};
constexpr IndexTable kReference{"search_reference", "type_id, param_id, target_type, target_id, url, version, rid",
                                "type_id, param_id, target_id, url, rid, target_type, version"};
constexpr IndexTable kUri{"search_uri", "type_id, param_id, uri, rid", "type_id, param_id, uri, rid"};
constexpr const IndexTable* kTables[] = {&kToken, &kIdentifierType, &kString, &kDate, &kNumber, &kNumberPair,
                                         &kQuantity, &kQuantityCanonical, &kReference, &kUri};

// "INSERT [OR IGNORE] INTO <table>[_staged] (<columns>) VALUES (?, ...)", built once per table
// (a write inserts rows of every table for every resource).
const std::string& InsertSql(const IndexTable& table, bool staged) {
  static const auto* const texts = [] {
    auto* built = new std::unordered_map<const IndexTable*, std::string>[2];
    for (const IndexTable* t : kTables) {
      std::string placeholders = "?";
      for (const char* c = t->columns; *c != '\0'; ++c) {
        if (*c == ',') placeholders += ", ?";
      }
      for (bool into_staged : {false, true}) {
        built[into_staged][t] = std::string(into_staged ? "INSERT INTO " : "INSERT OR IGNORE INTO ") + t->name +
                                (into_staged ? "_staged" : "") + " (" + t->columns + ") VALUES (" + placeholders + ")";
      }
    }
    return built;
  }();
  return texts[staged].at(&table);
}

// Binds type and parameter, then the entry's columns (from 3 on), then `rid` last. The parameter
// is the entry's, or for a composite's values the composite's own for their key (`param_url`).
class RowWriter {
 public:
  RowWriter(Connection& db, NameIds& params, std::int64_t type_id, std::int64_t rid, NewNames& new_params, bool staged,
            std::string param_url = "")
      : db_(db), params_(params), type_id_(type_id), rid_(rid), new_params_(new_params), staged_(staged), param_url_(std::move(param_url)) {}

  // The same resource's rows under the parameter `param_url`.
  RowWriter For(std::string param_url) const {
    return RowWriter(db_, params_, type_id_, rid_, new_params_, staged_, std::move(param_url));
  }

  template <typename Entry, typename BindColumns>
  Status Insert(const IndexTable& table, const std::vector<Entry>& entries, BindColumns bind) {
    if (entries.empty()) return Status::Ok();
    CK_ASSIGN_OR_RETURN(ScopedStatement insert, db_.Prepare(InsertSql(table, staged_)));
    for (const Entry& entry : entries) {
      bool inserted = false;
      const std::string& url = param_url_.empty() ? entry.param->url : param_url_;
      CK_ASSIGN_OR_RETURN(std::int64_t param_id, params_.Ensure(db_, url, inserted));
      if (inserted) new_params_.emplace_back(url, param_id);
      insert->Bind(1, type_id_).Bind(2, param_id);
      const int rid_column = bind(*insert, entry);
      insert->Bind(rid_column, rid_);
      CK_RETURN_IF_ERROR(insert->Run());
      insert->Reset();
    }
    return Status::Ok();
  }

 private:
  Connection& db_;
  NameIds& params_;
  const std::int64_t type_id_;
  const std::int64_t rid_;
  NewNames& new_params_;
  const bool staged_;
  const std::string param_url_;
};

// The rows of `entries`, and of each composite value's entries under the composite's parameter
// for its key.
Status InsertRows(RowWriter rows, const search::IndexEntries& entries) {
  for (const search::CompositeEntry& composite : entries.composites) {
    CK_RETURN_IF_ERROR(InsertRows(rows.For(CompositeParamUrl(composite.param->url, composite.key)), composite.values));
  }
  CK_RETURN_IF_ERROR(rows.Insert(kToken, entries.tokens, [](Statement& s, const search::TokenEntry& e) {
    s.Bind(3, e.code).Bind(4, e.system);
    return 5;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kIdentifierType, entries.identifier_types, [](Statement& s, const search::IdentifierTypeEntry& e) {
    s.Bind(3, e.type_code).Bind(4, e.type_system).Bind(5, e.value);
    return 6;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kString, entries.strings, [](Statement& s, const search::StringEntry& e) {
    s.Bind(3, e.normalized).Bind(4, e.exact);
    return 5;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kDate, entries.dates, [](Statement& s, const search::DateEntry& e) {
    s.Bind(3, e.start).Bind(4, e.end);
    return 5;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kNumber, entries.numbers, [](Statement& s, const search::NumberEntry& e) {
    s.BindDouble(3, e.value).BindDouble(4, e.low).BindDouble(5, e.high);
    return 6;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kNumberPair, entries.number_pairs, [](Statement& s, const search::NumberPairEntry& e) {
    s.BindDouble(3, e.first.value).BindDouble(4, e.first.low).BindDouble(5, e.first.high);
    s.BindDouble(6, e.second.value).BindDouble(7, e.second.low).BindDouble(8, e.second.high);
    return 9;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kQuantity, entries.quantities, [](Statement& s, const search::QuantityEntry& e) {
    s.Bind(3, e.code).Bind(4, e.system).BindDouble(5, e.value).BindDouble(6, e.low).BindDouble(7, e.high);
    return 8;
  }));
  std::vector<search::QuantityEntry> canonical;
  for (const search::QuantityEntry& entry : entries.quantities) {
    if (entry.has_canonical) canonical.push_back(entry);
  }
  CK_RETURN_IF_ERROR(rows.Insert(kQuantityCanonical, canonical, [](Statement& s, const search::QuantityEntry& e) {
    s.Bind(3, e.canonical_unit).BindDouble(4, e.canonical_low).BindDouble(5, e.canonical_high);
    return 6;
  }));
  CK_RETURN_IF_ERROR(rows.Insert(kReference, entries.references, [](Statement& s, const search::ReferenceEntry& e) {
    s.Bind(3, e.type).Bind(4, e.id).Bind(5, e.url).Bind(6, e.version);
    return 7;
  }));
  return rows.Insert(kUri, entries.uris, [](Statement& s, const search::UriEntry& e) {
    s.Bind(3, e.uri);
    return 4;
  });
}


}  // namespace

// A contained rid is 2^63 + (container rid << 20) + position, read as a signed number.
constexpr std::uint64_t kContainedBase = std::uint64_t{1} << 63;
constexpr std::int64_t kMaxContainerRid = std::int64_t{1} << 43;

std::int64_t ContainedRid(std::int64_t container_rid, std::size_t position) {
  return static_cast<std::int64_t>(kContainedBase + (static_cast<std::uint64_t>(container_rid) << 20) + position);
}

std::pair<std::int64_t, std::size_t> ContainerOf(std::int64_t contained_rid) {
  const std::uint64_t offset = static_cast<std::uint64_t>(contained_rid) - kContainedBase;
  return {static_cast<std::int64_t>(offset >> 20), static_cast<std::size_t>(offset & (kMaxContained - 1))};
}

Status RemoveIndexRows(Connection& db, std::int64_t rid) {
  // The rows of the rids from `first` to `last`, staged or not.
  auto remove = [&](std::int64_t first, std::int64_t last) -> Status {
    for (const IndexTable* table : kTables) {
      for (const char* suffix : {"", "_staged"}) {
        CK_ASSIGN_OR_RETURN(ScopedStatement rows,
                            db.Prepare(std::string("DELETE FROM ") + table->name + suffix + " WHERE rid BETWEEN ? AND ?"));
        rows->Bind(1, first).Bind(2, last);
        CK_RETURN_IF_ERROR(rows->Run());
      }
    }
    return Status::Ok();
  };
  CK_RETURN_IF_ERROR(remove(rid, rid));
  CK_ASSIGN_OR_RETURN(ScopedStatement text, db.Prepare("DELETE FROM search_fulltext WHERE rowid = ?"));
  text->Bind(1, rid);
  CK_RETURN_IF_ERROR(text->Run());
  if (rid <= 0 || rid >= kMaxContainerRid) return Status::Ok();
  const std::int64_t first = ContainedRid(rid, 0);
  const std::int64_t last = ContainedRid(rid, kMaxContained - 1);
  CK_ASSIGN_OR_RETURN(ScopedStatement any, db.Prepare("SELECT 1 FROM contained_resource WHERE rid BETWEEN ? AND ? LIMIT 1"));
  any->Bind(1, first).Bind(2, last);
  CK_ASSIGN_OR_RETURN(bool contains, any->Step());
  any->Reset();
  if (!contains) return Status::Ok();
  CK_RETURN_IF_ERROR(remove(first, last));
  CK_ASSIGN_OR_RETURN(ScopedStatement records, db.Prepare("DELETE FROM contained_resource WHERE rid BETWEEN ? AND ?"));
  records->Bind(1, first).Bind(2, last);
  return records->Run();
}

std::string CompositeParamUrl(const std::string& composite_url, const std::string& key) { return composite_url + "$" + key; }

Status InsertIndexRows(Connection& db, WriteNames names, IndexedResource resource, const search::IndexEntries& entries, bool staged) {
  CK_RETURN_IF_ERROR(InsertRows(RowWriter(db, names.params, resource.type_id, resource.rid, names.new_params, staged), entries));
  if (!entries.full_text.content.empty()) {  // FTS5 merges its own segments: never staged
    CK_ASSIGN_OR_RETURN(ScopedStatement text, db.Prepare("INSERT INTO search_fulltext (rowid, narrative, content) VALUES (?, ?, ?)"));
    text->Bind(1, resource.rid).Bind(2, entries.full_text.narrative).Bind(3, entries.full_text.content);
    CK_RETURN_IF_ERROR(text->Run());
  }
  if (entries.contained.empty()) return Status::Ok();
  if (resource.rid <= 0 || resource.rid >= kMaxContainerRid) {
    return Status::Internal("resource number out of the range whose contained resources can be indexed")
        .WithDetail(std::to_string(resource.rid));
  }
  CK_ASSIGN_OR_RETURN(ScopedStatement record, db.Prepare("INSERT INTO contained_resource (rid, type_id, seq) VALUES (?, ?, ?)"));
  for (const search::ContainedEntries& contained : entries.contained) {
    if (contained.position >= kMaxContained) {
      return Status(StatusCode::kTooLarge, "a resource may hold at most " + std::to_string(kMaxContained) +
                                               " contained resources to be stored");
    }
    bool inserted = false;
    CK_ASSIGN_OR_RETURN(std::int64_t type_id, names.types.Ensure(db, contained.type, inserted));
    if (inserted) names.new_types.emplace_back(contained.type, type_id);
    const std::int64_t rid = ContainedRid(resource.rid, contained.position);
    record->Bind(1, rid).Bind(2, -type_id).Bind(3, resource.seq);
    CK_RETURN_IF_ERROR(record->Run());
    record->Reset();
    CK_RETURN_IF_ERROR(InsertRows(RowWriter(db, names.params, -type_id, rid, names.new_params, staged), contained.entries));
  }
  return Status::Ok();
}

Status ReplaceParameterRows(Connection& db, WriteNames names, IndexedResource resource, const std::string& param_url,
                            const search::IndexEntries& entries) {
  std::vector<std::int64_t> param_ids;
  CK_ASSIGN_OR_RETURN(ScopedStatement ids, db.Prepare("SELECT param_id FROM search_param WHERE url = ? OR (url >= ? AND url < ?)"));
  const std::string composite_prefix = CompositeParamUrl(param_url, "");
  std::string prefix_end = composite_prefix;
  prefix_end.back() = static_cast<char>(prefix_end.back() + 1);
  ids->Bind(1, param_url).Bind(2, composite_prefix).Bind(3, prefix_end);
  while (true) {
    CK_ASSIGN_OR_RETURN(bool row, ids->Step());
    if (!row) break;
    param_ids.push_back(ids->Int(0));
  }
  const bool may_contain = resource.rid > 0 && resource.rid < kMaxContainerRid;
  const std::int64_t last = may_contain ? ContainedRid(resource.rid, kMaxContained - 1) : resource.rid;
  for (std::int64_t param_id : param_ids) {
    for (const IndexTable* table : kTables) {
      // The resource's own rows, then its contained resources' (rids above every resource's).
      CK_ASSIGN_OR_RETURN(ScopedStatement rows, db.Prepare(std::string("DELETE FROM ") + table->name +
                                                           " WHERE rid = ? AND param_id = ?"));
      rows->Bind(1, resource.rid).Bind(2, param_id);
      CK_RETURN_IF_ERROR(rows->Run());
      if (!may_contain) continue;
      CK_ASSIGN_OR_RETURN(ScopedStatement contained, db.Prepare(std::string("DELETE FROM ") + table->name +
                                                                " WHERE rid BETWEEN ? AND ? AND param_id = ?"));
      contained->Bind(1, ContainedRid(resource.rid, 0)).Bind(2, last).Bind(3, param_id);
      CK_RETURN_IF_ERROR(contained->Run());
    }
  }
  CK_RETURN_IF_ERROR(InsertRows(RowWriter(db, names.params, resource.type_id, resource.rid, names.new_params, false), entries));
  for (const search::ContainedEntries& contained : entries.contained) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> type_id, names.types.Lookup(db, contained.type));
    if (!type_id || !may_contain || contained.position >= kMaxContained) continue;  // indexed with the container, so known
    CK_RETURN_IF_ERROR(InsertRows(RowWriter(db, names.params, -*type_id, ContainedRid(resource.rid, contained.position),
                                            names.new_params, false),
                                  contained.entries));
  }
  return Status::Ok();
}

Result<bool> HasStagedRows(Connection& db) {
  for (const IndexTable* table : kTables) {
    CK_ASSIGN_OR_RETURN(ScopedStatement any, db.Prepare(std::string("SELECT 1 FROM ") + table->name + "_staged LIMIT 1"));
    CK_ASSIGN_OR_RETURN(bool row, any->Step());
    if (row) return true;
  }
  return false;
}

Result<std::int64_t> MergeStagedRows(Connection& db) {
  for (const IndexTable* table : kTables) {
    const std::string staged = std::string(table->name) + "_staged";
    std::int64_t rows = 0;
    {
      CK_ASSIGN_OR_RETURN(ScopedStatement count, db.Prepare("SELECT count(*) FROM " + staged));
      CK_ASSIGN_OR_RETURN(bool row, count->Step());
      rows = row ? count->Int(0) : 0;
    }
    if (rows == 0) continue;
    CK_RETURN_IF_ERROR(db.Execute(std::string("INSERT OR IGNORE INTO ") + table->name + " (" + table->columns + ") SELECT " +
                                  table->columns + " FROM " + staged + " ORDER BY " + table->key));
    CK_RETURN_IF_ERROR(db.Execute("DELETE FROM " + staged));
    return rows;
  }
  return 0;
}

}  // namespace ck::store::sqlite
