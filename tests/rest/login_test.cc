// User sign-in over HTTP, black-box: the authorization-code flow with PKCE through the login,
// password-change, TOTP-enrollment and consent pages, as a browser without scripts would post
// them; then the token endpoint (codes once, PKCE checked, refresh tokens rotated and a reused one
// revoking its whole sign-in), introspection and revocation. Each attack gets its own refusal
// and yields no token: login CSRF, a wrong or missing PKCE verifier, a redirect URI that was not
// registered, password guessing (the lockout engages), a TOTP code replayed.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <regex>

#include "access/account_directory.h"
#include "access/password_hash.h"
#include "access/totp.h"
#include "store/sqlite/sqlite_store.h"
#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/data_folder.h"
#include "support/temp_dir.h"
#include "util/crypto.h"
#include "util/json_value.h"
#include "util/text.h"
#include "util/time.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

constexpr char kBase[] = "http://ck.test";
constexpr char kRedirect[] = "https://app.example/callback";
constexpr char kPassword[] = "correct horse battery";
constexpr char kVerifier[] = "a-pkce-verifier-of-forty-three-characters-or-more-0123";
constexpr char kTotpKey[] = "12345678901234567890";  // RFC 6238's test key

std::string Challenge(const std::string& verifier) { return Base64UrlEncode(Sha256(verifier)); }

// The value of a query parameter in a URL, decoded.
std::string UrlParameter(const std::string& url, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(url, match, std::regex("[?&]" + name + "=([^&]*)"))) return "";
  std::string value = match[1];
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size()) {
      out += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += value[i] == '+' ? ' ' : value[i];
    }
  }
  return out;
}

// A browser on the sign-in pages: it keeps the page's hidden fields and the CSRF cookie, and
// posts the forms as a user would fill them.
class Browser {
 public:
  explicit Browser(unsigned short port) : http_(port) {}

  HttpResult Open(const std::string& query) { return Keep(http_.Get("/auth/authorize?" + query)); }
  // Posts the current page's form with `fields` ("name=value&..."); `with_cookie` false plays a
  // forged cross-site post.
  HttpResult Post(const std::string& step, const std::string& fields, bool with_cookie = true) {
    std::map<std::string, std::string> headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (with_cookie && !cookie_.empty()) headers["Cookie"] = cookie_;
    return Keep(http_.Post("/auth/authorize", "login=" + PercentEncode(login_) + "&csrf=" + PercentEncode(csrf_) + "&step=" + step +
                                                  (fields.empty() ? "" : "&" + fields),
                           headers));
  }
  void ForgeCsrf(const std::string& csrf) { csrf_ = csrf; }
  const std::string& csrf() const { return csrf_; }

 private:
  HttpResult Keep(HttpResult page) {
    std::smatch match;
    if (std::regex_search(page.body, match, std::regex("name=\"login\" value=\"([^\"]*)\""))) login_ = match[1];
    if (std::regex_search(page.body, match, std::regex("name=\"csrf\" value=\"([^\"]*)\""))) csrf_ = match[1];
    const std::string set = page.Header("set-cookie");
    if (!set.empty()) cookie_ = set.substr(0, set.find(';'));
    return page;
  }

  HttpClient http_;
  std::string login_, csrf_, cookie_;
};

class LoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SystemClock clock;
    auto store = testing::OpenDataFolder(dir_->path() / "var", clock);
    access::AccountDirectory accounts(*store);
    const std::string hash = *access::HashPassword(kPassword);
    auto add_user = [&](const std::string& name, const std::string& role, bool must_change, const std::string& totp_key) {
      access::User user;
      user.name = name;
      user.roles = {role};
      user.fhir_user = "Practitioner/p-" + name;
      user.password_hash = hash;
      user.must_change_password = must_change;
      user.totp_key = totp_key;
      ASSERT_TRUE(accounts.AddUser(user).ok());
    };
    add_user("dr.smith", "clinician", false, "");
    add_user("dr.jones", "clinician", false, kTotpKey);
    add_user("guessed", "clinician", false, "");
    add_user("newadmin", "admin", true, "");
    add_user("dr.brown", "clinician", false, "");
    add_user("analyst", "him-analyst", false, "");
    access::Client app;
    app.id = "ck-app";
    app.name = "Chart viewer";
    app.kind = access::ClientKind::kPublic;
    app.redirect_uris = {kRedirect};
    app.scope = "openid fhirUser launch/patient online_access offline_access user/*.cruds patient/*.cruds";
    ASSERT_TRUE(accounts.AddClient(app).ok());
    access::Client resource_server;
    resource_server.id = "ck-rs";
    resource_server.name = "resource server";
    resource_server.kind = access::ClientKind::kConfidential;
    resource_server.secret_hash = Sha256Hex("rs-secret");
    resource_server.redirect_uris = {"https://rs.example/cb"};
    resource_server.scope = "user/*.rs";
    ASSERT_TRUE(accounts.AddClient(resource_server).ok());
    store.reset();
    Start();
  }
  static void Start() {
    server_ = new testing::ServerProcess(dir_->path() / "var", {"--base-url", std::string(kBase) + "/fhir"}, {.auth = true});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static std::string AuthorizeQuery(const std::string& scope, const std::string& challenge = Challenge(kVerifier),
                                    const std::string& redirect = kRedirect) {
    return "response_type=code&client_id=ck-app&redirect_uri=" + PercentEncode(redirect) + "&scope=" + PercentEncode(scope) +
           "&state=st-1&nonce=n-1&aud=" + PercentEncode(std::string(kBase) + "/fhir") + "&code_challenge=" + challenge +
           "&code_challenge_method=S256";
  }
  // Signs `user` in and approves the consent page; the redirect's code.
  static std::string SignIn(const std::string& user, const std::string& scope = "openid fhirUser online_access user/*.cruds",
                            const std::string& code = "", const std::string& patient = "") {
    Browser browser(server_->port());
    HttpResult page = browser.Open(AuthorizeQuery(scope));
    EXPECT_EQ(page.status, 200) << page.body;
    HttpResult consent = browser.Post("sign-in", "user=" + user + "&password=" + PercentEncode(kPassword) + "&code=" + code);
    EXPECT_EQ(consent.status, 200) << consent.body;
    EXPECT_NE(consent.body.find("name=\"decision\" value=\"approve\""), std::string::npos) << consent.body;
    if (!patient.empty()) {
      EXPECT_NE(consent.body.find("name=\"patient\""), std::string::npos) << consent.body;
    }
    HttpResult approved = browser.Post("consent", "decision=approve" + (patient.empty() ? "" : "&patient=" + patient));
    EXPECT_EQ(approved.status, 302) << approved.body;
    EXPECT_EQ(UrlParameter(approved.Header("location"), "state"), "st-1");
    return UrlParameter(approved.Header("location"), "code");
  }
  static HttpResult Form(const std::string& path, const std::string& form, std::map<std::string, std::string> headers = {}) {
    headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    return HttpClient(server_->port()).Post(path, form, headers);
  }
  static HttpResult Exchange(const std::string& code, const std::string& verifier = kVerifier, const std::string& redirect = kRedirect) {
    return Form("/auth/token", "grant_type=authorization_code&client_id=ck-app&code=" + code + "&redirect_uri=" + PercentEncode(redirect) +
                                   "&code_verifier=" + verifier);
  }
  static std::map<std::string, std::string> Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  static std::map<std::string, std::string> ResourceServer() {
    std::string basic = Base64UrlEncode("ck-rs:rs-secret");
    std::replace(basic.begin(), basic.end(), '-', '+');
    std::replace(basic.begin(), basic.end(), '_', '/');
    while (basic.size() % 4 != 0) basic += '=';
    return {{"Authorization", "Basic " + basic}};
  }
  static JsonValue JwtClaims(const std::string& jwt) {
    const std::size_t dot = jwt.find('.');
    return *ParseJsonValue(*Base64UrlDecode(jwt.substr(dot + 1, jwt.find('.', dot + 1) - dot - 1)));
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};

testing::TempDir* LoginTest::dir_ = nullptr;
testing::ServerProcess* LoginTest::server_ = nullptr;

TEST_F(LoginTest, ASignedInUserGetsTokensThatReadAndWriteAsTheirRoleAllows) {
  const std::string code = SignIn("dr.smith");
  HttpResult issued = Exchange(code);
  ASSERT_EQ(issued.status, 200) << issued.body;
  auto tokens = ParseJson(issued.body);
  EXPECT_EQ(std::string(tokens["scope"].GetString()), "openid fhirUser online_access user/*.cruds");
  EXPECT_EQ(tokens["expires_in"].GetInt(), 3600);
  ASSERT_TRUE(tokens.HasMember("refresh_token"));
  const JsonValue id = JwtClaims(tokens["id_token"].GetString());
  EXPECT_EQ(id.Find("sub")->text, "dr.smith");
  EXPECT_EQ(id.Find("aud")->text, "ck-app");
  EXPECT_EQ(id.Find("nonce")->text, "n-1");
  EXPECT_EQ(id.Find("fhirUser")->text, std::string(kBase) + "/fhir/Practitioner/p-dr.smith");

  const std::string token = tokens["access_token"].GetString();
  HttpClient http(server_->port());
  HttpResult created = http.Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Login"}]})", Bearer(token));
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(http.Get("/fhir/Patient?family=Login", Bearer(token)).status, 200);
  // The clinician role denies the audit trail whatever the scope says.
  EXPECT_EQ(http.Get("/fhir/AuditEvent", Bearer(token)).status, 403);
  // Nor does it administer the server: a reindex is refused.
  HttpResult reindex = http.Post("/fhir/$reindex", "", Bearer(token));
  EXPECT_EQ(reindex.status, 403);
  EXPECT_NE(reindex.body.find("administer"), std::string::npos) << reindex.body;

  // A code is good once.
  HttpResult again = Exchange(code);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("invalid_grant"), std::string::npos);
}

