#pragma once
// The resources (rids) that every one of several sets holds, where each set is a union of index
// ranges that yield rids in order (a key whose columns before the rid are fixed by equality:
// one code, one reference target). Found by leapfrogging: each range seeks to the furthest rid
// any other has reached, so the work follows the matches and the gaps between them, not the
// sets' sizes: "patient=X&code=Y" reads the code's entries near the patient's resources, where
// testing each of the patient's resources for the code, or each resource with the code for the
// patient, reads a whole set. Private to store/sqlite.
// Thread safety: used by one thread, on one connection, inside one read transaction.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "store/sqlite/sql_text.h"
#include "store/sqlite/sqlite_connection.h"
#include "util/status.h"

namespace ck::store::sqlite {

class RidIntersection {
 public:
  // `sets`: each a list of ranges, each "SELECT x.rid FROM <table> x WHERE <equalities>" with its
  // values. `descending`: rids from the largest down.
  RidIntersection(Connection& db, const std::vector<std::vector<const Sql*>>& sets, bool descending);
  ~RidIntersection();

  // The first common rid after `after` (before it, descending), or from the start without one;
  // nullopt when none is left.
  Result<std::optional<std::int64_t>> Next(std::optional<std::int64_t> after);

 private:
  class Range;
  struct Set {
    std::vector<std::unique_ptr<Range>> ranges;
  };
  Result<std::optional<std::int64_t>> SeekSet(Set& set, std::int64_t target);

  Connection& db_;
  const bool descending_;
  std::vector<Set> sets_;
};

}  // namespace ck::store::sqlite
