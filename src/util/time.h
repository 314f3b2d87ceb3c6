#pragma once
// Time as Chartkeeper stores it (milliseconds since the Unix epoch, UTC) and its text forms:
// FHIR instants, FHIR dateTime ranges (for _since / _at), and HTTP dates (Last-Modified).
// The Clock interface lets tests control time. Thread safety: pure functions; SystemClock is
// safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ck {

using Millis = std::int64_t;  // milliseconds since 1970-01-01T00:00:00Z

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis Now() const override;
};

// "2026-11-25T10:15:30.123Z"
std::string FormatInstant(Millis t);

// "Wed, 25 Nov 2026 10:15:30 GMT"
std::string FormatHttpDate(Millis t);
// Parses an IMF-fixdate; nullopt if malformed.
std::optional<Millis> ParseHttpDate(std::string_view text);

// Reads exactly `count` decimal digits of `text` at `pos` into `out`; false (and `out`
// untouched) if there are fewer or a non-digit. Shared by the date and time parsers.
bool ParseDigits(std::string_view text, std::size_t pos, std::size_t count, int& out);

// A FHIR date/dateTime/instant of any precision ("2026", "2026-11-25T10:15:30+01:00") as the
// half-open interval [start, end) it covers. A time without zone is read as UTC.
struct TimeRange {
  Millis start;
  Millis end;
};
std::optional<TimeRange> ParseFhirDateTimeRange(std::string_view text);

}  // namespace ck
