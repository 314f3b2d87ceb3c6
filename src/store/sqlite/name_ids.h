#pragma once
// Names kept as small integer ids in a table of their own (resource types in resource_type,
// search parameter URLs in search_param), so index rows and keys stay short. Ids are cached once
// committed, and shared by the writer and the readers. Private to store/sqlite.
// Thread safety: all methods may be called from any thread; Ensure only by the writer.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// Names inserted by a transaction with their ids, to publish once it commits.
using NewNames = std::vector<std::pair<std::string, std::int64_t>>;

class NameIds {
 public:
  // `table` has an INTEGER PRIMARY KEY `id_column` and a UNIQUE `name_column`.
  NameIds(std::string_view table, std::string_view id_column, std::string_view name_column);

  // The id of `name`: from the cache, else from the database; nullopt if it has none yet.
  Result<std::optional<std::int64_t>> Lookup(Connection& db, const std::string& name);
  // The id of `name`, inserting it if it has none; `inserted` tells the caller to Publish it once
  // the transaction commits (a rolled-back id must never be cached).
  Result<std::int64_t> Ensure(Connection& db, const std::string& name, bool& inserted);
  void Publish(const std::string& name, std::int64_t id);

 private:
  const std::string select_;
  const std::string insert_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> ids_;  // guarded by mu_
};

}  // namespace ck::store::sqlite
