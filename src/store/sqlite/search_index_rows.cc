#include "store/sqlite/search_index_rows.h"

namespace ck::store::sqlite {
namespace {

constexpr const char* kIndexTables[] = {"search_token", "search_identifier_type", "search_string", "search_date",
                                        "search_number", "search_quantity", "search_quantity_canonical",
                                        "search_reference", "search_uri"};

// Prepares `sql`, binds type, parameter and the entry's columns (from 3 on), then `rid` last.
class RowWriter {
 public:
  RowWriter(Connection& db, NameIds& params, std::int64_t type_id, std::int64_t rid, NewNames& new_params)
      : db_(db), params_(params), type_id_(type_id), rid_(rid), new_params_(new_params) {}

  template <typename Entry, typename BindColumns>
  Status Insert(const char* sql, int rid_column, const std::vector<Entry>& entries, BindColumns bind) {
    if (entries.empty()) return Status::Ok();
    CK_ASSIGN_OR_RETURN(ScopedStatement insert, db_.Prepare(sql));
    for (const Entry& entry : entries) {
      bool inserted = false;
      CK_ASSIGN_OR_RETURN(std::int64_t param_id, params_.Ensure(db_, entry.param->url, inserted));
      if (inserted) new_params_.emplace_back(entry.param->url, param_id);
      insert->Bind(1, type_id_).Bind(2, param_id);
      bind(*insert, entry);
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
};

}  // namespace

Status RemoveIndexRows(Connection& db, std::int64_t rid) {
  for (const char* table : kIndexTables) {
    CK_ASSIGN_OR_RETURN(ScopedStatement remove, db.Prepare(std::string("DELETE FROM ") + table + " WHERE rid = ?"));
    remove->Bind(1, rid);
    CK_RETURN_IF_ERROR(remove->Run());
  }
  return Status::Ok();
}

Status InsertIndexRows(Connection& db, NameIds& params, std::int64_t type_id, std::int64_t rid,
                       const search::IndexEntries& entries, NewNames& new_params) {
  RowWriter rows(db, params, type_id, rid, new_params);
  CK_RETURN_IF_ERROR(rows.Insert("INSERT OR IGNORE INTO search_token (type_id, param_id, code, system, rid) VALUES (?, ?, ?, ?, ?)", 5,
                                 entries.tokens, [](Statement& s, const search::TokenEntry& e) { s.Bind(3, e.code).Bind(4, e.system); }));
  CK_RETURN_IF_ERROR(rows.Insert(
      "INSERT OR IGNORE INTO search_identifier_type (type_id, param_id, type_code, type_system, value, rid) VALUES (?, ?, ?, ?, ?, ?)", 6,
      entries.identifier_types,
      [](Statement& s, const search::IdentifierTypeEntry& e) { s.Bind(3, e.type_code).Bind(4, e.type_system).Bind(5, e.value); }));
  CK_RETURN_IF_ERROR(rows.Insert("INSERT OR IGNORE INTO search_string (type_id, param_id, normalized, exact, rid) VALUES (?, ?, ?, ?, ?)", 5,
                                 entries.strings, [](Statement& s, const search::StringEntry& e) { s.Bind(3, e.normalized).Bind(4, e.exact); }));
  CK_RETURN_IF_ERROR(rows.Insert("INSERT OR IGNORE INTO search_date (type_id, param_id, low, high, rid) VALUES (?, ?, ?, ?, ?)", 5,
                                 entries.dates, [](Statement& s, const search::DateEntry& e) { s.Bind(3, e.start).Bind(4, e.end); }));
  CK_RETURN_IF_ERROR(rows.Insert("INSERT OR IGNORE INTO search_number (type_id, param_id, value, low, high, rid) VALUES (?, ?, ?, ?, ?, ?)", 6,
                                 entries.numbers, [](Statement& s, const search::NumberEntry& e) {
                                   s.BindDouble(3, e.value).BindDouble(4, e.low).BindDouble(5, e.high);
                                 }));
  CK_RETURN_IF_ERROR(rows.Insert(
      "INSERT OR IGNORE INTO search_quantity (type_id, param_id, code, system, value, low, high, rid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", 8,
      entries.quantities, [](Statement& s, const search::QuantityEntry& e) {
        s.Bind(3, e.code).Bind(4, e.system).BindDouble(5, e.value).BindDouble(6, e.low).BindDouble(7, e.high);
      }));
  std::vector<search::QuantityEntry> canonical;
  for (const search::QuantityEntry& entry : entries.quantities) {
    if (entry.has_canonical) canonical.push_back(entry);
  }
  CK_RETURN_IF_ERROR(rows.Insert(
      "INSERT OR IGNORE INTO search_quantity_canonical (type_id, param_id, unit, low, high, rid) VALUES (?, ?, ?, ?, ?, ?)", 6, canonical,
      [](Statement& s, const search::QuantityEntry& e) { s.Bind(3, e.canonical_unit).BindDouble(4, e.canonical_low).BindDouble(5, e.canonical_high); }));
  CK_RETURN_IF_ERROR(rows.Insert(
      "INSERT OR IGNORE INTO search_reference (type_id, param_id, target_type, target_id, url, version, rid) VALUES (?, ?, ?, ?, ?, ?, ?)", 7,
      entries.references, [](Statement& s, const search::ReferenceEntry& e) {
        s.Bind(3, e.type).Bind(4, e.id).Bind(5, e.url).Bind(6, e.version);
      }));
  CK_RETURN_IF_ERROR(rows.Insert("INSERT OR IGNORE INTO search_uri (type_id, param_id, uri, rid) VALUES (?, ?, ?, ?)", 4, entries.uris,
                                 [](Statement& s, const search::UriEntry& e) { s.Bind(3, e.uri); }));
  return Status::Ok();
}

}  // namespace ck::store::sqlite
