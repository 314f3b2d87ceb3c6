#pragma once
// How a version is selected and read back from the SQLite schema: the columns every query of
// versions starts with (the version, its type's name, its recorded issues) and the joins they
// need, and the reading of one such row. Private to store/sqlite.
// Thread safety: constants and a pure function.

#include <string>
#include <string_view>

#include "store/resource_store.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// The columns ReadVersionRow reads (0 to kVersionColumnCount - 1), of a version aliased v...
inline constexpr std::string_view kVersionColumns =
    "v.seq, t.name, v.id, v.version, v.last_updated, v.change, v.encoding, v.body, i.encoding, i.issues";
inline constexpr int kVersionColumnCount = 10;
// ...joined with these.
inline constexpr std::string_view kVersionJoins =
    " JOIN resource_type t ON t.type_id = v.type_id LEFT JOIN version_issues i ON i.seq = v.seq ";
// "SELECT <columns> FROM resource_version v <joins>".
inline const std::string kSelectVersionColumns =
    "SELECT " + std::string(kVersionColumns) + " FROM resource_version v" + std::string(kVersionJoins);

// Reads a row selected with kVersionColumns. Errors: kCorrupt (a body fails its checksum).
Result<StoredVersion> ReadVersionRow(const Statement& row);

}  // namespace ck::store::sqlite
