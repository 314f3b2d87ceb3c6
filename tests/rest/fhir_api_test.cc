// Specification of which answers the FHIR API gives on an I/O thread (HandleInline) and which it
// hands back to run on a pool: only what needs no database may run inline.
#include "rest/fhir_api.h"

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace ck::rest {
namespace {

class FhirApiTest : public ::testing::Test {
 protected:
  FhirApiTest() {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    EXPECT_TRUE(store);
    store_ = std::move(*store);
    records_ = std::make_unique<records::RecordService>(fhir::Definitions::R4(), *store_);
    api_ = std::make_unique<FhirApi>(*records_, fhir::Definitions::R4(), *store_, FhirApiOptions{});
  }

  static HttpRequest Request(std::string method, std::string_view target, std::string body = "") {
    HttpRequest request;
    request.method = std::move(method);
    EXPECT_TRUE(ParseTarget(target, request));
    request.body = std::move(body);
    if (!request.body.empty()) request.headers.emplace_back("content-type", "application/fhir+json");
    return request;
  }

  testing::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<records::RecordService> records_;
  std::unique_ptr<FhirApi> api_;
};

TEST_F(FhirApiTest, AnswersCachedReadsAndFixedAnswersInline) {
  HttpResponse created = api_->Handle(Request("PUT", "/fhir/Patient/a", R"({"resourceType":"Patient","id":"a"})"));
  ASSERT_EQ(created.status, 201) << created.body;
  auto read = api_->HandleInline(Request("GET", "/fhir/Patient/a"));  // cached at commit
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  for (const char* target : {"/fhir/metadata", "/healthz", "/metrics"}) {
    auto answer = api_->HandleInline(Request("GET", target));
    ASSERT_TRUE(answer) << target;
    EXPECT_EQ(answer->status, 200) << target;
  }
}

TEST_F(FhirApiTest, AnswersErrorsFoundFromTheUrlInline) {
  EXPECT_EQ(api_->HandleInline(Request("GET", "/fhir/Patient/a$b"))->status, 400);
  EXPECT_EQ(api_->HandleInline(Request("GET", "/fhir/NoSuchType/a"))->status, 404);
  EXPECT_EQ(api_->HandleInline(Request("GET", "/nowhere"))->status, 404);
}

TEST_F(FhirApiTest, HandsBackEverythingThatMayReachTheDatabase) {
  ASSERT_EQ(api_->Handle(Request("PUT", "/fhir/Patient/a", R"({"resourceType":"Patient","id":"a"})")).status, 201);
  for (const char* target : {"/fhir/Patient/never-written", "/fhir/Patient/a/_history", "/fhir/Patient/a/_history/1",
                             "/fhir/Patient/_history", "/fhir/_history"}) {
    EXPECT_FALSE(api_->HandleInline(Request("GET", target))) << target;
    EXPECT_NE(api_->Handle(Request("GET", target)).status, 0) << target;
  }
  EXPECT_FALSE(api_->HandleInline(Request("POST", "/fhir/Patient", R"({"resourceType":"Patient"})")));
}

}  // namespace
}  // namespace ck::rest
