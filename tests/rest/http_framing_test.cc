// Specification of the framing rules applied to each request head (RFC 9112 sections 3 and 6):
// one row per rule, with the answer it gives.
#include "rest/http_framing.h"

#include <gtest/gtest.h>

namespace ck::rest {
namespace {

struct Case {
  const char* name;
  unsigned version;
  const char* target;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  StatusCode code;
};

const Case kCases[] = {
    {"PlainGet", 11, "/fhir/Patient", {{"Host", "example.org"}}, StatusCode::kOk},
    {"HostWithPort", 11, "/", {{"host", "127.0.0.1:8080"}}, StatusCode::kOk},
    {"HostIpv6", 11, "/", {{"Host", "[::1]:8080"}}, StatusCode::kOk},
    {"Http10WithoutHost", 10, "/", {}, StatusCode::kOk},
    {"NoHost", 11, "/", {}, StatusCode::kInvalid},
    {"TwoHosts", 11, "/", {{"Host", "a"}, {"Host", "b"}}, StatusCode::kInvalid},
    {"HostWithSpace", 11, "/", {{"Host", "a b"}}, StatusCode::kInvalid},
    {"HostWithPath", 11, "/", {{"Host", "a/b"}}, StatusCode::kInvalid},
    {"HostWithBadPort", 11, "/", {{"Host", "a:80x"}}, StatusCode::kInvalid},
    {"EmptyHost", 11, "/", {{"Host", ""}}, StatusCode::kInvalid},
    {"Chunked", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}}, StatusCode::kOk},
    {"ChunkedThenIdentity", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "chunked, identity"}}, StatusCode::kInvalid},
    {"Identity", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "identity"}}, StatusCode::kInvalid},
    {"Xchunked", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "xchunked"}}, StatusCode::kInvalid},
    {"ChunkedTwice", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}, StatusCode::kInvalid},
    {"GzipThenChunked", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}}, StatusCode::kNotImplemented},
    {"ChunkedWithContentLength", 11, "/", {{"Host", "a"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}}, StatusCode::kInvalid},
    {"ChunkedInHttp10", 10, "/", {{"Transfer-Encoding", "chunked"}}, StatusCode::kInvalid},
    {"TwoContentLengths", 11, "/", {{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "6"}}, StatusCode::kInvalid},
    {"ContentLengthList", 11, "/", {{"Host", "a"}, {"Content-Length", "5, 5"}}, StatusCode::kInvalid},
    {"SignedContentLength", 11, "/", {{"Host", "a"}, {"Content-Length", "+5"}}, StatusCode::kInvalid},
    {"AbsoluteForm", 11, "http://example.org:8080/fhir/Patient?x=1", {{"Host", "example.org"}}, StatusCode::kOk},
    {"AbsoluteFormWithUserInfo", 11, "http://u@example.org/", {{"Host", "example.org"}}, StatusCode::kInvalid},
    {"AsteriskForm", 11, "*", {{"Host", "a"}}, StatusCode::kInvalid},
    {"AuthorityForm", 11, "example.org:443", {{"Host", "a"}}, StatusCode::kInvalid},
    {"Http2", 20, "/", {{"Host", "a"}}, StatusCode::kInvalid},
    {"Continue", 11, "/", {{"Host", "a"}, {"Expect", "100-Continue"}}, StatusCode::kOk},
    {"OtherExpectation", 11, "/", {{"Host", "a"}, {"Expect", "something"}}, StatusCode::kExpectationFailed},
    {"ValueWithNewline", 11, "/", {{"Host", "a"}, {"X", "a\nb"}}, StatusCode::kInvalid},
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class FramingTest : public testing::TestWithParam<Case> {};

TEST_P(FramingTest, AppliesTheRule) {
  const Case& c = GetParam();
  FramingDecision decision = CheckFraming({"GET", c.target, c.version, c.fields}, {});
  EXPECT_EQ(decision.status.code(), c.code) << decision.status.ToString();
}

INSTANTIATE_TEST_SUITE_P(Rules, FramingTest, testing::ValuesIn(kCases), [](const auto& info) { return std::string(info.param.name); });

TEST(FramingTest, ReducesAnAbsoluteFormTargetToItsPath) {
  EXPECT_EQ(CheckFraming({"GET", "http://example.org:8080/fhir/Patient?x=1", 11, {{"Host", "example.org"}}}, {}).target,
            "/fhir/Patient?x=1");
  EXPECT_EQ(CheckFraming({"GET", "HTTP://example.org", 11, {{"Host", "example.org"}}}, {}).target, "/");
}

TEST(FramingTest, RefusesLongTargetsWith414AndManyFieldsWith431) {
  std::string target = "/" + std::string(200, 'a');
  EXPECT_EQ(CheckFraming({"GET", target, 11, {{"Host", "a"}}}, {.max_target_bytes = 100}).status.code(), StatusCode::kUriTooLong);
  std::vector<std::pair<std::string_view, std::string_view>> fields(5, {"X", "y"});
  fields.emplace_back("Host", "a");
  EXPECT_EQ(CheckFraming({"GET", "/", 11, fields}, {.max_header_fields = 5}).status.code(), StatusCode::kHeadersTooLarge);
}

TEST(FramingTest, AsksForContinueOnlyInHttp11) {
  EXPECT_TRUE(CheckFraming({"POST", "/", 11, {{"Host", "a"}, {"Expect", "100-continue"}}}, {}).expect_continue);
  EXPECT_FALSE(CheckFraming({"POST", "/", 10, {{"Expect", "100-continue"}}}, {}).expect_continue);
}

}  // namespace
}  // namespace ck::rest
