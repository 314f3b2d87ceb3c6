#include "util/time.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

constexpr Millis kNov25 = 1795601730123;  // 2026-11-25T10:15:30.123Z

TEST(TimeTest, FormatsInstantsAndHttpDates) {
  EXPECT_EQ(FormatInstant(kNov25), "2026-11-25T10:15:30.123Z");
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatHttpDate(kNov25), "Wed, 25 Nov 2026 10:15:30 GMT");
}

TEST(TimeTest, ParsesHttpDatesAndRejectsOthers) {
  EXPECT_EQ(ParseHttpDate("Wed, 25 Nov 2026 10:15:30 GMT"), kNov25 - 123);
  EXPECT_FALSE(ParseHttpDate("Wednesday, 25-Nov-26 10:15:30 GMT"));
  EXPECT_FALSE(ParseHttpDate("Wed, 31 Feb 2026 10:15:30 GMT"));
  EXPECT_FALSE(ParseHttpDate(""));
}

TEST(TimeTest, ReadsFhirDateTimesAsRanges) {
  auto year = ParseFhirDateTimeRange("2026");
  ASSERT_TRUE(year);
  EXPECT_EQ(FormatInstant(year->start), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(year->end), "2027-01-01T00:00:00.000Z");
  auto month = ParseFhirDateTimeRange("2026-12");
  EXPECT_EQ(FormatInstant(month->end), "2027-01-01T00:00:00.000Z");
  auto second = ParseFhirDateTimeRange("2026-11-25T11:15:30+01:00");
  EXPECT_EQ(second->start, kNov25 - 123);
  EXPECT_EQ(second->end - second->start, 1000);
  auto milli = ParseFhirDateTimeRange("2026-11-25T10:15:30.123Z");
  EXPECT_EQ(milli->start, kNov25);
  for (const char* bad : {"", "26", "2026-13", "2026-02-30", "2026-11-25T25:00:00Z", "2026-11-25T10:15:30+1", "2026-11-25X", "2026-11-25T10:15:30.Z"}) {
    EXPECT_FALSE(ParseFhirDateTimeRange(bad)) << bad;
  }
}

}  // namespace
}  // namespace ck
