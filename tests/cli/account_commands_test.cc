// `chartkeeper user ...` and `chartkeeper client ...` as an operator runs them.
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "access/account_directory.h"
#include "access/password_hash.h"
#include "access/totp.h"
#include "store/sqlite/sqlite_store.h"
#include "support/chartkeeper_command.h"
#include "support/pem.h"
#include "support/data_folder.h"
#include "support/temp_dir.h"
#include "util/time.h"

namespace ck::cli {
namespace {

using testing::CommandRun;

class AccountCommandsTest : public ::testing::Test {
 protected:
  CommandRun Run(const std::string& subcommand, std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.end(), {"--log-level", "warn"});
    std::filesystem::path input_file;
    if (!input.empty()) {
      input_file = dir_.path() / "input.txt";
      std::ofstream(input_file) << input;
    }
    return testing::RunChartkeeper(subcommand, dir_.path() / "var", args, input_file);
  }

  // The stored user, read the way the server will.
  access::User StoredUser(const std::string& name) {
    SystemClock clock;
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path() / "var", .clock = &clock, .data_keys = testing::DataKeyOf(dir_.path() / "var")});
    EXPECT_TRUE(store) << store.error().ToString();
    auto user = access::AccountDirectory(**store).FindUser(name);
    EXPECT_TRUE(user && *user);
    return **user;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() / name) << text;
    return (dir_.path() / name).string();
  }

  // A new key's public half in PEM: "EC" (P-256) or "RSA" of `bits`.
  static std::string PublicKeyPem(const char* type, unsigned bits = 2048) {
    EVP_PKEY* key = std::string(type) == "EC" ? EVP_EC_gen("P-256") : EVP_RSA_gen(bits);
    std::string pem = testing::PemOf(key, false);
    EVP_PKEY_free(key);
    return pem;
  }

  static std::string Capture(const std::string& output, const std::string& pattern) {
    std::smatch match;
    return std::regex_search(output, match, std::regex(pattern)) ? match[1].str() : "";
  }

  testing::TempDir dir_;
};

TEST_F(AccountCommandsTest, AddsAUserWithAOneTimePasswordThatIsStoredOnlyAsAHash) {
  CommandRun added = Run("user add", {"alice", "--role", "clinician", "--fhir-user", "Practitioner/p1"});
  ASSERT_EQ(added.exit_code, 0) << added.output;
  const std::string password = Capture(added.output, "one-time password[^:]*: (\\S+)");
  ASSERT_EQ(password.size(), 20u) << added.output;
  const access::User user = StoredUser("alice");
  EXPECT_EQ(user.roles, std::vector<std::string>{"clinician"});
  EXPECT_EQ(user.fhir_user, "Practitioner/p1");
  EXPECT_TRUE(user.must_change_password);
  EXPECT_EQ(user.password_hash.find(password), std::string::npos);
  EXPECT_TRUE(access::VerifyPassword(user.password_hash, password));

  CommandRun listed = Run("user list", {});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("alice"), std::string::npos);
  EXPECT_NE(listed.output.find("Practitioner/p1"), std::string::npos);
  EXPECT_EQ(listed.output.find(password), std::string::npos);
}

TEST_F(AccountCommandsTest, TakesAPasswordFromStandardInputThatMeetsTheRules) {
  CommandRun weak = Run("user add", {"carol", "--role", "coder", "--password-stdin"}, "short\n");
  EXPECT_EQ(weak.exit_code, 1);
  EXPECT_NE(weak.output.find("at least 12 characters"), std::string::npos) << weak.output;
  CommandRun added = Run("user add", {"carol", "--role", "coder", "--password-stdin"}, "a long enough passphrase\n");
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_EQ(added.output.find("one-time password"), std::string::npos);
  const access::User user = StoredUser("carol");
  EXPECT_FALSE(user.must_change_password);
  EXPECT_TRUE(access::VerifyPassword(user.password_hash, "a long enough passphrase"));
}

TEST_F(AccountCommandsTest, RefusesBadUsersAndChangesNothing) {
  ASSERT_EQ(Run("user add", {"alice", "--role", "clinician"}).exit_code, 0);
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"alice", "--role", "coder"}, "exists already"},
      {{"bob", "--role", "nurse"}, "no role named nurse"},
      {{"Bob", "--role", "coder"}, "lower-case letters"},
      {{"bob", "--role", "clinician", "--fhir-user", "Observation/1"}, "--fhir-user"},
      {{"bob", "--role", "clinician", "--fhir-user", "Practitioner/"}, "--fhir-user"},
  };
  for (const auto& [args, why] : cases) {
    CommandRun run = Run("user add", args);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find(why), std::string::npos) << run.output;
  }
  EXPECT_NE(Run("user add", {"bob"}).exit_code, 0);  // --role is required
  CommandRun listed = Run("user list", {});
  EXPECT_EQ(listed.output.find("bob"), std::string::npos);
  EXPECT_EQ(StoredUser("alice").roles, std::vector<std::string>{"clinician"});
}

