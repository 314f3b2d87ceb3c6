#pragma once
// How a version is selected and read back from the SQLite schema: the column list every query
// of versions starts with (the version, its type's name, its recorded issues), and the reading of
// one such row. Private to store/sqlite.
// Thread safety: constants and a pure function.

#include <string_view>

#include "store/resource_store.h"
#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

// "SELECT <columns> FROM resource_version v JOIN resource_type t ... " (alias v for the version).
inline constexpr std::string_view kSelectVersionColumns =
    "SELECT v.seq, t.name, v.id, v.version, v.last_updated, v.change, v.encoding, v.body, i.encoding, i.issues "
    "FROM resource_version v JOIN resource_type t ON t.type_id = v.type_id LEFT JOIN version_issues i ON i.seq = v.seq ";

// Reads a row selected with kSelectVersionColumns. Errors: kCorrupt (a body fails its checksum).
Result<StoredVersion> ReadVersionRow(const Statement& row);

}  // namespace ck::store::sqlite
