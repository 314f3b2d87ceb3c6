// UCUM unit expressions: parsing, commensurability and conversion.
#include "terminology/ucum.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ck::terminology {
namespace {

// `value` in `from` expressed in `to`; fails the test if either does not parse or they are not
// commensurable.
double Convert(double value, std::string_view from, std::string_view to) {
  auto a = ParseUcum(from);
  auto b = ParseUcum(to);
  EXPECT_TRUE(a) << from << ": " << a.error().message();
  EXPECT_TRUE(b) << to << ": " << b.error().message();
  if (!a || !b) return NAN;
  EXPECT_TRUE(Commensurable(*a, *b)) << from << " -> " << to;
  return ConvertUcum(value, *a, *b);
}

bool CommensurableCodes(std::string_view a, std::string_view b) {
  auto ua = ParseUcum(a);
  auto ub = ParseUcum(b);
  EXPECT_TRUE(ua && ub) << a << ", " << b;
  return ua && ub && Commensurable(*ua, *ub);
}

struct Conversion {
  double value;
  std::string_view from;
  std::string_view to;
  double expected;
};

const Conversion kConversions[] = {
    {1, "g", "mg", 1000},
    {1, "kg", "[lb_av]", 2.2046226218487757},
    {250, "mg/dL", "g/L", 2.5},
    {5.5, "mmol/L", "umol/mL", 5.5},
    {1, "10*3/uL", "10*9/L", 1},
    {4.0, "cm.m", "m2", 0.04},
    {1, "m/m", "1", 1},
    {1, "", "1", 1},
    {50, "%", "1", 0.5},
    {1, "[in_i]", "cm", 2.54},
    {1, "wk", "d", 7},
    {1, "h", "min", 60},
    {1, "/min", "Hz", 1.0 / 60},
    {1, "kg.m/s2", "N", 1},
    {1, "kg/m2", "g/cm2", 0.1},
    {120, "mm[Hg]", "kPa", 15.998640000000002},
    {37, "Cel", "K", 310.15},
    {98.6, "[degF]", "Cel", 37},
    {0, "Cel", "[degF]", 32},
    {1, "[IU]/mL", "[IU]/L", 1000},
    {3, "{cells}/uL", "/uL", 3},
    {2, "m2", "cm2", 20000},
    {1, "s-1", "/s", 1},
    {1, "10*-3", "1", 0.001},
    {1, "dL", "mL", 100},
    {1, "[pH]", "[pH]", 1},
};

TEST(UcumTest, ConvertsBetweenCommensurableUnits) {
  for (const Conversion& c : kConversions) {
    SCOPED_TRACE(std::string(c.from) + " -> " + std::string(c.to));
    double result = Convert(c.value, c.from, c.to);
    EXPECT_NEAR(result, c.expected, 1e-9 * std::max(1.0, std::fabs(c.expected)));
  }
}

TEST(UcumTest, KeepsDimensionsApart) {
  EXPECT_FALSE(CommensurableCodes("g", "m"));
  EXPECT_FALSE(CommensurableCodes("mg/dL", "mmol/L"));
  EXPECT_FALSE(CommensurableCodes("m2", "m3"));
  EXPECT_FALSE(CommensurableCodes("Cel", "s"));
}

TEST(UcumTest, ArbitraryAndSpecialUnitsCompareOnlyWithThemselves) {
  EXPECT_FALSE(CommensurableCodes("[IU]", "1"));
  EXPECT_FALSE(CommensurableCodes("[IU]/L", "[arb'U]/L"));
  EXPECT_TRUE(CommensurableCodes("[IU]/L", "[IU]/dL"));
  EXPECT_FALSE(CommensurableCodes("[pH]", "1"));
  EXPECT_FALSE(CommensurableCodes("[pH]", "B"));
}

// Search compares quantities in base units under a key: commensurable units share it.
TEST(UcumTest, CanonicalKeysAreSharedExactlyByCommensurableUnits) {
  auto key = [](std::string_view code) { return UcumCanonicalKey(*ParseUcum(code)); };
  EXPECT_EQ(key("mg/dL"), key("g/L"));
  EXPECT_EQ(key("mg/dL"), "m-3.g");
  EXPECT_NE(key("mmol/L"), key("mg/dL"));
  EXPECT_EQ(key("[IU]/L"), key("[IU]/mL"));
  EXPECT_NE(key("[IU]/L"), key("/L"));
  EXPECT_EQ(key("Cel"), key("[degF]"));
  EXPECT_EQ(key("[pH]"), "[pH]");
  EXPECT_EQ(key("1"), "1");
  EXPECT_DOUBLE_EQ(ToUcumBase(540, *ParseUcum("mg/dL")), ToUcumBase(5.4, *ParseUcum("g/L")));
  EXPECT_NEAR(ToUcumBase(100, *ParseUcum("Cel")), 373.15, 1e-9);
}

TEST(UcumTest, IsCaseSensitive) {
  EXPECT_TRUE(ParseUcum("Pa"));
  EXPECT_TRUE(ParseUcum("cd"));  // the candela, not centi-day
  EXPECT_FALSE(ParseUcum("KG"));
  EXPECT_FALSE(ParseUcum("MMOL"));
}

struct Malformed {
  std::string_view code;
  std::string_view problem;
};

const Malformed kMalformed[] = {
    {"xyz", "unknown unit 'xyz'"},
    {"k[ft_i]", "unknown unit 'k[ft_i]'"},  // prefixes go only on metric units
    {"mg/", "expected a unit"},
    {"mg//dL", "expected a unit"},
    {"(mg", "missing ')'"},
    {"mg)", "unexpected ')'"},
    {"[in_i", "unclosed '['"},
    {"mg{note", "unclosed '{'"},
    {"m999", "exponent out of range"},
    {"Cel/h", "special unit cannot be combined"},
    {"Cel2", "special unit cannot have an exponent"},
    {"mg dL", "unexpected character"},
    {"0", "factor out of range"},
    {"m\xC3\xA9", "unexpected"},
};

TEST(UcumTest, RefusesMalformedExpressionsSayingWhy) {
  for (const Malformed& m : kMalformed) {
    auto unit = ParseUcum(m.code);
    ASSERT_FALSE(unit) << m.code;
    EXPECT_NE(unit.error().message().find(m.problem), std::string::npos) << unit.error().message();
    EXPECT_NE(unit.error().message().find("position"), std::string::npos) << unit.error().message();
  }
}

TEST(UcumTest, SurvivesHostileInput) {
  auto deep = ParseUcum(std::string(100000, '('));  // nesting is bounded, not a stack overflow
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message().find("nested too deeply"), std::string::npos);
  EXPECT_FALSE(ParseUcum("10*99.10*99.10*99.10*99"));    // factor overflow
  std::string long_product = "m";
  for (int i = 0; i < 200; ++i) long_product += ".m";
  EXPECT_FALSE(ParseUcum(long_product));  // exponent overflow
}

}  // namespace
}  // namespace ck::terminology
