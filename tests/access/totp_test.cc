#include "access/totp.h"

#include <gtest/gtest.h>

#include <set>

namespace ck::access {
namespace {

const std::string kSha1Key = "12345678901234567890";

TEST(TotpTest, HotpMatchesRfc4226AppendixD) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) EXPECT_EQ(Hotp(kSha1Key, counter), expected[counter]) << counter;
}

TEST(TotpTest, TotpMatchesRfc6238AppendixB) {
  const std::string sha256_key = "12345678901234567890123456789012";
  const std::string sha512_key = "1234567890123456789012345678901234567890123456789012345678901234";
  struct Vector {
    std::int64_t seconds;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Vector vectors[] = {{59, "94287082", "46119246", "90693936"},
                            {1111111109, "07081804", "68084774", "25091201"},
                            {1111111111, "14050471", "67062674", "99943326"},
                            {1234567890, "89005924", "91819424", "93441116"},
                            {2000000000, "69279037", "90698825", "38618901"},
                            {20000000000, "65353130", "77737706", "47863826"}};
  for (const Vector& v : vectors) {
    const auto step = static_cast<std::uint64_t>(TotpStep(v.seconds * 1000));
    EXPECT_EQ(Hotp(kSha1Key, step, 8), v.sha1) << v.seconds;
    EXPECT_EQ(Hotp(sha256_key, step, 8, HmacDigest::kSha256), v.sha256) << v.seconds;
    EXPECT_EQ(Hotp(sha512_key, step, 8, HmacDigest::kSha512), v.sha512) << v.seconds;
  }
}

TEST(TotpTest, AcceptsOneStepOfDriftEitherSide) {
  const Millis now = 1'700'000'000'000;
  const std::int64_t step = TotpStep(now);
  for (std::int64_t drift : {-1, 0, 1}) {
    const std::string code = Hotp(kSha1Key, static_cast<std::uint64_t>(step + drift));
    EXPECT_EQ(MatchTotp(kSha1Key, code, now, -1), std::optional(step + drift)) << drift;
  }
  for (std::int64_t drift : {-2, 2}) {
    EXPECT_EQ(MatchTotp(kSha1Key, Hotp(kSha1Key, static_cast<std::uint64_t>(step + drift)), now, -1), std::nullopt) << drift;
  }
}

TEST(TotpTest, RefusesAReplayedOrOlderCode) {
  const Millis now = 1'700'000'000'000;
  const std::int64_t step = TotpStep(now);
  const std::string code = Hotp(kSha1Key, static_cast<std::uint64_t>(step));
  EXPECT_EQ(MatchTotp(kSha1Key, code, now, step), std::nullopt);      // used already
  EXPECT_EQ(MatchTotp(kSha1Key, code, now, step + 1), std::nullopt);  // a later one was used
  // The previous step's code after the current one was used: refused too.
  EXPECT_EQ(MatchTotp(kSha1Key, Hotp(kSha1Key, static_cast<std::uint64_t>(step - 1)), now, step), std::nullopt);
}

TEST(TotpTest, RefusesMalformedCodes) {
  const Millis now = 1'700'000'000'000;
  const std::string code = Hotp(kSha1Key, static_cast<std::uint64_t>(TotpStep(now)));
  EXPECT_EQ(MatchTotp(kSha1Key, code.substr(1), now, -1), std::nullopt);
  EXPECT_EQ(MatchTotp(kSha1Key, code + "0", now, -1), std::nullopt);
  EXPECT_EQ(MatchTotp(kSha1Key, "", now, -1), std::nullopt);
  EXPECT_EQ(MatchTotp(kSha1Key, "abcdef", now, -1), std::nullopt);
}

TEST(TotpTest, Base32RoundTripsAsAuthenticatorsExpect) {
  // RFC 4648 section 10, without padding.
  EXPECT_EQ(Base32Encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(Base32Encode("f"), "MY");
  EXPECT_EQ(*Base32Decode("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(*Base32Decode("mzxw 6ytb oi======"), "foobar");  // as people type it
  EXPECT_FALSE(Base32Decode("MZXW1"));
  EXPECT_EQ(Base32Encode(kSha1Key), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(TotpTest, TheOtpauthUriCarriesTheSecretAndParameters) {
  EXPECT_EQ(OtpauthUri("Chartkeeper", "dr smith", kSha1Key),
            "otpauth://totp/Chartkeeper:dr%20smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Chartkeeper"
            "&algorithm=SHA1&digits=6&period=30");
}

TEST(TotpTest, SecretsAndRecoveryCodesAreRandom) {
  auto secret = NewTotpSecret();
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->size(), 20u);
  EXPECT_NE(*secret, *NewTotpSecret());
  auto codes = NewRecoveryCodes();
  ASSERT_TRUE(codes);
  EXPECT_EQ(codes->size(), 10u);
  EXPECT_EQ(std::set<std::string>(codes->begin(), codes->end()).size(), 10u);
  EXPECT_EQ((*codes)[0].size(), 11u);
  EXPECT_EQ((*codes)[0][5], '-');
  // Kept as hashes that ignore dashes, spaces and case.
  std::string typed = (*codes)[0];
  typed.erase(5, 1);
  for (char& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(RecoveryCodeHash(typed), RecoveryCodeHash((*codes)[0]));
  EXPECT_NE(RecoveryCodeHash((*codes)[1]), RecoveryCodeHash((*codes)[0]));
}

}  // namespace
}  // namespace ck::access
