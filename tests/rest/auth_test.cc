// Authentication and authorization over HTTP, black-box (the server started with auth on, its
// clients stored in the data folder beforehand): every request without a valid token is
// 401 and changes nothing; a valid token does what its scopes and its client's roles allow and no
// more (403 otherwise, also for each bundle entry and for _include/_revinclude results).
#include <openssl/evp.h>
#include <sqlite3.h>
#include <gtest/gtest.h>

#include "access/account_directory.h"
#include "access/jwt.h"
#include "store/sqlite/sqlite_store.h"
#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/data_folder.h"
#include "support/temp_dir.h"
#include "support/pem.h"
#include "util/crypto.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;

constexpr char kBase[] = "http://ck.test";  // --base-url: the tokens' iss and aud stay the same across restarts


struct SecretClient {
  std::string id;
  std::string secret;
};

class AuthTest : public ::testing::Test {
 protected:
  // The clients are stored in the data folder before the server starts, as `chartkeeper client
  // add` stores them (tests/cli/account_commands_test.cc runs that command; the revocation test
  // below runs `client revoke`).
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    writer_ = AddSecretClient("writer", "system/Patient.cruds system/Observation.cruds");
    reader_ = AddSecretClient("reader", "system/Patient.rs");
    observer_ = AddSecretClient("observer", "system/Observation.rs system/Patient.rs");
    nobody_ = AddSecretClient("nobody", "system/*.cruds", "researcher");
    labs_ = AddSecretClient("labs", "system/Observation.crs?category=laboratory");
    auditor_ = AddSecretClient("auditor", "system/AuditEvent.rs", "auditor");
    EVP_PKEY* key = EVP_EC_gen("P-256");
    lab_key_pem_ = new std::string(testing::PemOf(key, true));
    access::Client lab;
    lab.id = "ck-lab";
    lab.name = "lab";
    lab.kind = access::ClientKind::kBackend;
    lab.public_key_pem = testing::PemOf(key, false);
    lab.scope = "system/*.rs";
    lab.roles = {"integration"};
    EVP_PKEY_free(key);
    AddClient(lab);
    lab_id_ = new std::string(lab.id);
    Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete lab_key_pem_;
    delete lab_id_;
    delete dir_;
  }

  static testing::CommandRun Cli(const std::string& command, std::vector<std::string> args) {
    args.insert(args.end(), {"--log-level", "warn"});
    return testing::RunChartkeeper(command, dir_->path() / "var", args);
  }
  static void AddClient(const access::Client& client) {
    SystemClock clock;
    auto store = testing::OpenDataFolder(dir_->path() / "var", clock);
    ASSERT_TRUE(access::AccountDirectory(*store).AddClient(client).ok());
  }
  static SecretClient AddSecretClient(const std::string& name, const std::string& scope, const std::string& role = "integration") {
    access::Client client;
    client.id = "ck-" + name;
    client.name = name;
    client.kind = access::ClientKind::kBackend;
    client.scope = scope;
    client.roles = {role};
    const std::string secret = "secret-of-" + name;
    client.secret_hash = Sha256Hex(secret);
    AddClient(client);
    return {client.id, secret};
  }
  // A client made while the server is stopped (the data folder is one process's at a time).
  static SecretClient AddSecretClientWhileStopped(const std::string& name) {
    Stop();
    SecretClient client = AddSecretClient(name, "system/Patient.rs");
    Start();
    return client;
  }
  static void Start() {
    server_ = new testing::ServerProcess(dir_->path() / "var", {"--base-url", std::string(kBase) + "/fhir"}, {.auth = true});
  }
  static void Stop() {
    delete server_;
    server_ = nullptr;
  }

  HttpClient Client() const { return HttpClient(server_->port()); }
  static std::string Basic(const SecretClient& client) { return "Basic " + BasicValue(client.id + ":" + client.secret); }
  static std::string BasicValue(const std::string& text) {
    std::string encoded = Base64UrlEncode(text);
    std::replace(encoded.begin(), encoded.end(), '-', '+');
    std::replace(encoded.begin(), encoded.end(), '_', '/');
    while (encoded.size() % 4 != 0) encoded += '=';
    return encoded;
  }
  HttpResult TokenRequest(const std::string& form, std::map<std::string, std::string> headers) {
    headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    return Client().Post("/auth/token", form, headers);
  }
  std::string TokenFor(const SecretClient& client, const std::string& scope = "") {
    HttpResult issued = TokenRequest("grant_type=client_credentials" + (scope.empty() ? "" : "&scope=" + scope), {{"Authorization", Basic(client)}});
    EXPECT_EQ(issued.status, 200) << issued.body;
    return ParseJson(issued.body)["access_token"].GetString();
  }
  static std::map<std::string, std::string> Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  int Count(const std::string& type) {
    HttpResult counted = Client().Get("/fhir/" + type + "?_summary=count", Bearer(TokenFor(writer_)));
    EXPECT_EQ(counted.status, 200) << counted.body;
    return ParseJson(counted.body)["total"].GetInt();
  }
  // The server's signing key, read from its database (for forging tokens that are signed right
  // but wrong in their claims).
  static access::JoseKey ServerKey() {
    testing::RawDatabase database(dir_->path() / "var", SQLITE_OPEN_READONLY);
    sqlite3* db = database.get();
    sqlite3_stmt* select = nullptr;
    sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE key LIKE 'access/signing-key/%'", -1, &select, nullptr);
    std::string record;
    if (sqlite3_step(select) == SQLITE_ROW) record = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
    sqlite3_finalize(select);
    
    auto parsed = ParseJsonValue(record);
    return *access::JoseKey::FromPrivatePem(parsed->Find("privateKey")->text, parsed->Find("kid")->text);
  }
  static JsonValue Claims(std::int64_t issued, std::int64_t expires, const std::string& iss = std::string(kBase) + "/auth",
                          const std::string& aud = std::string(kBase) + "/fhir") {
    return *ParseJsonValue(R"({"iss":")" + iss + R"(","aud":")" + aud + R"(","sub":")" + writer_.id + R"(","client_id":")" + writer_.id +
                           R"(","scope":"system/Patient.cruds","iat":)" + std::to_string(issued) + R"(,"exp":)" + std::to_string(expires) + "}");
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
  static SecretClient writer_, reader_, observer_, nobody_, labs_, auditor_;
  static std::string* lab_key_pem_;
  static std::string* lab_id_;
};

