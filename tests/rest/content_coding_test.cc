// Specification of request body decoding: gzip and deflate within the body limit (also after
// decompression), anything else refused.
#include "rest/content_coding.h"

#include <gtest/gtest.h>

#include "support/compression.h"

namespace ck::rest {
namespace {

using ck::testing::Compress;

const std::string kJson = R"({"resourceType":"Patient","name":[{"family":"Example"}]})";

TEST(ContentCodingTest, DecodesGzipAndBothFormsOfDeflate) {
  for (auto [coding, bits] : {std::pair{"gzip", 31}, {"x-gzip", 31}, {"deflate", 15}, {"deflate", -15}, {"GZIP", 31}}) {
    std::string body = Compress(kJson, bits);
    ASSERT_TRUE(DecodeContentCoding(coding, 1 << 20, body).ok()) << coding;
    EXPECT_EQ(body, kJson) << coding;
  }
}

TEST(ContentCodingTest, LeavesIdentityAndNoCodingAlone) {
  for (const char* coding : {"", "identity"}) {
    std::string body = kJson;
    ASSERT_TRUE(DecodeContentCoding(coding, 1 << 20, body).ok());
    EXPECT_EQ(body, kJson);
  }
}

TEST(ContentCodingTest, UndoesStackedCodingsLastFirst) {
  std::string body = Compress(Compress(kJson, 31), 15);
  ASSERT_TRUE(DecodeContentCoding("gzip, deflate", 1 << 20, body).ok());
  EXPECT_EQ(body, kJson);
}

TEST(ContentCodingTest, RefusesCodingsItCannotDecode) {
  for (const char* coding : {"br", "compress", "zstd", "gzip, br"}) {
    std::string body = kJson;
    EXPECT_EQ(DecodeContentCoding(coding, 1 << 20, body).code(), StatusCode::kUnsupportedMedia) << coding;
  }
}

TEST(ContentCodingTest, RefusesABodyThatExpandsPastTheLimit) {
  std::string body = Compress(std::string(10 << 20, 'a'), 31);  // a 10 MiB "bomb" of about 10 KB
  EXPECT_LT(body.size(), 64u << 10);
  EXPECT_EQ(DecodeContentCoding("gzip", 1 << 20, body).code(), StatusCode::kTooLarge);
}

TEST(ContentCodingTest, RefusesCorruptOrTruncatedData) {
  std::string truncated = Compress(kJson, 31);
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(DecodeContentCoding("gzip", 1 << 20, truncated).code(), StatusCode::kInvalid);
  std::string garbage = "not compressed at all";
  EXPECT_EQ(DecodeContentCoding("gzip", 1 << 20, garbage).code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace ck::rest