TEST_F(LoginTest, PkceIsRequiredAndChecked) {
  Browser browser(server_->port());
  for (const std::string& bad : {std::string("&code_challenge_method=plain"), std::string("&code_challenge=short")}) {
    std::string query = AuthorizeQuery("user/*.rs");
    query = std::regex_replace(query, std::regex(bad.starts_with("&code_challenge_method") ? "&code_challenge_method=S256" : "&code_challenge=[^&]*"), bad);
    HttpResult refused = browser.Open(query);
    EXPECT_EQ(refused.status, 302) << bad;
    EXPECT_EQ(UrlParameter(refused.Header("location"), "error"), "invalid_request") << bad;
  }
  const std::string code = SignIn("dr.smith", "user/*.rs");
  HttpResult wrong = Exchange(code, "another-verifier-that-is-also-forty-three-characters-long");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("PKCE"), std::string::npos) << wrong.body;
  // The failed attempt spent the code.
  EXPECT_EQ(Exchange(code).status, 400);
  EXPECT_EQ(Exchange(SignIn("dr.smith", "user/*.rs"), "").status, 400);
}

TEST_F(LoginTest, ARedirectUriThatWasNotRegisteredIsNeverRedirectedTo) {
  Browser browser(server_->port());
  HttpResult refused = browser.Open(AuthorizeQuery("user/*.rs", Challenge(kVerifier), "https://evil.example/cb"));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.Header("location"), "");
  EXPECT_NE(refused.body.find("redirect_uri is not one registered"), std::string::npos);
  // At the token endpoint the redirect URI must be the authorization request's.
  HttpResult other = Exchange(SignIn("dr.smith", "user/*.rs"), kVerifier, "https://app.example/other");
  EXPECT_EQ(other.status, 400);
  EXPECT_NE(other.body.find("redirect_uri differs"), std::string::npos) << other.body;
}

TEST_F(LoginTest, PagesAreScriptFreeAndAFormWithoutItsCsrfCookieIsRefused) {
  Browser browser(server_->port());
  HttpResult page = browser.Open(AuthorizeQuery("user/*.rs"));
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  EXPECT_NE(page.Header("set-cookie").find("HttpOnly; SameSite=Strict"), std::string::npos);

  const std::string sign_in = "user=dr.smith&password=" + PercentEncode(kPassword);
  HttpResult forged = browser.Post("sign-in", sign_in, false);
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.body.find("CSRF"), std::string::npos);
  const std::string real = browser.csrf();
  browser.ForgeCsrf("forged-token");
  EXPECT_EQ(browser.Post("sign-in", sign_in).status, 403);
  browser.ForgeCsrf(real);
  EXPECT_EQ(browser.Post("sign-in", sign_in).status, 200);
}

