// Specification of how bodies are kept on disk: compressed when it pays, always checksummed, and
// every corruption reported as such (never served as different JSON, never a huge allocation).
#include "store/body_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace ck::store {
namespace {

std::string RandomJson(std::size_t size) {
  std::mt19937 random(7);
  std::string out = R"({"resourceType":"Basic","text":")";
  while (out.size() < size) out += static_cast<char>('a' + random() % 26);
  return out + "\"}";
}

TEST(BodyCodecTest, CompressesOnlyWhenItPays) {
  EXPECT_EQ(EncodeBody("{\"a\":1}").encoding, BodyEncoding::kPlainChecked);
  std::string repetitive(4000, 'a');
  EncodedBody encoded = EncodeBody(repetitive);
  EXPECT_EQ(encoded.encoding, BodyEncoding::kZstdChecked);
  EXPECT_LT(encoded.bytes.size(), 200u);
  EXPECT_EQ(*DecodeBody(encoded.encoding, encoded.bytes), repetitive);
}

TEST(BodyCodecTest, ReadsBodiesWrittenWithoutChecksums) {
  EXPECT_EQ(*DecodeBody(BodyEncoding::kPlain, "{}"), "{}");
}

TEST(BodyCodecTest, RefusesGarbageAndUnknownEncodingsAsCorruption) {
  EXPECT_EQ(DecodeBody(BodyEncoding::kZstd, "garbage").error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(DecodeBody(static_cast<BodyEncoding>(7), "x").error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(DecodeBody(BodyEncoding::kPlainChecked, "{}").error().code(), StatusCode::kCorrupt);
}

// Every single-byte change of a stored body is either refused as corrupt or (in bytes the
// format ignores) decodes to exactly the original: never to other JSON.
TEST(BodyCodecTest, DetectsEveryMutatedByte) {
  for (const std::string& json : {std::string(R"({"resourceType":"Patient","id":"a"})"), RandomJson(3000),
                                  std::string(5000, 'x') + RandomJson(500)}) {
    EncodedBody encoded = EncodeBody(json);
    int refused = 0;
    for (std::size_t i = 0; i < encoded.bytes.size(); ++i) {
      for (unsigned char flip : {0x01, 0x80, 0xFF}) {
        std::string mutated = encoded.bytes;
        mutated[i] = static_cast<char>(mutated[i] ^ flip);
        auto decoded = DecodeBody(encoded.encoding, mutated);
        if (decoded) {
          EXPECT_EQ(*decoded, json) << "byte " << i;
        } else {
          EXPECT_EQ(decoded.error().code(), StatusCode::kCorrupt);
          ++refused;
        }
      }
    }
    EXPECT_GT(refused, 0);
  }
}

TEST(BodyCodecTest, AFrameDeclaringAHugeSizeIsRefusedNotAllocated) {
  EncodedBody encoded = EncodeBody(std::string(4000, 'a'));
  ASSERT_EQ(encoded.encoding, BodyEncoding::kZstdChecked);
  // A zstd frame header with an 8-byte content size of 2^40 bytes (RFC 8878 3.1.1.1).
  std::string huge("\x28\xB5\x2F\xFD", 4);
  huge += static_cast<char>(0xE4);  // 8-byte size, single segment, checksum
  for (int i = 0; i < 8; ++i) huge += static_cast<char>(i == 5 ? 1 : 0);
  huge += encoded.bytes.substr(6);
  auto decoded = DecodeBody(BodyEncoding::kZstdChecked, huge);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), StatusCode::kCorrupt);
}

TEST(BodyCodecTest, RefusesAZstdFrameWithoutItsChecksumWhereOneIsRequired) {
  EncodedBody encoded = EncodeBody(std::string(4000, 'a'));
  std::string unflagged = encoded.bytes;
  unflagged[4] = static_cast<char>(unflagged[4] & ~0x04);
  EXPECT_EQ(DecodeBody(BodyEncoding::kZstdChecked, unflagged).error().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace ck::store
