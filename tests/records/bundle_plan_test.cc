// The bundle engine (records/bundle_plan.h) on hand-made Bundles: what it reads from each entry,
// the ids it gives, the references it rewrites, the problems it keeps per entry, and the order.
#include "records/bundle_plan.h"

#include <gtest/gtest.h>

#include "fhir/json_writer.h"

namespace ck::records {
namespace {

Result<BundlePlan> Plan(std::string_view json, BundlePlanOptions options = {}) {
  options.definitions = &fhir::Definitions::R4();
  if (options.base_url.empty()) options.base_url = "http://h/fhir";
  CK_ASSIGN_OR_RETURN(fhir::Node tree, fhir::ParseJsonTree(json));
  return PlanBundle(std::move(tree), options);
}

std::string Written(const PlannedEntry& entry) { return entry.resource ? fhir::WriteJson(entry.resource->root()) : ""; }

constexpr std::string_view kTransaction = R"({"resourceType":"Bundle","type":"transaction","entry":[
  {"request":{"method":"GET","url":"Patient?name=x"}},
  {"fullUrl":"urn:uuid:9a1c7e52-1111-4222-8333-444455556666","resource":{"resourceType":"Patient",
   "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"urn:uuid:9a1c7e52-1111-4222-8333-444455556667\">obs</a></div>"}},
   "request":{"method":"POST","url":"Patient"}},
  {"fullUrl":"urn:uuid:9a1c7e52-1111-4222-8333-444455556667","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
   "subject":{"reference":"urn:uuid:9a1c7e52-1111-4222-8333-444455556666"},"performer":[{"reference":"http://h/fhir/Practitioner/p1"}]},
   "request":{"method":"PUT","url":"Observation/o1","ifMatch":"W/\"2\""}},
  {"request":{"method":"DELETE","url":"http://h/fhir/Patient/old"}}]})";

TEST(BundlePlanTest, ReadsRequestsGivesIdsRewritesReferencesAndOrders) {
  auto plan = Plan(kTransaction);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->entries.size(), 4u);
  EXPECT_EQ(plan->type, "transaction");
  EXPECT_EQ(plan->order, (std::vector<std::size_t>{3, 1, 2, 0}));  // DELETE, POST, PUT, GET
  const PlannedEntry& patient = plan->entries[1];
  ASSERT_TRUE(patient.problem.ok()) << patient.problem.ToString();
  EXPECT_EQ(patient.id.size(), 36u);
  EXPECT_NE(patient.id, "9a1c7e52-1111-4222-8333-444455556666");  // a new id, not the urn's
  EXPECT_EQ(patient.resource->id(), patient.id);
  EXPECT_NE(Written(patient).find(R"(href=\"Observation/o1\")"), std::string::npos) << Written(patient);
  const PlannedEntry& observation = plan->entries[2];
  EXPECT_EQ(observation.id, "o1");
  EXPECT_EQ(observation.if_match, "W/\"2\"");
  EXPECT_NE(Written(observation).find(R"("subject":{"reference":"Patient/)" + patient.id + "\"}"), std::string::npos);
  EXPECT_NE(Written(observation).find(R"({"reference":"Practitioner/p1"})"), std::string::npos);  // this server's URL: relative
  EXPECT_EQ(plan->entries[3].type, "Patient");
  EXPECT_EQ(plan->entries[3].id, "old");
  EXPECT_EQ(plan->entries[0].query, "name=x");
}

TEST(BundlePlanTest, KeepsIdsWhenAskedAndTakesEntriesWithoutRequestsAsTheyAre) {
  BundlePlanOptions options;
  options.keep_ids = true;
  auto plan = Plan(kTransaction, options);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->entries[1].id, "9a1c7e52-1111-4222-8333-444455556666");
  auto collection = Plan(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"resource":{"resourceType":"Patient","id":"a"}},{"resource":{"resourceType":"Patient"}}]})");
  ASSERT_TRUE(collection);
  EXPECT_EQ(collection->entries[0].method, EntryMethod::kPut);
  EXPECT_EQ(collection->entries[0].id, "a");
  EXPECT_EQ(collection->entries[1].method, EntryMethod::kPost);
  EXPECT_TRUE(collection->entries[1].problem.ok());
}