TEST_F(AccountCommandsTest, DisablingOrResettingVoidsEarlierCredentials) {
  ASSERT_EQ(Run("user add", {"alice", "--role", "clinician"}).exit_code, 0);
  const Millis before = SystemClock().Now();
  ASSERT_EQ(Run("user disable", {"alice"}).exit_code, 0);
  access::User user = StoredUser("alice");
  EXPECT_TRUE(user.disabled);
  EXPECT_GE(user.credentials_since, before);
  EXPECT_NE(Run("user list", {}).output.find("disabled"), std::string::npos);
  ASSERT_EQ(Run("user enable", {"alice"}).exit_code, 0);
  EXPECT_FALSE(StoredUser("alice").disabled);

  const std::string old_hash = StoredUser("alice").password_hash;
  CommandRun reset = Run("user reset-password", {"alice"});
  ASSERT_EQ(reset.exit_code, 0) << reset.output;
  const std::string password = Capture(reset.output, "one-time password[^:]*: (\\S+)");
  user = StoredUser("alice");
  EXPECT_NE(user.password_hash, old_hash);
  EXPECT_TRUE(access::VerifyPassword(user.password_hash, password));
  EXPECT_TRUE(user.must_change_password);

  for (const char* action : {"user disable", "user enable", "user reset-password", "user enroll-totp"}) {
    CommandRun missing = Run(action, {"nobody"});
    EXPECT_EQ(missing.exit_code, 1) << action;
    EXPECT_NE(missing.output.find("no user named nobody"), std::string::npos) << missing.output;
  }
}