TEST_F(LoginTest, RepeatedWrongPasswordsLockTheUserEvenAgainstTheRightOne) {
  Browser browser(server_->port());
  ASSERT_EQ(browser.Open(AuthorizeQuery("user/*.rs")).status, 200);
  for (int i = 0; i < 5; ++i) {
    HttpResult wrong = browser.Post("sign-in", "user=guessed&password=wrong-guess-" + std::to_string(i));
    EXPECT_EQ(wrong.status, i < 4 ? 401 : 429) << i;
  }
  HttpResult locked = browser.Post("sign-in", "user=guessed&password=" + PercentEncode(kPassword));
  EXPECT_EQ(locked.status, 429);
  EXPECT_NE(locked.body.find("Too many failed sign-ins"), std::string::npos);
  // An unknown user reads the same as a wrong password.
  HttpResult unknown = browser.Post("sign-in", "user=nobody-at-all&password=x");
  EXPECT_NE(unknown.body.find("Wrong user name, password or one-time code."), std::string::npos) << unknown.body;
}

TEST_F(LoginTest, ATotpUserNeedsTheCodeAndACodeWorksOnce) {
  Browser browser(server_->port());
  ASSERT_EQ(browser.Open(AuthorizeQuery("user/*.rs")).status, 200);
  EXPECT_EQ(browser.Post("sign-in", "user=dr.jones&password=" + PercentEncode(kPassword)).status, 401);
  const std::string code = access::Hotp(kTotpKey, static_cast<std::uint64_t>(access::TotpStep(SystemClock().Now())));
  ASSERT_FALSE(SignIn("dr.jones", "user/*.rs", code).empty());
  // The same code again: a replay (the step was used). Drift allows the next step's code only
  // once that step comes, so the only code that could pass now is the one just used.
  Browser replay(server_->port());
  ASSERT_EQ(replay.Open(AuthorizeQuery("user/*.rs")).status, 200);
  EXPECT_EQ(replay.Post("sign-in", "user=dr.jones&password=" + PercentEncode(kPassword) + "&code=" + code).status, 401);
}

TEST_F(LoginTest, TheFirstLoginChangesThePasswordAndEnrollsTotpWhenTheRoleRequiresIt) {
  Browser browser(server_->port());
  ASSERT_EQ(browser.Open(AuthorizeQuery("user/*.rs")).status, 200);
  HttpResult change = browser.Post("sign-in", "user=newadmin&password=" + PercentEncode(kPassword));
  ASSERT_EQ(change.status, 200);
  EXPECT_NE(change.body.find("name=\"new_password\""), std::string::npos) << change.body;
  HttpResult weak = browser.Post("password", "new_password=short&new_password_again=short");
  EXPECT_NE(weak.body.find("12"), std::string::npos) << weak.body;
  const std::string chosen = PercentEncode("a brand new passphrase");
  HttpResult enroll = browser.Post("password", "new_password=" + chosen + "&new_password_again=" + chosen);
  std::smatch key;
  ASSERT_TRUE(std::regex_search(enroll.body, key, std::regex("Key: <code>([A-Z2-7]+)</code>"))) << enroll.body;
  EXPECT_NE(enroll.body.find("otpauth://totp/"), std::string::npos);
  const std::string secret = *access::Base32Decode(key[1].str());
  EXPECT_NE(browser.Post("totp", "code=000000").body.find("does not match"), std::string::npos);
  const std::string code = access::Hotp(secret, static_cast<std::uint64_t>(access::TotpStep(SystemClock().Now())));
  HttpResult consent = browser.Post("totp", "code=" + code);
  EXPECT_NE(consent.body.find("value=\"approve\""), std::string::npos) << consent.body;
  // The old password no longer signs in.
  Browser old(server_->port());
  ASSERT_EQ(old.Open(AuthorizeQuery("user/*.rs")).status, 200);
  EXPECT_EQ(old.Post("sign-in", "user=newadmin&password=" + PercentEncode(kPassword)).status, 401);
}