testing::TempDir* AuthTest::dir_ = nullptr;
testing::ServerProcess* AuthTest::server_ = nullptr;
SecretClient AuthTest::writer_, AuthTest::reader_, AuthTest::observer_, AuthTest::nobody_, AuthTest::labs_, AuthTest::auditor_;
std::string* AuthTest::lab_key_pem_ = nullptr;
std::string* AuthTest::lab_id_ = nullptr;

const char kPatient[] = R"({"resourceType":"Patient","name":[{"family":"Auth"}]})";

TEST_F(AuthTest, WithoutATokenOnlyTheDiscoveryEndpointsAnswer) {
  for (const char* target : {"/fhir/Patient", "/fhir/Patient/x", "/fhir/_history", "/fhir", "/fhir/Patient/x/_history"}) {
    HttpResult refused = Client().Get(target);
    EXPECT_EQ(refused.status, 401) << target;
    EXPECT_EQ(refused.Header("www-authenticate"), "Bearer realm=\"chartkeeper\"") << target;
    EXPECT_EQ(std::string(ParseJson(refused.body)["resourceType"].GetString()), "OperationOutcome");
  }
  HttpResult post = Client().Post("/fhir/Patient", kPatient);
  EXPECT_EQ(post.status, 401);
  EXPECT_EQ(Client().Get("/fhir/metadata").status, 200);
  EXPECT_EQ(Client().Get("/healthz").status, 200);
  HttpResult smart = Client().Get("/.well-known/smart-configuration");
  ASSERT_EQ(smart.status, 200);
  EXPECT_EQ(std::string(ParseJson(smart.body)["token_endpoint"].GetString()), std::string(kBase) + "/auth/token");
  HttpResult jwks = Client().Get("/auth/jwks");
  ASSERT_EQ(jwks.status, 200);
  auto keys = ParseJson(jwks.body);
  ASSERT_EQ(keys["keys"].Size(), 1u);
  EXPECT_FALSE(keys["keys"][0].HasMember("d"));
  EXPECT_EQ(Count("Patient"), 0);
}