TEST_F(AccountCommandsTest, EnrollsTwoFactorOnceTheFirstCodeIsGiven) {
  ASSERT_EQ(Run("user add", {"root", "--role", "admin"}).exit_code, 0);
  EXPECT_NE(Run("user list", {}).output.find("missing"), std::string::npos);
  CommandRun enrolled = Run("user enroll-totp", {"root"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.output;
  EXPECT_NE(enrolled.output.find("otpauth://totp/Chartkeeper:root?secret="), std::string::npos) << enrolled.output;
  EXPECT_NE(enrolled.output.find("\u2588"), std::string::npos);  // the QR code
  const std::string key_text = Capture(enrolled.output, "key: ([A-Z2-7]+)");
  auto key = access::Base32Decode(key_text);
  ASSERT_TRUE(key && key->size() == 20u) << enrolled.output;
  std::vector<std::string> recovery;
  const std::string output = enrolled.output;
  const std::regex code_line("\\n  ([a-z2-9]{5}-[a-z2-9]{5})");
  for (std::sregex_iterator it(output.begin(), output.end(), code_line), end; it != end; ++it) {
    recovery.push_back((*it)[1].str());
  }
  EXPECT_EQ(recovery.size(), 10u);
  EXPECT_FALSE(StoredUser("root").totp_enrolled());
  EXPECT_NE(Run("user list", {}).output.find("pending"), std::string::npos);

  CommandRun wrong = Run("user confirm-totp", {"root", "000000"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.output.find("wrong or was used"), std::string::npos) << wrong.output;
  const std::string code = access::Hotp(*key, static_cast<std::uint64_t>(access::TotpStep(SystemClock().Now())));
  CommandRun confirmed = Run("user confirm-totp", {"root", code});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.output;
  const access::User user = StoredUser("root");
  EXPECT_TRUE(user.totp_enrolled());
  EXPECT_EQ(user.totp_key, *key);
  EXPECT_EQ(user.recovery_code_hashes.size(), 10u);
  EXPECT_EQ(user.recovery_code_hashes.front().find(recovery.front()), std::string::npos);
  EXPECT_EQ(Run("user confirm-totp", {"root", code}).exit_code, 1);  // the same code again
  EXPECT_NE(Run("user list", {}).output.find("enrolled"), std::string::npos);
}

TEST_F(AccountCommandsTest, RegistersEachKindOfClient) {
  CommandRun app = Run("client add", {"Patient portal", "--kind", "public", "--redirect-uri", "https://portal.example/callback",
                                      "--redirect-uri", "http://127.0.0.1:5173/cb"});
  ASSERT_EQ(app.exit_code, 0) << app.output;
  const std::string app_id = Capture(app.output, "client_id: (ck-[A-Za-z0-9]{22})");
  EXPECT_FALSE(app_id.empty()) << app.output;
  EXPECT_EQ(app.output.find("client_secret"), std::string::npos);

  CommandRun confidential = Run("client add", {"EHR", "--kind", "confidential", "--redirect-uri", "https://ehr.example/cb",
                                               "--scope", "openid fhirUser user/*.cruds"});
  ASSERT_EQ(confidential.exit_code, 0) << confidential.output;
  const std::string secret = Capture(confidential.output, "client_secret \\(shown once\\): (\\S+)");
  EXPECT_EQ(secret.size(), 43u) << confidential.output;

  const std::string key = WriteFile("lab.pem", PublicKeyPem("EC"));
  CommandRun backend = Run("client add", {"Lab system", "--kind", "backend", "--public-key", key, "--scope", "system/Observation.cru"});
  ASSERT_EQ(backend.exit_code, 0) << backend.output;
  const std::string jwks = WriteFile("jwks.json", R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"1"}]})");
  ASSERT_EQ(Run("client add", {"Registry", "--kind", "backend", "--jwks", jwks}).exit_code, 0);
  CommandRun script = Run("client add", {"Nightly script", "--kind", "backend", "--secret"});
  ASSERT_EQ(script.exit_code, 0) << script.output;
  EXPECT_EQ(Capture(script.output, "client_secret \\(shown once\\): (\\S+)").size(), 43u) << script.output;

  CommandRun listed = Run("client list", {});
  ASSERT_EQ(listed.exit_code, 0);
  for (const char* shown : {"Patient portal", "EHR", "Lab system", "Registry", "confidential", "backend"}) {
    EXPECT_NE(listed.output.find(shown), std::string::npos) << shown;
  }
  EXPECT_EQ(listed.output.find(secret), std::string::npos);

  CommandRun revoked = Run("client revoke", {app_id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_NE(Run("client list", {}).output.find("revoked"), std::string::npos);
  EXPECT_EQ(Run("client revoke", {"ck-nobody"}).exit_code, 1);
}

TEST_F(AccountCommandsTest, RefusesClientsThatCouldNotBeUsedSafely) {
  const std::string small_rsa = WriteFile("small.pem", PublicKeyPem("RSA", 1024));
  const std::string ec = WriteFile("ec.pem", PublicKeyPem("EC"));
  const std::string private_jwks = WriteFile("private.json", R"({"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]})");
  const std::string not_pem = WriteFile("not.pem", "hello");
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"app", "--kind", "public"}, "at least one --redirect-uri"},
      {{"app", "--kind", "public", "--redirect-uri", "http://app.example/cb"}, "loopback"},
      {{"app", "--kind", "public", "--redirect-uri", "https://app.example/cb#frag"}, "without a fragment"},
      {{"app", "--kind", "public", "--redirect-uri", "javascript:alert(1)"}, "reversed-domain"},
      {{"app", "--kind", "public", "--redirect-uri", "https://a.example/cb", "--scope", "system/*.rs"}, "backend services"},
      {{"app", "--kind", "public", "--redirect-uri", "https://a.example/cb", "--scope", "patient/Observation.x"}, "cruds"},
      {{"app", "--kind", "public", "--redirect-uri", "https://a.example/cb", "--public-key", ec}, "for backend services"},
      {{"svc", "--kind", "backend"}, "one way to prove itself"},
      {{"svc", "--kind", "backend", "--public-key", ec, "--jwks", private_jwks}, "one way to prove itself"},
      {{"svc", "--kind", "backend", "--public-key", ec, "--secret"}, "one way to prove itself"},
      {{"app", "--kind", "public", "--redirect-uri", "https://a.example/cb", "--secret"}, "for backend services"},
      {{"svc", "--kind", "backend", "--public-key", small_rsa}, "2048 bits"},
      {{"svc", "--kind", "backend", "--public-key", not_pem}, "not a PEM public key"},
      {{"svc", "--kind", "backend", "--public-key", "/nonexistent.pem"}, "cannot read"},
      {{"svc", "--kind", "backend", "--jwks", private_jwks}, "private key"},
      {{"svc", "--kind", "backend", "--public-key", ec, "--scope", "user/*.rs"}, "system/ scopes only"},
      {{"svc", "--kind", "backend", "--public-key", ec, "--role", "nurse"}, "no role named nurse"},
      {{"svc", "--kind", "backend", "--public-key", ec, "--redirect-uri", "https://a.example/cb"}, "no redirect URIs"},
  };
  for (const auto& [args, why] : cases) {
    CommandRun run = Run("client add", args);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find(why), std::string::npos) << why << ": " << run.output;
  }
  EXPECT_NE(Run("client add", {"app", "--kind", "robot"}).exit_code, 0);
  CommandRun listed = Run("client list", {});
  EXPECT_EQ(listed.output.find("app"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("svc"), std::string::npos) << listed.output;
}

TEST_F(AccountCommandsTest, UsesTheConfiguredAccessPolicy) {
  const std::string policy = WriteFile("policy.toml", "[roles.registrar]\nscopes = [\"user/Patient.cruds\"]\n");
  CommandRun added = Run("user add", {"rita", "--role", "registrar", "--access-policy", policy});
  ASSERT_EQ(added.exit_code, 0) << added.output;
  EXPECT_EQ(Run("user add", {"sam", "--role", "registrar"}).exit_code, 1);  // not a shipped role
  const std::string bad = WriteFile("bad.toml", "[roles.x]\nscopes = [\"nonsense\"]\n");
  CommandRun refused = Run("user list", {"--access-policy", bad});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("roles.x.scopes"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace ck::cli