TEST(BundlePlanTest, KeepsEachBadEntrysProblem) {
  auto plan = Plan(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient"}},
    {"request":{"method":"TRACE","url":"Patient"}},
    {"request":{"method":"POST","url":"Robot"},"resource":{"resourceType":"Patient"}},
    {"request":{"method":"POST","url":"Patient/1"},"resource":{"resourceType":"Patient"}},
    {"request":{"method":"PUT","url":"Patient/1"},"resource":{"resourceType":"Observation"}},
    {"request":{"method":"PUT","url":"Patient/1"},"resource":{"resourceType":"Patient","id":"2"}},
    {"request":{"method":"DELETE","url":"Patient"}},
    {"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","gender":7}},
    {"request":{"method":"POST","url":"Observation"},"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
     "subject":{"reference":"Patient?identifier=x|1"}}},
    {"request":{"method":"PUT","url":"Patient/ok"},"resource":{"resourceType":"Patient"}}]})");
  ASSERT_TRUE(plan);
  std::vector<StatusCode> codes;
  for (const PlannedEntry& entry : plan->entries) codes.push_back(entry.problem.code());
  EXPECT_EQ(codes, (std::vector<StatusCode>{StatusCode::kInvalid, StatusCode::kInvalid, StatusCode::kNotFound, StatusCode::kInvalid,
                                            StatusCode::kInvalid, StatusCode::kInvalid, StatusCode::kInvalid, StatusCode::kInvalid,
                                            StatusCode::kInvalid, StatusCode::kInvalid, StatusCode::kOk}));
  EXPECT_EQ(plan->entries[10].resource->id(), "ok");
  EXPECT_EQ(plan->entries[3].Label(), "entry 3");
}

TEST(BundlePlanTest, ResolvesConditionalReferencesFromTheBundleThenTheResolver) {
  BundlePlanOptions options;
  std::vector<std::string> asked;
  options.resolve = [&](const std::string& type, const std::string& query) -> Result<std::string> {
    asked.push_back(type + "?" + query);
    if (query == "identifier=s|db") return type + "/stored";
    if (query == "identifier=s|two") return Err(Status::PreconditionFailed("several"));
    return Err(Status::NotFound("none"));
  };
  auto plan = Plan(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","identifier":[{"system":"s","value":"own"}]},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=s|own"},
     "performer":[{"reference":"Practitioner?identifier=s|db"}]},"request":{"method":"POST","url":"Observation"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=s|two"}},
     "request":{"method":"POST","url":"Observation"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|db"}}]})",
                   options);
  ASSERT_TRUE(plan);
  const std::string written = Written(plan->entries[1]);
  EXPECT_NE(written.find("\"Patient/" + plan->entries[0].id + "\""), std::string::npos) << written;
  EXPECT_NE(written.find("\"Practitioner/stored\""), std::string::npos) << written;
  EXPECT_EQ(plan->entries[2].problem.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(plan->entries[3].existing, "Patient/stored");  // a conditional create that matched
  EXPECT_FALSE(plan->entries[3].resource);
  EXPECT_EQ(std::count(asked.begin(), asked.end(), "Patient?identifier=s|own"), 0);  // the Bundle's own
}

TEST(BundlePlanTest, LeavesReferencesBetweenBatchEntriesAlone) {
  auto plan = Plan(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"fullUrl":"urn:uuid:9a1c7e52-1111-4222-8333-444455556666","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:9a1c7e52-1111-4222-8333-444455556666"}},
     "request":{"method":"POST","url":"Observation"}}]})");
  ASSERT_TRUE(plan);
  EXPECT_NE(Written(plan->entries[1]).find("urn:uuid:9a1c7e52-1111-4222-8333-444455556666"), std::string::npos);
}

TEST(BundlePlanTest, RefusesWhatIsNoBundleOrTooLarge) {
  EXPECT_FALSE(Plan(R"({"resourceType":"Patient"})"));
  BundlePlanOptions options;
  options.max_entries = 1;
  auto plan = Plan(R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient"}}]})", options);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), StatusCode::kTooLarge);
  EXPECT_FALSE(Plan(R"({"resourceType":"Bundle","type":"batch","entry":[1]})"));
}

}  // namespace
}  // namespace ck::records