TEST_F(AuthTest, ATokenDoesWhatItsScopesAllowAndNoMore) {
  const std::string writer = TokenFor(writer_);
  HttpResult created = Client().Post("/fhir/Patient", kPatient, Bearer(writer));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = ParseJson(created.body)["id"].GetString();

  const std::string reader = TokenFor(reader_);
  EXPECT_EQ(Client().Get("/fhir/Patient/" + id, Bearer(reader)).status, 200);
  EXPECT_EQ(Client().Get("/fhir/Patient?family=Auth", Bearer(reader)).status, 200);
  const int before = Count("Patient");
  HttpResult write = Client().Post("/fhir/Patient", kPatient, Bearer(reader));
  EXPECT_EQ(write.status, 403) << write.body;
  EXPECT_NE(write.body.find("scopes do not allow create of Patient"), std::string::npos) << write.body;
  EXPECT_EQ(Client().Put("/fhir/Patient/" + id, R"({"resourceType":"Patient","id":")" + id + R"("})", Bearer(reader)).status, 403);
  EXPECT_EQ(Client().Delete("/fhir/Patient/" + id, Bearer(reader)).status, 403);
  EXPECT_EQ(Client().Get("/fhir/Observation?code=x", Bearer(reader)).status, 403);
  EXPECT_EQ(Count("Patient"), before);
  EXPECT_EQ(Client().Get("/fhir/Patient/" + id, Bearer(writer)).status, 200);  // still there

  // A narrower token than the client may have.
  const std::string narrowed = TokenFor(writer_, "system/Patient.r");
  EXPECT_EQ(Client().Get("/fhir/Patient/" + id, Bearer(narrowed)).status, 200);
  EXPECT_EQ(Client().Get("/fhir/Patient?family=Auth", Bearer(narrowed)).status, 403);
}

TEST_F(AuthTest, TheRolesLimitWhatTheScopesWouldAllow) {
  const std::string token = TokenFor(nobody_);
  HttpResult read = Client().Get("/fhir/Patient?family=Auth", Bearer(token));
  EXPECT_EQ(read.status, 403);
  EXPECT_NE(read.body.find("roles do not allow"), std::string::npos) << read.body;
  EXPECT_EQ(Client().Post("/fhir/Patient", kPatient, Bearer(token)).status, 403);
  // Integration clients do not see every type at once (their role denies AuditEvent): not the
  // whole server's history, nor the quality report, which reads every resource.
  EXPECT_EQ(Client().Get("/fhir/_history", Bearer(TokenFor(writer_))).status, 403);
  EXPECT_EQ(Client().Get("/fhir/$quality-report", Bearer(TokenFor(writer_))).status, 403);
  // Only a user of a role that administers reindexes.
  EXPECT_EQ(Client().Post("/fhir/$reindex?type=Patient", "", Bearer(TokenFor(writer_))).status, 403);
  EXPECT_EQ(Client().Get("/fhir/Patient?_explain=true", Bearer(TokenFor(writer_))).status, 403);
  EXPECT_EQ(Client().Get("/fhir/Patient?_explain=false", Bearer(TokenFor(writer_))).status, 200);
}

TEST_F(AuthTest, OnlyAuditorsReadTheTrailWhichNamesEveryCallerAndEveryDenial) {
  const std::string writer = TokenFor(writer_);
  HttpResult created = Client().Post("/fhir/Patient", kPatient, Bearer(writer));
  ASSERT_EQ(created.status, 201);
  const std::string id = ParseJson(created.body)["id"].GetString();
  EXPECT_EQ(Client().Get("/fhir/AuditEvent", Bearer(writer)).status, 403);  // integration clients do not read the trail
  EXPECT_EQ(Client().Get("/fhir/Patient/" + id).status, 401);
  const std::string auditor = TokenFor(auditor_);
  EXPECT_EQ(Client().Get("/fhir/Patient/" + id, Bearer(auditor)).status, 403);  // auditors read the trail, not the records

  HttpResult created_record = Client().Get("/fhir/AuditEvent?entity=Patient/" + id + "&subtype=create", Bearer(auditor));
  ASSERT_EQ(created_record.status, 200) << created_record.body;
  auto bundle = ParseJson(created_record.body);
  ASSERT_EQ(bundle["entry"].Size(), 1u);
  const auto& event = bundle["entry"][0]["resource"];
  EXPECT_STREQ(event["agent"][0]["who"]["identifier"]["value"].GetString(), writer_.id.c_str());
  EXPECT_STREQ(event["agent"][0]["role"][0]["text"].GetString(), "integration");
  auto denials = ParseJson(Client().Get("/fhir/AuditEvent?outcome=4&agent=" + writer_.id, Bearer(auditor)).body);
  ASSERT_EQ(denials["entry"].Size(), 1u);
  EXPECT_STREQ(denials["entry"][0]["resource"]["subtype"][0]["code"].GetString(), "search-type");
  auto unauthenticated = ParseJson(Client().Get("/fhir/AuditEvent?type=110113&subtype=authenticate", Bearer(auditor)).body);
  EXPECT_GE(unauthenticated["entry"].Size(), 1u);
  auto tokens = ParseJson(Client().Get("/fhir/AuditEvent?subtype=token&agent=" + auditor_.id, Bearer(auditor)).body);
  EXPECT_GE(tokens["entry"].Size(), 1u);
  // The auditor's refused read of a Patient is there too, with the auditor as its agent.
  auto refused = ParseJson(Client().Get("/fhir/AuditEvent?outcome=4&entity=Patient/" + id, Bearer(auditor)).body);
  ASSERT_EQ(refused["entry"].Size(), 1u);
  EXPECT_STREQ(refused["entry"][0]["resource"]["agent"][0]["who"]["identifier"]["value"].GetString(), auditor_.id.c_str());
  EXPECT_EQ(Client().Request("DELETE", "/fhir/AuditEvent/1", "", Bearer(auditor)).status, 405);
}