TEST_F(LoginTest, ARefreshTokenIsSpentOnUseAndAReuseRevokesTheWholeSignIn) {
  auto tokens = ParseJson(Exchange(SignIn("dr.smith")).body);
  const std::string first = tokens["refresh_token"].GetString();
  HttpResult refreshed = Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&refresh_token=" + first);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string second = ParseJson(refreshed.body)["refresh_token"].GetString();
  EXPECT_NE(second, first);
  HttpResult reused = Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&refresh_token=" + first);
  EXPECT_EQ(reused.status, 400);
  EXPECT_NE(reused.body.find("used before"), std::string::npos) << reused.body;
  HttpResult after = Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&refresh_token=" + second);
  EXPECT_EQ(after.status, 400);
  EXPECT_NE(after.body.find("revoked"), std::string::npos) << after.body;
  // A narrower scope may be asked for on refresh, never a wider one.
  const std::string third = ParseJson(Exchange(SignIn("dr.smith")).body)["refresh_token"].GetString();
  HttpResult wider = Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&scope=system/*.rs&refresh_token=" + third);
  EXPECT_EQ(wider.status, 400);
}

TEST_F(LoginTest, IntrospectionAndRevocation) {
  auto tokens = ParseJson(Exchange(SignIn("dr.smith")).body);
  const std::string access_token = tokens["access_token"].GetString();
  HttpResult active = Form("/auth/introspect", "token=" + access_token, ResourceServer());
  ASSERT_EQ(active.status, 200) << active.body;
  auto described = ParseJson(active.body);
  EXPECT_TRUE(described["active"].GetBool());
  EXPECT_EQ(std::string(described["sub"].GetString()), "dr.smith");
  EXPECT_EQ(std::string(described["client_id"].GetString()), "ck-app");
  // A public client may not introspect; nobody may without authenticating.
  EXPECT_EQ(Form("/auth/introspect", "client_id=ck-app&token=" + access_token).status, 401);
  EXPECT_EQ(Form("/auth/introspect", "token=" + access_token).status, 401);

  // The app revokes its access token and its sign-in.
  EXPECT_EQ(Form("/auth/revoke", "client_id=ck-app&token=" + access_token).status, 200);
  EXPECT_EQ(Form("/auth/revoke", "client_id=ck-app&token=" + std::string(tokens["refresh_token"].GetString())).status, 200);
  EXPECT_EQ(HttpClient(server_->port()).Get("/fhir/Patient", Bearer(access_token)).status, 401);
  EXPECT_FALSE(ParseJson(Form("/auth/introspect", "token=" + access_token, ResourceServer()).body)["active"].GetBool());
  HttpResult refresh = Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&refresh_token=" +
                                               std::string(tokens["refresh_token"].GetString()));
  EXPECT_EQ(refresh.status, 400);
  // Revoking a token one does not hold is answered alike and changes nothing.
  const std::string other = ParseJson(Exchange(SignIn("dr.smith")).body)["access_token"].GetString();
  EXPECT_EQ(Form("/auth/revoke", "token=" + other, ResourceServer()).status, 200);
  EXPECT_EQ(HttpClient(server_->port()).Get("/fhir/Patient", Bearer(other)).status, 200);
}

TEST_F(LoginTest, AUsersTokensEndWhenTheirPasswordIsResetOrTheyAreDisabled) {
  auto tokens = ParseJson(Exchange(SignIn("dr.brown")).body);
  const std::string access_token = tokens["access_token"].GetString();
  const std::string refresh_token = tokens["refresh_token"].GetString();
  EXPECT_EQ(HttpClient(server_->port()).Get("/fhir/Patient", Bearer(access_token)).status, 200);
  delete server_;
  // Tokens carry whole seconds, and a change in the second of the sign-in itself does not void
  // them (the first login's new password): the reset must come in a later second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto reset = testing::RunChartkeeper("user reset-password", dir_->path() / "var", {"dr.brown"});
  ASSERT_EQ(reset.exit_code, 0) << reset.output;
  Start();
  HttpResult refused = HttpClient(server_->port()).Get("/fhir/Patient", Bearer(access_token));
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("password changed"), std::string::npos) << refused.body;
  EXPECT_EQ(Form("/auth/token", "grant_type=refresh_token&client_id=ck-app&refresh_token=" + refresh_token).status, 400);

  delete server_;
  ASSERT_EQ(testing::RunChartkeeper("user disable", dir_->path() / "var", {"dr.smith"}).exit_code, 0);
  Start();
  Browser browser(server_->port());
  ASSERT_EQ(browser.Open(AuthorizeQuery("user/*.rs")).status, 200);
  EXPECT_EQ(browser.Post("sign-in", "user=dr.smith&password=" + PercentEncode(kPassword)).status, 401);
  delete server_;
  ASSERT_EQ(testing::RunChartkeeper("user enable", dir_->path() / "var", {"dr.smith"}).exit_code, 0);
  Start();
}

// A patient-context token (patient/ scopes, a patient chosen at consent) reaches that patient's
// compartment and nothing else, through every path: read, vread, search (plain, by another
// patient, in another compartment), _include and _revinclude, history, batch entries, writes.
class PatientTokenTest : public LoginTest {
 protected:
  void SetUp() override {
    if (!ann_.empty()) return;
    const std::string clinician = ParseJson(Exchange(SignIn("dr.smith")).body)["access_token"].GetString();
    HttpClient http(server_->port());
    auto create = [&](const std::string& body) {
      HttpResult created = http.Post("/fhir/" + std::string(ParseJson(body)["resourceType"].GetString()), body, Bearer(clinician));
      EXPECT_EQ(created.status, 201) << created.body;
      return std::string(ParseJson(created.body)["id"].GetString());
    };
    ann_ = create(R"({"resourceType":"Patient","name":[{"family":"Compartment","given":["Ann"]}]})");
    bob_ = create(R"({"resourceType":"Patient","name":[{"family":"Compartment","given":["Bob"]}]})");
    practitioner_ = create(R"({"resourceType":"Practitioner","name":[{"family":"Doc"}]})");
    auto observation = [&](const std::string& patient) {
      return create(R"({"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/)" +
                    patient + R"("},"performer":[{"reference":"Practitioner/)" + practitioner_ + R"("}]})");
    };
    ann_observation_ = observation(ann_);
    bob_observation_ = observation(bob_);
    token_ = ParseJson(Exchange(SignIn("dr.smith", "launch/patient patient/*.rs patient/Observation.cu", "", ann_)).body)["access_token"].GetString();
  }
  HttpResult Get(const std::string& target) { return HttpClient(server_->port()).Get(target, Bearer(token_)); }
  std::vector<std::string> Found(const std::string& target) {
    HttpResult found = Get(target);
    EXPECT_EQ(found.status, 200) << target << ": " << found.body;
    std::vector<std::string> out;
    auto bundle = ParseJson(found.body);
    if (!bundle.HasMember("entry")) return out;
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (!entry["resource"].HasMember("id")) continue;  // an OperationOutcome about the search
      out.push_back(std::string(entry["resource"]["resourceType"].GetString()) + "/" + entry["resource"]["id"].GetString());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string ann_, bob_, practitioner_, ann_observation_, bob_observation_, token_;
};
std::string PatientTokenTest::ann_, PatientTokenTest::bob_, PatientTokenTest::practitioner_, PatientTokenTest::ann_observation_,
    PatientTokenTest::bob_observation_, PatientTokenTest::token_;

TEST_F(PatientTokenTest, ReadsInsideTheCompartmentAnswerAndOthersReadAsAbsent) {
  EXPECT_EQ(Get("/fhir/Patient/" + ann_).status, 200);
  EXPECT_EQ(Get("/fhir/Observation/" + ann_observation_).status, 200);
  EXPECT_EQ(Get("/fhir/Observation/" + ann_observation_ + "/_history/1").status, 200);
  EXPECT_EQ(Get("/fhir/Observation/" + ann_observation_ + "/_history").status, 200);
  for (const std::string& target : {"/fhir/Patient/" + bob_, "/fhir/Observation/" + bob_observation_,
                                    "/fhir/Observation/" + bob_observation_ + "/_history/1", "/fhir/Observation/" + bob_observation_ + "/_history",
                                    "/fhir/Practitioner/" + practitioner_}) {
    HttpResult hidden = Get(target);
    EXPECT_EQ(hidden.status, 404) << target << ": " << hidden.body;
  }
  EXPECT_EQ(Get("/fhir/Observation/_history").status, 403);
  EXPECT_EQ(Get("/fhir/_history").status, 403);
}

TEST_F(PatientTokenTest, SearchesAndTheirIncludesStayInTheCompartment) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(Found("/fhir/Observation"), Ids{"Observation/" + ann_observation_});
  EXPECT_EQ(Found("/fhir/Observation?subject=Patient/" + bob_), Ids{});
  EXPECT_EQ(Found("/fhir/Patient?family=Compartment"), Ids{"Patient/" + ann_});
  EXPECT_EQ(Found("/fhir/Patient/" + ann_ + "/Observation"), Ids{"Observation/" + ann_observation_});
  EXPECT_EQ(Get("/fhir/Patient/" + bob_ + "/Observation").status, 403);
  EXPECT_EQ(Get("/fhir/Practitioner").status, 403);
  // _include of the performer (a Practitioner, outside every patient compartment) and of the
  // subject; _revinclude from the patients.
  EXPECT_EQ(Found("/fhir/Observation?_include=Observation:performer&_include=Observation:subject"),
            (Ids{"Observation/" + ann_observation_, "Patient/" + ann_}));
  EXPECT_EQ(Found("/fhir/Patient?_revinclude=Observation:subject"), (Ids{"Observation/" + ann_observation_, "Patient/" + ann_}));
  // Chains and _has (search part 2) never reach past the compartment: refused, or answered
  // from inside it.
  for (std::string target : {"/fhir/Observation?subject:Patient.name=Bob", "/fhir/Patient?_has:Observation:subject:code:text=pulse"}) {
    HttpResult answered = Get(target);
    if (answered.status == 200) {
      for (const std::string& found : Found(target)) EXPECT_TRUE(found == "Patient/" + ann_ || found == "Observation/" + ann_observation_) << found;
    } else {
      EXPECT_EQ(answered.status / 100, 4) << target;
    }
  }
  // Searching every type at once covers only the compartment's types.
  EXPECT_EQ(Found("/fhir?_type=Observation,Patient"), (Ids{"Observation/" + ann_observation_, "Patient/" + ann_}));
}

TEST_F(PatientTokenTest, EverythingIsThePatientsOwnCompartmentOnly) {
  using Ids = std::vector<std::string>;
  // The Practitioner the observation refers to is outside every patient compartment: a patient
  // token does not reach it, so $everything leaves it out.
  const Ids own{"Observation/" + ann_observation_, "Patient/" + ann_};
  EXPECT_EQ(Found("/fhir/Patient/" + ann_ + "/$everything"), own);
  EXPECT_EQ(Found("/fhir/Patient/$everything"), own);
  EXPECT_EQ(Get("/fhir/Patient/" + bob_ + "/$everything").status, 403);
  HttpResult encounter = Get("/fhir/Encounter/any/$everything");
  EXPECT_EQ(encounter.status, 403) << encounter.body;
}

TEST_F(PatientTokenTest, BatchEntriesAndWritesAreHeldToTheCompartment) {
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"request":{"method":"GET","url":"Observation/)" + ann_observation_ + R"("}},
    {"request":{"method":"GET","url":"Observation/)" + bob_observation_ + R"("}},
    {"request":{"method":"GET","url":"Observation?subject=Patient/)" + bob_ + R"("}}]})";
  HttpResult answered = HttpClient(server_->port()).Post("/fhir", batch, Bearer(token_));
  ASSERT_EQ(answered.status, 200) << answered.body;
  auto bundle = ParseJson(answered.body);
  auto entries = bundle["entry"].GetArray();
  EXPECT_EQ(std::string(entries[0]["response"]["status"].GetString()).substr(0, 3), "200");
  EXPECT_EQ(std::string(entries[1]["response"]["status"].GetString()).substr(0, 3), "404");
  EXPECT_EQ(std::string(entries[2]["response"]["status"].GetString()).substr(0, 3), "200");
  EXPECT_FALSE(entries[2]["resource"].HasMember("entry"));

  HttpClient http(server_->port());
  auto observation = [](const std::string& patient, const std::string& id = "") {
    return R"({"resourceType":"Observation",)" + (id.empty() ? "" : R"("id":")" + id + R"(",)") +
           R"("status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/)" + patient + R"("}})";
  };
  EXPECT_EQ(http.Post("/fhir/Observation", observation(ann_), Bearer(token_)).status, 201);
  HttpResult elsewhere = http.Post("/fhir/Observation", observation(bob_), Bearer(token_));
  EXPECT_EQ(elsewhere.status, 403) << elsewhere.body;
  // Moving Ann's Observation to Bob, or taking Bob's over for Ann: neither.
  EXPECT_EQ(http.Put("/fhir/Observation/" + ann_observation_, observation(bob_, ann_observation_), Bearer(token_)).status, 403);
  EXPECT_EQ(http.Put("/fhir/Observation/" + bob_observation_, observation(ann_, bob_observation_), Bearer(token_)).status, 404);
  EXPECT_EQ(Found("/fhir/Observation?code:text=weight").size(), 1u);
  EXPECT_EQ(Found("/fhir/Observation?code:text=pulse").size(), 1u);
}

// Break the glass: a clinician whose token reaches Ann asks for Bob's record with a reason.
TEST_F(PatientTokenTest, EmergencyAccessReadsOnePatientForAnHourAndRaisesAnAlert) {
  auto ask = [&](const std::string& token, const std::string& form) {
    return Form("/auth/break-glass", form, Bearer(token));
  };
  const std::string reason = PercentEncode("unconscious in the emergency department, allergies unknown");
  EXPECT_EQ(ask(token_, "patient=" + bob_).status, 400);                          // no reason
  EXPECT_EQ(ask(token_, "patient=" + bob_ + "&reason=because").status, 400);      // no real reason
  EXPECT_EQ(ask(token_, "patient=no-such-patient&reason=" + reason).status, 404);
  EXPECT_EQ(ask("not-a-token", "patient=" + bob_ + "&reason=" + reason).status, 401);
  const std::string analyst = ParseJson(Exchange(SignIn("analyst", "user/*.rs")).body)["access_token"].GetString();
  EXPECT_EQ(ask(analyst, "patient=" + bob_ + "&reason=" + reason).status, 403);

  HttpResult granted = ask(token_, "patient=" + bob_ + "&reason=" + reason);
  ASSERT_EQ(granted.status, 200) << granted.body;
  auto answer = ParseJson(granted.body);
  EXPECT_EQ(answer["expires_in"].GetInt(), 3600);
  const std::string emergency = answer["access_token"].GetString();
  HttpClient http(server_->port());
  EXPECT_EQ(http.Get("/fhir/Observation/" + bob_observation_, Bearer(emergency)).status, 200);
  EXPECT_EQ(http.Get("/fhir/Patient/" + bob_, Bearer(emergency)).status, 200);
  EXPECT_EQ(http.Get("/fhir/Observation/" + ann_observation_, Bearer(emergency)).status, 404);  // one patient only
  EXPECT_EQ(http.Get("/fhir/AuditEvent", Bearer(emergency)).status, 403);
  EXPECT_EQ(http.Post("/fhir/Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" +
                                               bob_ + R"("}})", Bearer(emergency)).status, 403);
  EXPECT_EQ(ask(emergency, "patient=" + ann_ + "&reason=" + reason).status, 403);  // not from itself

  // The alert: an active Flag on Bob saying who, until when and why.
  const std::string clinician = ParseJson(Exchange(SignIn("dr.smith")).body)["access_token"].GetString();
  HttpResult flag = http.Get("/fhir/" + std::string(answer["alert"].GetString()), Bearer(clinician));
  ASSERT_EQ(flag.status, 200) << flag.body;
  auto alert = ParseJson(flag.body);
  EXPECT_EQ(std::string(alert["subject"]["reference"].GetString()), "Patient/" + bob_);
  EXPECT_EQ(std::string(alert["status"].GetString()), "active");
  EXPECT_NE(std::string(alert["code"]["text"].GetString()).find("by user dr.smith until"), std::string::npos);
  EXPECT_NE(std::string(alert["code"]["text"].GetString()).find("allergies unknown"), std::string::npos);
}

TEST_F(LoginTest, TheSmartConfigurationDescribesTheSignIn) {
  auto config = ParseJson(HttpClient(server_->port()).Get("/.well-known/smart-configuration").body);
  EXPECT_EQ(std::string(config["authorization_endpoint"].GetString()), std::string(kBase) + "/auth/authorize");
  EXPECT_EQ(std::string(config["revocation_endpoint"].GetString()), std::string(kBase) + "/auth/revoke");
  EXPECT_EQ(std::string(config["code_challenge_methods_supported"][0].GetString()), "S256");
}

}  // namespace
}  // namespace ck
