// Where dates without a zone land on the time line: in UTC by default, or as wall time in the
// configured IANA zone, each end of the interval at its own offset (daylight-saving days are 23
// and 25 hours long); a value with a zone is exact whatever the setting.
#include "search/search_zone.h"

#include <gtest/gtest.h>

namespace ck::search {
namespace {

Millis At(const char* instant) { return ParseFhirDateTimeRange(instant)->start; }

TEST(SearchZoneTest, DatesAreUtcDaysByDefault) {
  const SearchZone utc;
  EXPECT_EQ(utc.name(), "UTC");
  auto day = utc.Range("2024-03-31");
  ASSERT_TRUE(day);
  EXPECT_EQ(day->start, At("2024-03-31T00:00:00Z"));
  EXPECT_EQ(day->end, At("2024-04-01T00:00:00Z"));
}

TEST(SearchZoneTest, DatesAreLocalDaysInTheConfiguredZone) {
  auto berlin = SearchZone::Named("Europe/Berlin");
  ASSERT_TRUE(berlin) << berlin.error().ToString();
  auto winter = berlin->Range("2024-01-15");
  EXPECT_EQ(winter->start, At("2024-01-14T23:00:00Z"));
  EXPECT_EQ(winter->end, At("2024-01-15T23:00:00Z"));
  auto spring_forward = berlin->Range("2024-03-31");  // clocks go from 02:00 to 03:00
  EXPECT_EQ(spring_forward->start, At("2024-03-30T23:00:00Z"));
  EXPECT_EQ(spring_forward->end, At("2024-03-31T22:00:00Z"));
  EXPECT_EQ(spring_forward->end - spring_forward->start, 23 * 3'600'000);
  auto fall_back = berlin->Range("2024-10-27");
  EXPECT_EQ(fall_back->end - fall_back->start, 25 * 3'600'000);
  auto year = berlin->Range("1970");
  EXPECT_EQ(year->start, At("1969-12-31T23:00:00Z"));
  EXPECT_EQ(year->end, At("1970-12-31T23:00:00Z"));
  auto new_york = SearchZone::Named("America/New_York");
  ASSERT_TRUE(new_york);
  EXPECT_EQ(new_york->Range("2024-07-04")->start, At("2024-07-04T04:00:00Z"));
}

TEST(SearchZoneTest, AValueWithAZoneIsExactAndOneWithoutIsWallTime) {
  auto berlin = SearchZone::Named("Europe/Berlin");
  ASSERT_TRUE(berlin);
  EXPECT_EQ(berlin->Range("2024-03-31T10:00:00+05:00")->start, At("2024-03-31T05:00:00Z"));
  EXPECT_EQ(berlin->Range("2024-03-31T10:00:00Z")->start, At("2024-03-31T10:00:00Z"));
  EXPECT_EQ(berlin->Range("2024-01-15T10:00:00-03:00")->start, At("2024-01-15T13:00:00Z"));
  EXPECT_EQ(berlin->Range("2024-07-01T10:00")->start, At("2024-07-01T08:00:00Z"));  // typed without a zone
  EXPECT_FALSE(berlin->Range("2024-13-01"));
}

TEST(SearchZoneTest, AnUnknownZoneIsRefused) {
  for (const char* name : {"Mars/Olympus_Mons", "", "europe/berlin", "Berlin"}) {
    auto zone = SearchZone::Named(name);
    ASSERT_FALSE(zone) << name;
    EXPECT_EQ(zone.error().code(), StatusCode::kInvalid);
    EXPECT_NE(zone.error().message().find("not an IANA time zone"), std::string::npos);
  }
  EXPECT_TRUE(SearchZone::Named("UTC"));
}

}  // namespace
}  // namespace ck::search