TEST_F(AuthTest, BadTokensAre401AndChangeNothing) {
  const std::string good = TokenFor(writer_);
  const int before = Count("Patient");
  const std::int64_t now = std::time(nullptr);
  const access::JoseKey server_key = ServerKey();
  auto attacker = access::JoseKey::GenerateEs256(server_key.kid());
  const std::string payload = WriteJsonValue(Claims(now, now + 300));
  const std::string public_jwk = WriteJsonValue(server_key.PublicJwk());
  const std::string hs_input = Base64UrlEncode(R"({"alg":"HS256","kid":")" + server_key.kid() + R"("})") + "." + Base64UrlEncode(payload);
  std::string tampered = good;
  tampered[tampered.find('.') + 10] = tampered[tampered.find('.') + 10] == 'A' ? 'B' : 'A';
  const std::pair<std::string, const char*> cases[] = {
      {*access::SignJwt(server_key, Claims(now - 900, now - 600)), "expired"},
      {*access::SignJwt(server_key, [&] { JsonValue c = Claims(now, now + 300); c.members.emplace_back("nbf", JsonValue{JsonValue::Kind::kNumber, std::to_string(now + 600), {}, {}}); return c; }()), "not yet valid"},
      {*access::SignJwt(server_key, Claims(now, now + 300, "https://evil.example/auth")), "someone else"},
      {*access::SignJwt(server_key, Claims(now, now + 300, std::string(kBase) + "/auth", "https://other.example/fhir")), "another audience"},
      {*access::SignJwt(*attacker, Claims(now, now + 300)), "signature does not match"},
      {Base64UrlEncode(R"({"alg":"none","kid":")" + server_key.kid() + R"("})") + "." + Base64UrlEncode(payload) + ".", "algorithm none"},
      {Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(payload) + ".", "does not know"},
      {hs_input + "." + Base64UrlEncode(Hmac(HmacDigest::kSha256, public_jwk, hs_input)), "algorithm HS256"},
      {tampered, "invalid token"},
      {"not-a-token", "three parts"},
  };
  for (const auto& [token, why] : cases) {
    HttpResult refused = Client().Post("/fhir/Patient", kPatient, Bearer(token));
    EXPECT_EQ(refused.status, 401) << why << ": " << refused.body;
    EXPECT_NE(refused.body.find(why), std::string::npos) << refused.body;
    EXPECT_EQ(refused.Header("www-authenticate"), "Bearer realm=\"chartkeeper\", error=\"invalid_token\"");
  }
  EXPECT_EQ(Client().Get("/fhir/Patient", {{"Authorization", "Basic " + BasicValue(writer_.id + ":" + writer_.secret)}}).status, 401);
  EXPECT_EQ(Count("Patient"), before);
  // A token that is signed right and in time works (the forging helper is sound).
  EXPECT_EQ(Client().Get("/fhir/Patient?_summary=count", Bearer(*access::SignJwt(server_key, Claims(now, now + 300)))).status, 200);
}

