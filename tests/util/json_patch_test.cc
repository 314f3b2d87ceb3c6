// JSON Patch (RFC 6902): the cases in ../shared/testdata/patch/json-patch-tests.json (from the
// FHIR test cases), then what a malformed or hostile patch gets.

#include "util/json_patch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ck {
namespace {

const std::filesystem::path kCases =
    std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "patch" / "json-patch-tests.json";

JsonValue Json(std::string_view text) {
  auto parsed = ParseJsonValue(text);
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  return parsed ? std::move(*parsed) : JsonValue{};
}

Result<JsonValue> Patch(std::string_view document, std::string_view patch, JsonPatchOptions options = {}) {
  return ApplyJsonPatch(Json(document), Json(patch), options);
}

TEST(JsonPatchTest, PassesTheSharedCases) {
  std::ifstream in(kCases);
  ASSERT_TRUE(in) << kCases;
  std::stringstream text;
  text << in.rdbuf();
  JsonValue cases = Json(text.str());
  ASSERT_TRUE(cases.is_array());
  int passed = 0;
  int failed = 0;
  for (const JsonValue& test : cases.items) {
    const std::string name = test.Find("comment")->text;
    auto result = ApplyJsonPatch(*test.Find("doc"), *test.Find("patch"));
    bool ok = false;
    if (const JsonValue* expected = test.Find("expected")) {
      ok = result && JsonEquals(*result, *expected);
      EXPECT_TRUE(ok) << name << ": " << (result ? WriteJsonValue(*result) : result.error().ToString());
    } else {
      ok = !result && result.error().code() == StatusCode::kUnprocessable;
      EXPECT_TRUE(ok) << name << ": expected an error (" << test.Find("error")->text << ")";
    }
    ++(ok ? passed : failed);
  }
  std::cout << "JSON Patch cases: " << passed << " passed, " << failed << " failed\n";
  EXPECT_EQ(passed, static_cast<int>(cases.items.size()));
}

TEST(JsonPatchTest, KeepsNumbersAsWrittenAndMembersInOrder) {
  auto result = Patch(R"({"b":1.50,"a":[1e3]})", R"([{"op":"add","path":"/a/-","value":0.10}])");
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(WriteJsonValue(*result), R"({"b":1.50,"a":[1e3,0.10]})");
}

TEST(JsonPatchTest, CopiesMovesAndReplacesTheWholeDocument) {
  auto result = Patch(R"({"a":{"x":1},"b":[]})", R"([{"op":"copy","from":"/a","path":"/b/0"},
      {"op":"move","from":"/a/x","path":"/c"},{"op":"test","path":"/b/0/x","value":1.0}])");
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(WriteJsonValue(*result), R"({"a":{},"b":[{"x":1}],"c":1})");
  result = Patch(R"({"a":1})", R"([{"op":"replace","path":"","value":[true,null]}])");
  ASSERT_TRUE(result);
  EXPECT_EQ(WriteJsonValue(*result), "[true,null]");
}

TEST(JsonPatchTest, RefusesMalformedPatchesAs400) {
  const char* malformed[] = {
      R"({"op":"add","path":"/a","value":1})",                  // not an array
      R"([1])",                                                  // not an operation object
      R"([{"op":"delete","path":"/a"}])",                       // unknown op
      R"([{"path":"/a","value":1}])",                           // no op
      R"([{"op":"add","value":1}])",                            // no path
      R"([{"op":"add","path":"/a"}])",                          // no value
      R"([{"op":"add","path":7,"value":1}])",                   // path not a string
      R"([{"op":"add","path":"a","value":1}])",                 // pointer without '/'
      R"([{"op":"add","path":"/a~2","value":1}])",              // bad escape
      R"([{"op":"move","from":"/a","path":"/a/b"}])",           // into its own child
      R"([{"op":"copy","path":"/b"}])",                         // no from
  };
  for (const char* patch : malformed) {
    auto result = Patch(R"({"a":{"b":1}})", patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), StatusCode::kInvalid) << patch << ": " << result.error().ToString();
  }
}

TEST(JsonPatchTest, RefusesWhatCannotApplyAs422NamingTheOperation) {
  const char* unappliable[] = {
      R"([{"op":"remove","path":"/missing"}])",
      R"([{"op":"replace","path":"/a/x","value":1}])",
      R"([{"op":"add","path":"/list/3","value":1}])",
      R"([{"op":"add","path":"/list/01","value":1}])",
      R"([{"op":"remove","path":"/list/-"}])",
      R"([{"op":"add","path":"/n/x","value":1}])",
      R"([{"op":"test","path":"/n","value":"2"}])",
      R"([{"op":"remove","path":""}])",
      R"([{"op":"move","from":"/nothing","path":"/x"}])",
  };
  for (const char* patch : unappliable) {
    auto result = Patch(R"({"a":{},"list":[1,2],"n":2})", patch);
    ASSERT_FALSE(result) << patch;
    EXPECT_EQ(result.error().code(), StatusCode::kUnprocessable) << patch << ": " << result.error().ToString();
    EXPECT_NE(result.error().message().find("operation 0"), std::string::npos) << result.error().message();
  }
}

TEST(JsonPatchTest, StopsACopyThatWouldGrowTheDocumentWithoutBound) {
  std::string patch = "[";
  for (int i = 0; i < 40; ++i) patch += std::string(i ? "," : "") + R"({"op":"copy","from":"/a","path":"/a/-"})";
  patch += "]";
  auto result = Patch(R"({"a":[1]})", patch, {.max_values = 10000});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), StatusCode::kUnprocessable);
  EXPECT_NE(result.error().message().find("more than 10000 values"), std::string::npos) << result.error().message();
}

TEST(JsonValueTest, RefusesDuplicateKeysDeepNestingAndBadText) {
  EXPECT_FALSE(ParseJsonValue(R"({"a":1,"a":2})"));
  EXPECT_FALSE(ParseJsonValue(std::string(100, '[') + std::string(100, ']'), 64));
  EXPECT_TRUE(ParseJsonValue(std::string(60, '[') + std::string(60, ']'), 64));
  EXPECT_FALSE(ParseJsonValue("{\"a\":\"\xff\"}"));
  EXPECT_FALSE(ParseJsonValue("[1,]"));
  EXPECT_FALSE(ParseJsonValue(""));
}

}  // namespace
}  // namespace ck
