#include "store/sqlite/name_ids.h"

namespace ck::store::sqlite {

NameIds::NameIds(std::string_view table, std::string_view id_column, std::string_view name_column)
    : select_("SELECT " + std::string(id_column) + " FROM " + std::string(table) + " WHERE " + std::string(name_column) + " = ?"),
      insert_("INSERT INTO " + std::string(table) + " (" + std::string(name_column) + ") VALUES (?)") {}

Result<std::optional<std::int64_t>> NameIds::Lookup(Connection& db, const std::string& name) {
  {
    std::lock_guard lock(mu_);
    if (auto it = ids_.find(name); it != ids_.end()) return std::optional(it->second);
  }
  CK_ASSIGN_OR_RETURN(ScopedStatement select, db.Prepare(select_));
  select->Bind(1, name);
  CK_ASSIGN_OR_RETURN(bool found, select->Step());
  if (!found) return std::optional<std::int64_t>();
  const std::int64_t id = select->Int(0);
  // Outside a transaction only committed rows are seen (the writer sees its own uncommitted ones).
  if (db.InAutocommit()) Publish(name, id);
  return std::optional(id);
}

Result<std::int64_t> NameIds::Ensure(Connection& db, const std::string& name, bool& inserted) {
  inserted = false;
  CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> existing, Lookup(db, name));
  if (existing) return *existing;
  CK_ASSIGN_OR_RETURN(ScopedStatement insert, db.Prepare(insert_));
  insert->Bind(1, name);
  CK_RETURN_IF_ERROR(insert->Run());
  inserted = true;
  return db.LastInsertRowId();
}

void NameIds::Publish(const std::string& name, std::int64_t id) {
  std::lock_guard lock(mu_);
  ids_.emplace(name, id);
}

}  // namespace ck::store::sqlite