TEST_F(AuthTest, TheTokenEndpointRefusesBadRequests) {
  HttpResult wrong = TokenRequest("grant_type=client_credentials", {{"Authorization", Basic({writer_.id, "wrong"})}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(std::string(ParseJson(wrong.body)["error"].GetString()), "invalid_client");
  EXPECT_EQ(wrong.Header("www-authenticate"), "Basic realm=\"chartkeeper\"");
  EXPECT_EQ(wrong.Header("cache-control"), "no-store");
  const std::pair<std::pair<std::string, std::string>, const char*> cases[] = {
      {{"grant_type=password&username=a&password=b", ""}, "unsupported_grant_type"},
      {{"scope=system/Patient.rs", ""}, "invalid_request"},
      {{"grant_type=client_credentials&grant_type=client_credentials", ""}, "invalid_request"},
      {{"grant_type=client_credentials&client_secret=" + writer_.secret, ""}, "invalid_request"},
      {{"grant_type=client_credentials&scope=system/Encounter.rs", ""}, "invalid_scope"},
      {{"grant_type=client_credentials", "application/json"}, "invalid_request"},
  };
  for (const auto& [request, error] : cases) {
    std::map<std::string, std::string> headers{{"Authorization", Basic(writer_)}};
    if (!request.second.empty()) headers["Content-Type"] = request.second;
    headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    HttpResult refused = Client().Post("/auth/token", request.first, headers);
    EXPECT_EQ(std::string(ParseJson(refused.body)["error"].GetString()), error) << request.first << ": " << refused.body;
  }
  EXPECT_EQ(Client().Get("/auth/token").status, 405);
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", {}).status, 401);
}

TEST_F(AuthTest, ABackendServiceSignsItsWayInOnce) {
  auto key = access::JoseKey::FromPrivatePem(*lab_key_pem_, "");
  ASSERT_TRUE(key);
  const std::int64_t now = std::time(nullptr);
  auto assertion = access::SignJwt(*key, *ParseJsonValue(R"({"iss":")" + *lab_id_ + R"(","sub":")" + *lab_id_ + R"(","aud":")" +
                                                          std::string(kBase) + R"(/auth/token","exp":)" + std::to_string(now + 120) +
                                                          R"(,"jti":"once-)" + std::to_string(now) + R"("})"));
  const std::string form = "grant_type=client_credentials&scope=system%2FPatient.rs&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
                           "client-assertion-type%3Ajwt-bearer&client_assertion=" + *assertion;
  HttpResult issued = TokenRequest(form, {});
  ASSERT_EQ(issued.status, 200) << issued.body;
  auto body = ParseJson(issued.body);
  EXPECT_EQ(std::string(body["scope"].GetString()), "system/Patient.rs");
  EXPECT_EQ(std::string(body["token_type"].GetString()), "bearer");
  EXPECT_EQ(body["expires_in"].GetInt(), 300);
  EXPECT_EQ(Client().Get("/fhir/Patient?_summary=count", Bearer(body["access_token"].GetString())).status, 200);
  HttpResult replayed = TokenRequest(form, {});
  EXPECT_EQ(replayed.status, 401);
  EXPECT_NE(replayed.body.find("used before"), std::string::npos) << replayed.body;
}

TEST_F(AuthTest, BundleEntriesAreCheckedOneByOne) {
  const std::string reader = TokenFor(reader_);
  const int patients = Count("Patient");
  const std::string transaction = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:2b9e1c1e-8d8e-4a47-9a38-3f0f7a1c2d01","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:2b9e1c1e-8d8e-4a47-9a38-3f0f7a1c2d01"}},
     "request":{"method":"POST","url":"Observation"}}]})";
  HttpResult refused = Client().Post("/fhir", transaction, Bearer(TokenFor(observer_)));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(Count("Patient"), patients);
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"request":{"method":"GET","url":"Patient?_summary=count"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]})";
  HttpResult answered = Client().Post("/fhir", batch, Bearer(reader));
  ASSERT_EQ(answered.status, 200) << answered.body;
  auto entries = ParseJson(answered.body);
  EXPECT_EQ(std::string(entries["entry"][0]["response"]["status"].GetString()).substr(0, 3), "200");
  EXPECT_EQ(std::string(entries["entry"][1]["response"]["status"].GetString()).substr(0, 3), "403");
  EXPECT_EQ(Count("Patient"), patients);
}

