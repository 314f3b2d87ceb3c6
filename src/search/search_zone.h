#pragma once
// Where a date or time written without a time zone is placed on the time line, for indexing and
// searching alike: as wall time in one configured IANA zone (the `search_time_zone` setting,
// default UTC). FHIR requires a zone on every dateTime with a time, so this places dates
// (`birthDate=1970-05-02` is that day from local midnight to local midnight), partial dates and
// search values typed without a zone. A value with a zone is exact. Changing the zone changes
// the index: the records layer reindexes when it sees the setting change.
// Thread safety: immutable after construction; may be shared by any threads.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"
#include "util/time.h"

namespace ck::search {

class SearchZone {
 public:
  // UTC (the default).
  SearchZone();
  // An IANA zone ("Europe/Berlin", "America/New_York") or "UTC". Errors: kInvalid for a name ICU
  // does not know.
  static Result<SearchZone> Named(const std::string& name);

  const std::string& name() const { return name_; }

  // ParseFhirDateTimeRange, with a value that has no zone read as wall time in this zone (each end
  // at its own offset, so a day across a daylight-saving change is 23 or 25 hours).
  std::optional<TimeRange> Range(std::string_view text) const;

 private:
  Millis ToUtc(Millis wall) const;

  struct Zone;  // ICU's zone, kept out of this header

  std::string name_ = "UTC";
  std::shared_ptr<const Zone> zone_;  // null for UTC
};

}  // namespace ck::search
