// Specification of how the JSON reader holds up under hostile bodies: every check is linear in
// the input (the time for 8n is compared with the time for n in the same run, with a wide
// margin: linear gives about 8x, quadratic 64x), and the problems reported are capped so an
// answer stays small whatever the body holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "fhir/json_reader.h"

namespace ck::fhir {
namespace {

const Definitions& defs = Definitions::R4();

// The fastest of three reads of `json`, in seconds.
double ReadSeconds(const std::string& json) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto resource = ReadResource(json, defs);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return best;
}

// Generators of hostile bodies of size about n.
struct Shape {
  const char* name;
  std::function<std::string(int)> make;
};

std::string Repeat(const std::string& piece, int n, const std::string& separator = ",") {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? separator : "") + piece;
  return out;
}

const Shape kShapes[] = {
    {"RepeatedKeyInOneObject",
     [](int n) { return R"({"resourceType":"Patient","name":[{)" + Repeat(R"("given":["a"])", n) + "}]}"; }},
    {"RepeatedKeysInManyObjects",
     [](int n) { return R"({"resourceType":"Patient","name":[)" + Repeat(R"({"given":["a"],"given":["b"],"_given":[{"id":"x"}]})", n / 8) + "]}"; }},
    {"LongPrimitiveArrayWithPartner",
     [](int n) {
       return R"({"resourceType":"Patient","name":[{"given":[)" + Repeat("null", n) + R"(],"_given":[)" + Repeat(R"({"id":"a"})", n) + "]}]}";
     }},
    {"ManyWrongTypedValues", [](int n) { return R"({"resourceType":"Patient","name":[{"given":[)" + Repeat("1", n) + "]}]}"; }},
    {"ManyInvalidEntries",
     [](int n) {
       return R"({"resourceType":"Bundle","type":"collection","entry":[)" +
              Repeat(R"({"resource":{"resourceType":"Patient","gender":7,"bogus":1}})", n / 4) + "]}";
     }},
    {"ManyValidEntries",
     [](int n) {
       return R"({"resourceType":"Bundle","type":"collection","entry":[)" +
              Repeat(R"({"resource":{"resourceType":"Patient","name":[{"given":["a","b"],"family":"c"}]}})", n / 4) + "]}";
     }},
    {"ManyUnknownKeys", [](int n) { return R"({"resourceType":"Patient",)" + Repeat(R"("k":1)", std::min(n, 2000)) + "}"; }},
};

class HostileJsonTest : public testing::TestWithParam<Shape> {};

TEST_P(HostileJsonTest, CostGrowsLinearlyWithTheInput) {
  const Shape& shape = GetParam();
  const int n = 4000;
  std::string small = shape.make(n);
  std::string large = shape.make(8 * n);
  double t1 = ReadSeconds(small);
  double t8 = ReadSeconds(large);
  // Linear cost gives about 8x; quadratic would give 64x. The floor absorbs timer noise on
  // inputs that are refused almost at once.
  EXPECT_LT(t8, 24 * std::max(t1, 1e-4)) << shape.name << ": " << t1 << " s for " << small.size() << " bytes, " << t8
                                         << " s for " << large.size() << " bytes";
}

INSTANTIATE_TEST_SUITE_P(Shapes, HostileJsonTest, testing::ValuesIn(kShapes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HostileJsonTest, CapsTheProblemsReportedAndSaysMoreMayFollow) {
  std::string body = R"({"resourceType":"Patient","name":[{"given":[)" + Repeat("1", 100000) + "]}]}";
  auto resource = ReadResource(body, defs, {.bind = {.max_issues = 100}});
  ASSERT_FALSE(resource);
  const auto& issues = resource.error().issues();
  ASSERT_EQ(issues.size(), 101u);
  EXPECT_EQ(issues[0].expression, "Patient.name[0].given[0]");
  EXPECT_EQ(issues.back().type, IssueType::kTooCostly);
  EXPECT_NE(issues.back().message.find("only the first 100"), std::string::npos);
}

TEST(HostileJsonTest, ReportsEverythingBelowTheCapWithoutANote) {
  auto resource = ReadResource(R"({"resourceType":"Patient","gender":1,"birthDate":"x"})", defs, {.bind = {.max_issues = 2}});
  ASSERT_FALSE(resource);
  EXPECT_EQ(resource.error().issues().size(), 2u);
}

TEST(HostileJsonTest, RefusesObjectsWithMoreMembersThanAnyFhirElementHas) {
  std::string body = R"({"resourceType":"Patient",)";
  for (int i = 0; i < 1000000; ++i) body += "\"k" + std::to_string(i) + "\":1,";
  body += R"("z":1})";
  auto resource = ReadResource(body, defs);
  ASSERT_FALSE(resource);
  EXPECT_EQ(resource.error().issues().size(), 1u);
  EXPECT_NE(resource.error().message().find("more than 2048 members"), std::string::npos);
}

TEST(HostileJsonTest, QuotesHugeNamesOnlyInPart) {
  std::string name(100000, 'x');
  auto resource = ReadResource(R"({"resourceType":"Patient",")" + name + R"(":1})", defs);
  ASSERT_FALSE(resource);
  std::size_t size = 0;
  for (const Issue& issue : resource.error().issues()) size += issue.message.size() + issue.expression.size();
  EXPECT_LT(size, 400u) << resource.error().ToString();
}

}  // namespace
}  // namespace ck::fhir
