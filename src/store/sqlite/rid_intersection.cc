#include "store/sqlite/rid_intersection.h"

#include <limits>
#include <string>

namespace ck::store::sqlite {

// One index range read in rid order, from a position it seeks to. A seek is a fresh descent of
// the index; a step is the next entry of the same page. A short gap is crossed by stepping, a
// long one by seeking.
class RidIntersection::Range {
 public:
  Range(const Sql& range, bool descending, std::size_t number) : descending_(descending) {
    seek_ = range;
    seek_ << (descending ? " AND x.rid <= " : " AND x.rid >= ");
    seek_.Value(std::int64_t{0});
    // The number keeps ranges with the same text on statements of their own (statements are
    // cached by text, and these are all open at once).
    seek_ << " ORDER BY x.rid" << (descending ? " DESC" : "") << " /* range " << std::to_string(number) << " */";
  }

  // The range's first rid at or past `target` in its direction; nullopt past its end.
  Result<std::optional<std::int64_t>> SeekTo(Connection& db, std::int64_t target) {
    if (exhausted_) return std::optional<std::int64_t>();
    if (current_ && !Before(*current_, target)) return current_;
    if (current_) {
      for (int step = 0; step < kStepsBeforeSeek; ++step) {
        CK_RETURN_IF_ERROR(Advance());
        if (!current_ || !Before(*current_, target)) return current_;
      }
    }
    if (!statement_) {
      CK_ASSIGN_OR_RETURN(ScopedStatement prepared, db.Prepare(seek_.text));
      statement_.emplace(std::move(prepared));
    }
    (*statement_)->Reset();
    seek_.values.back() = target;
    BindAll(**statement_, seek_.values);
    CK_RETURN_IF_ERROR(Advance());
    return current_;
  }

 private:
  static constexpr int kStepsBeforeSeek = 8;

  bool Before(std::int64_t a, std::int64_t b) const { return descending_ ? a > b : a < b; }

  Status Advance() {
    CK_ASSIGN_OR_RETURN(bool row, (*statement_)->Step());
    if (row) {
      current_ = (*statement_)->Int(0);
    } else {
      current_.reset();
      exhausted_ = true;
    }
    return Status::Ok();
  }

  const bool descending_;
  Sql seek_;  // the range from a rid on: its last value is the rid
  std::optional<ScopedStatement> statement_;
  std::optional<std::int64_t> current_;
  bool exhausted_ = false;
};

RidIntersection::RidIntersection(Connection& db, const std::vector<std::vector<const Sql*>>& sets, bool descending)
    : db_(db), descending_(descending) {
  std::size_t number = 0;
  for (const auto& ranges : sets) {
    Set& set = sets_.emplace_back();
    for (const Sql* range : ranges) set.ranges.push_back(std::make_unique<Range>(*range, descending, number++));
  }
}

RidIntersection::~RidIntersection() = default;

// The union's first rid at or past `target`: the nearest of its ranges' (a rid two ranges hold
// comes once).
Result<std::optional<std::int64_t>> RidIntersection::SeekSet(Set& set, std::int64_t target) {
  std::optional<std::int64_t> nearest;
  for (auto& range : set.ranges) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> at, range->SeekTo(db_, target));
    if (at && (!nearest || (descending_ ? *at > *nearest : *at < *nearest))) nearest = at;
  }
  return nearest;
}

Result<std::optional<std::int64_t>> RidIntersection::Next(std::optional<std::int64_t> after) {
  if (sets_.empty()) return std::optional<std::int64_t>();
  std::int64_t target = descending_ ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  if (after) {
    if (*after == (descending_ ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max())) {
      return std::optional<std::int64_t>();
    }
    target = descending_ ? *after - 1 : *after + 1;
  }
  // Round the sets until all of them are at the same rid; each one that is past the target
  // moves the target to where it is.
  std::size_t agreeing = 0;
  for (std::size_t i = 0; agreeing < sets_.size(); i = (i + 1) % sets_.size()) {
    CK_ASSIGN_OR_RETURN(std::optional<std::int64_t> at, SeekSet(sets_[i], target));
    if (!at) return at;
    if (*at == target) {
      ++agreeing;
    } else {
      target = *at;
      agreeing = 1;
    }
  }
  return std::optional<std::int64_t>(target);
}

}  // namespace ck::store::sqlite