TEST_F(AuthTest, IncludedResourcesOfTypesTheCallerMayNotReadAreLeftOut) {
  const std::string writer = TokenFor(writer_);
  HttpResult patient = Client().Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Included"}]})", Bearer(writer));
  ASSERT_EQ(patient.status, 201);
  const std::string id = ParseJson(patient.body)["id"].GetString();
  HttpResult observation = Client().Post("/fhir/Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" + id + R"("}})", Bearer(writer));
  ASSERT_EQ(observation.status, 201) << observation.body;
  const std::string search = "/fhir/Patient?family=Included&_revinclude=Observation:subject";
  auto seen_by = [&](const std::string& token) {
    HttpResult found = Client().Get(search, Bearer(token));
    EXPECT_EQ(found.status, 200) << found.body;
    auto bundle = ParseJson(found.body);
    int observations = 0;
    for (const auto& entry : bundle["entry"].GetArray()) {
      if (std::string(entry["resource"]["resourceType"].GetString()) == "Observation") ++observations;
    }
    return observations;
  };
  EXPECT_EQ(seen_by(TokenFor(observer_)), 1);
  EXPECT_EQ(seen_by(TokenFor(reader_)), 0);
}

TEST_F(AuthTest, ARevokedClientsTokensStopWorkingAfterRestart) {
  SecretClient doomed = AddSecretClientWhileStopped("doomed");
  const std::string token = TokenFor(doomed);
  EXPECT_EQ(Client().Get("/fhir/Patient?_summary=count", Bearer(token)).status, 200);
  Stop();
  ASSERT_EQ(Cli("client revoke", {doomed.id}).exit_code, 0);
  Start();
  HttpResult refused = Client().Get("/fhir/Patient?_summary=count", Bearer(token));
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("revoked"), std::string::npos) << refused.body;
  EXPECT_EQ(TokenRequest("grant_type=client_credentials", {{"Authorization", Basic(doomed)}}).status, 401);
}

TEST(AuthStartTest, AuthOffIsRefusedOffLoopback) {
  testing::TempDir dir;
  auto run = testing::RunChartkeeper("serve", dir.path() / "var", {"--auth", "off", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("auth = off works only on a loopback address"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

// A SMART v2 scope with a query reaches only the resources matching it, through every path.
TEST_F(AuthTest, AScopeQueryLimitsReadsSearchesAndHistoryToMatchingResources) {
  const std::string writer = TokenFor(writer_);
  auto observation = [&](const std::string& category) {
    const std::string body = R"({"resourceType":"Observation","status":"final","category":[{"coding":[{"system":)"
                             R"("http://terminology.hl7.org/CodeSystem/observation-category","code":")" + category +
                             R"("}]}],"code":{"text":"scoped"}})";
    HttpResult created = Client().Post("/fhir/Observation", body, Bearer(writer));
    EXPECT_EQ(created.status, 201) << created.body;
    return std::string(ParseJson(created.body)["id"].GetString());
  };
  const std::string lab = observation("laboratory");
  const std::string vitals = observation("vital-signs");
  const std::string labs = TokenFor(labs_);
  EXPECT_EQ(Client().Get("/fhir/Observation/" + lab, Bearer(labs)).status, 200);
  EXPECT_EQ(Client().Get("/fhir/Observation/" + vitals, Bearer(labs)).status, 404);
  EXPECT_EQ(Client().Get("/fhir/Observation/" + vitals + "/_history/1", Bearer(labs)).status, 404);
  EXPECT_EQ(Client().Get("/fhir/Observation/" + vitals + "/_history", Bearer(labs)).status, 404);
  EXPECT_EQ(Client().Get("/fhir/Observation/_history", Bearer(labs)).status, 403);
  HttpResult found = Client().Get("/fhir/Observation?code:text=scoped", Bearer(labs));
  ASSERT_EQ(found.status, 200) << found.body;
  auto bundle = ParseJson(found.body);
  ASSERT_EQ(bundle["entry"].Size(), 1u);
  EXPECT_EQ(std::string(bundle["entry"][0]["resource"]["id"].GetString()), lab);
  HttpResult vitals_search = Client().Get("/fhir/Observation?category=vital-signs", Bearer(labs));
  EXPECT_FALSE(ParseJson(vitals_search.body).HasMember("entry")) << vitals_search.body;
  // A scope with a query reads; it does not write (what a write may match is not checkable before it is stored).
  HttpResult write = Client().Post("/fhir/Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})", Bearer(labs));
  EXPECT_EQ(write.status, 403);
  EXPECT_NE(write.body.find("reads and searches only"), std::string::npos) << write.body;
}

}  // namespace
}  // namespace ck
