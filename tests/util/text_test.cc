// Specification of the text helpers: splitting, UTF-8 repair for JSON, escaping for log lines.
#include "util/text.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(SplitTest, KeepsEmptyPartsBetweenSeparators) {
  EXPECT_EQ(Split("a\tb\t\tc", '\t'), (std::vector<std::string_view>{"a", "b", "", "c"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(Split("a,", ','), (std::vector<std::string_view>{"a", ""}));
}

TEST(HttpTextTest, TrimsSpacesAndComparesIgnoringAsciiCase) {
  EXPECT_EQ(TrimSpaces(" \t chunked \t"), "chunked");
  EXPECT_EQ(TrimSpaces("   "), "");
  EXPECT_EQ(ToLowerAscii("Application/FHIR+JSON; Charset=UTF-8"), "application/fhir+json; charset=utf-8");
  EXPECT_TRUE(EqualsIgnoringCase("Transfer-Encoding", "transfer-encoding"));
  EXPECT_FALSE(EqualsIgnoringCase("chunked", "chunked "));
  EXPECT_FALSE(EqualsIgnoringCase("\xC3\xA9", "\xC3\x89"));  // ASCII only: no Unicode case folding
}

TEST(ToValidUtf8Test, ReplacesEveryInvalidSequenceAndKeepsValidText) {
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(ToValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
}

TEST(EscapeForLogTest, WritesControlCharactersAndInvalidBytesAsHex) {
  std::string out;
  AppendEscapedForLog(out, "path=/x\n2026 info FORGED\r\t\x7F\\ \xFF \xC3\xA9");
  EXPECT_EQ(out, "path=/x\\x0a2026 info FORGED\\x0d\\x09\\x7f\\\\ \\xff \xC3\xA9");
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace ck
