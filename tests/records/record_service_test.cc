// The records service over a real SQLite store: ids, versions, optimistic locking, deletes.
#include "records/record_service.h"

#include <gtest/gtest.h>

#include "records_fixture.h"

namespace ck::records {
namespace {

using RecordServiceTest = RecordsTest;

constexpr std::string_view kPatient = R"({"resourceType":"Patient","id":"ignored","active":true})";

TEST_F(RecordServiceTest, CreateAssignsIdVersionAndLastUpdated) {
  auto created = service_->Create(context_, "Patient", kPatient);
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_NE(created->id, "ignored");
  EXPECT_EQ(created->id.size(), 36u);
  EXPECT_EQ(created->version, 1);
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->last_updated, clock_.Now());
  EXPECT_EQ(created->body, R"({"resourceType":"Patient","id":")" + created->id +
                               R"(","meta":{"versionId":"1","lastUpdated":")" + FormatInstant(clock_.Now()) +
                               R"("},"active":true})");
  auto read = service_->Read(context_, "Patient", created->id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->body, created->body);
}

TEST_F(RecordServiceTest, UpdateCreatesWithClientIdThenVersions) {
  auto first = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->version, 1);
  auto second = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1","active":false})", 1);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(service_->ReadVersion(context_, "Patient", "p1", 1)->version, 1);
}

TEST_F(RecordServiceTest, IfMatchMismatchIsAPreconditionFailureAndChangesNothing) {
  ASSERT_TRUE(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt));
  auto stale = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1","active":true})", 7);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(service_->Read(context_, "Patient", "p1")->version, 1);
  auto absent = service_->Update(context_, "Patient", "nobody", R"({"resourceType":"Patient","id":"nobody"})", 1);
  EXPECT_EQ(absent.error().code(), StatusCode::kPreconditionFailed);
}

TEST_F(RecordServiceTest, RefusesBodiesThatDisagreeWithTheUrl) {
  EXPECT_EQ(service_->Create(context_, "Observation", kPatient).error().code(), StatusCode::kInvalid);
  EXPECT_EQ(service_->Create(context_, "Patinet", kPatient).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient"})", std::nullopt).error().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p2"})", std::nullopt).error().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(service_->Update(context_, "Patient", "a b", R"({"resourceType":"Patient","id":"a b"})", std::nullopt).error().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(service_->Create(context_, "Patient", "{").error().code(), StatusCode::kInvalid);
  // Another type is refused as such, not for what that type's own definition would require.
  auto observation = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Observation","id":"p1"})", std::nullopt);
  ASSERT_FALSE(observation);
  EXPECT_EQ(observation.error().code(), StatusCode::kInvalid);
  EXPECT_EQ(observation.error().message(), "the body is a resource of type Observation, but the URL names Patient");
  EXPECT_EQ(service_->History(context_, {.type = "Nope"}).error().code(), StatusCode::kNotFound);
}

TEST_F(RecordServiceTest, DeleteLeavesATombstoneAndCanBeUndoneByUpdate) {
  ASSERT_TRUE(service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt));
  auto deleted = service_->Delete(context_, "Patient", "p1", std::nullopt);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->version, 2);
  EXPECT_EQ(service_->Read(context_, "Patient", "p1").error().code(), StatusCode::kGone);
  EXPECT_EQ(service_->ReadVersion(context_, "Patient", "p1", 2).error().code(), StatusCode::kGone);
  EXPECT_TRUE(service_->ReadVersion(context_, "Patient", "p1", 1));
  auto again = service_->Delete(context_, "Patient", "p1", std::nullopt);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version, 2);  // nothing new
  EXPECT_EQ(service_->Delete(context_, "Patient", "never", std::nullopt).error().code(), StatusCode::kNotFound);
  auto revived = service_->Update(context_, "Patient", "p1", R"({"resourceType":"Patient","id":"p1"})", std::nullopt);
  ASSERT_TRUE(revived);
  EXPECT_TRUE(revived->created);
  EXPECT_EQ(revived->version, 3);
  EXPECT_EQ(service_->History(context_, {.type = "Patient", .id = "p1", .count_total = true})->total, 3);
}

TEST_F(RecordServiceTest, ReadOfUnknownResourceIsNotFound) {
  EXPECT_EQ(service_->Read(context_, "Patient", "nope").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ReadVersion(context_, "Patient", "nope", 1).error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ck::records
