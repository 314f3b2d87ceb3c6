#include "search/search_zone.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <limits>

namespace ck::search {
namespace {

// Whether a FHIR date/dateTime/instant carries a zone ("Z", "+01:00", "-05:00" after the time).
bool HasZone(std::string_view text) {
  if (text.size() <= 10) return false;  // a date, partial or whole
  const std::string_view time = text.substr(11);
  return time.find_first_of("Z+-") != std::string_view::npos;
}

}  // namespace

struct SearchZone::Zone {
  std::unique_ptr<icu::TimeZone> icu;
};

SearchZone::SearchZone() = default;

Result<SearchZone> SearchZone::Named(const std::string& name) {
  SearchZone out;
  out.name_ = name;
  if (name == "UTC" || name == "Etc/UTC") return out;
  std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
  icu::UnicodeString id;
  if (zone == nullptr || *zone == icu::TimeZone::getUnknown() || zone->getID(id) != icu::UnicodeString::fromUTF8(name)) {
    return Err(Status::Invalid("'" + name + "' is not an IANA time zone (such as UTC, Europe/Berlin, America/New_York)"));
  }
  out.zone_ = std::make_shared<const Zone>(Zone{std::move(zone)});
  return out;
}

Millis SearchZone::ToUtc(Millis wall) const {
  if (zone_ == nullptr || wall == std::numeric_limits<Millis>::min() || wall == std::numeric_limits<Millis>::max()) return wall;
  std::int32_t raw = 0;
  std::int32_t dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  zone_->icu->getOffset(static_cast<UDate>(wall), /*local=*/true, raw, dst, status);
  return U_SUCCESS(status) ? wall - raw - dst : wall;
}

std::optional<TimeRange> SearchZone::Range(std::string_view text) const {
  std::optional<TimeRange> range = ParseFhirDateTimeRange(text);
  if (!range || zone_ == nullptr || HasZone(text)) return range;
  return TimeRange{ToUtc(range->start), ToUtc(range->end)};
}

}  // namespace ck::search
