#include "util/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace ck {
namespace {

TEST(CryptoTest, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacMatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(Hmac(HmacDigest::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, RandomBytesAreFreshEachTime) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

TEST(CryptoTest, RandomStringsUseOnlyTheAlphabetAndAllOfIt) {
  auto text = RandomString(2000, "abc");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), 2000u);
  EXPECT_EQ(std::set<char>(text->begin(), text->end()), (std::set<char>{'a', 'b', 'c'}));
  EXPECT_FALSE(RandomString(4, ""));
}

TEST(CryptoTest, ComparesInConstantTime) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
}

TEST(CryptoTest, Base64UrlRoundTripsWithoutPadding) {
  // RFC 4648 section 10 vectors, in the URL alphabet and unpadded.
  const std::pair<const char*, const char*> vectors[] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    EXPECT_EQ(*Base64UrlDecode(encoded), plain);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
}

TEST(CryptoTest, Base64UrlRefusesWhatIsNotCanonical) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v="));   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm+v"));    // the standard alphabet's +
  EXPECT_FALSE(Base64UrlDecode("Z"));       // an impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh"));      // trailing bits set
}

}  // namespace
}  // namespace ck
