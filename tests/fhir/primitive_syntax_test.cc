#include "fhir/primitive_syntax.h"

#include <gtest/gtest.h>

namespace ck::fhir {
namespace {

struct Case {
  std::string_view type;
  std::string_view text;
  bool valid;
};

const Case kCases[] = {
    {"date", "2024", true}, {"date", "2024-02", true}, {"date", "2024-02-29", true},
    {"date", "2023-02-29", false}, {"date", "2024-13", false}, {"date", "0000", false},
    {"date", "24-01-01", false}, {"date", "2024-1-01", false}, {"date", "2024-01-01T10:00:00Z", false},
    {"dateTime", "2015-02-07T13:28:17.239+02:00", true}, {"dateTime", "2015-02-07", true},
    {"dateTime", "2015-02-07T13:28", false}, {"dateTime", "2015-02-07T13:28:17", false},
    {"dateTime", "2015-02-07T25:00:00Z", false}, {"dateTime", "2015-02-07T13:28:17+14:30", false},
    {"dateTime", "2015-02T13:28:17Z", false},
    {"instant", "2015-02-07T13:28:17.239Z", true}, {"instant", "2015-02-07", false},
    {"time", "13:28:17", true}, {"time", "13:28:17.5", true}, {"time", "13:28", false}, {"time", "24:00:00", false},
    {"integer", "0", true}, {"integer", "-2147483648", true}, {"integer", "2147483648", false},
    {"integer", "01", false}, {"integer", "1.0", false}, {"integer", "1e2", false},
    {"positiveInt", "1", true}, {"positiveInt", "0", false}, {"positiveInt", "-1", false},
    {"unsignedInt", "0", true}, {"unsignedInt", "-0", false},
    {"id", "abc-123.X", true}, {"id", std::string_view("a_b"), false},
    {"id", "0123456789012345678901234567890123456789012345678901234567890123", true},
    {"id", "01234567890123456789012345678901234567890123456789012345678901234", false},
    {"code", "male", true}, {"code", "two words", true}, {"code", " male", false},
    {"code", "male ", false}, {"code", "a  b", false},
    {"uri", "http://example.org/fhir", true}, {"uri", "http://exa mple.org", false},
    {"oid", "urn:oid:1.2.3.4", true}, {"oid", "urn:oid:3.1", false}, {"oid", "urn:oid:1.02", false},
    {"uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", true},
    {"uuid", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", false},
    {"base64Binary", "aGVsbG8=", true}, {"base64Binary", "aGVsbG8", false}, {"base64Binary", "a$==", false},
    {"string", "anything at all", true}, {"string", "", false},
    {"xhtml", "<div xmlns=\"http://www.w3.org/1999/xhtml\">hi</div>", true}, {"xhtml", "<p>hi</p>", false},
    {"xhtml", "<div>no namespace</div>", false},
};

TEST(PrimitiveSyntaxTest, FollowsTheR4LexicalRules) {
  for (const Case& c : kCases) {
    auto problem = CheckPrimitive(c.type, c.text);
    EXPECT_EQ(!problem.has_value(), c.valid) << c.type << " '" << c.text << "': " << problem.value_or("valid");
  }
}

TEST(PrimitiveSyntaxTest, ExplainsWhatIsWrong) {
  auto problem = CheckPrimitive("date", "2023-02-30");
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("calendar date"), std::string::npos);
  EXPECT_NE(CheckPrimitive("string", "")->find("empty"), std::string::npos);
}

TEST(PrimitiveSyntaxTest, RejectsStringsOverOneMebibyte) {
  EXPECT_TRUE(CheckPrimitive("string", std::string((1u << 20) + 1, 'x')));
  EXPECT_FALSE(CheckPrimitive("string", std::string(1u << 20, 'x')));
}

}  // namespace
}  // namespace ck::fhir
