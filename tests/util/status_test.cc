#include "util/status.h"

#include <gtest/gtest.h>

#include "util/error_table.h"

namespace ck {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) return Err(Status::Invalid("odd"));
  return n / 2;
}

Result<int> Quarter(int n) {
  CK_ASSIGN_OR_RETURN(int half, Half(n));
  CK_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status MustBePositive(int n) { return n > 0 ? Status::Ok() : Status::Invalid("not positive"); }

Status CheckEven(int n) {
  CK_RETURN_IF_ERROR(MustBePositive(n));
  CK_ASSIGN_OR_RETURN(int half, Half(n));
  (void)half;
  return Status::Ok();
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
}

TEST(StatusTest, PropagatesThroughResultMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> odd = Quarter(6);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), StatusCode::kInvalid);
  EXPECT_EQ(odd.error().message(), "odd");
  EXPECT_FALSE(CheckEven(3).ok());
  EXPECT_EQ(CheckEven(-2).message(), "not positive");
  EXPECT_TRUE(CheckEven(4).ok());
}

TEST(StatusTest, DetailIsKeptApartFromTheClientMessage) {
  Status s = Status::Internal("storage failed").WithDetail("/var/db: disk full");
  EXPECT_EQ(s.message(), "storage failed");
  EXPECT_EQ(s.detail(), "/var/db: disk full");
  EXPECT_NE(s.ToString().find("disk full"), std::string::npos);
}

TEST(ErrorTableTest, MapsEveryCodeToItsHttpStatus) {
  struct Case {
    StatusCode code;
    int http;
    std::string_view issue;
  };
  const Case cases[] = {
      {StatusCode::kInvalid, 400, "invalid"},           {StatusCode::kNotFound, 404, "not-found"},
      {StatusCode::kMethodNotAllowed, 405, "not-supported"}, {StatusCode::kNotAcceptable, 406, "not-supported"},
      {StatusCode::kConflict, 409, "conflict"},         {StatusCode::kGone, 410, "deleted"},
      {StatusCode::kPreconditionFailed, 412, "conflict"}, {StatusCode::kTooLarge, 413, "too-long"},
      {StatusCode::kUnsupportedMedia, 415, "not-supported"}, {StatusCode::kUnprocessable, 422, "processing"},
      {StatusCode::kInternal, 500, "exception"},        {StatusCode::kUnavailable, 503, "transient"},
      {StatusCode::kInsufficientStorage, 507, "transient"}, {StatusCode::kCorrupt, 500, "exception"},
      {StatusCode::kOutcomeUnknown, 500, "transient"},  {StatusCode::kRequestTimeout, 408, "timeout"},
      {StatusCode::kUriTooLong, 414, "too-long"},       {StatusCode::kHeadersTooLarge, 431, "too-long"},
      {StatusCode::kExpectationFailed, 417, "not-supported"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorTableFor(c.code).http_status, c.http);
    EXPECT_EQ(IssueTypeCode(ErrorTableFor(c.code).issue_type), c.issue);
  }
}

}  // namespace
}  // namespace ck
