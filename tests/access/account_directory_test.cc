#include "access/account_directory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::access {
namespace {

class AccountDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    directory_.reset();
    store_.reset();
    auto opened = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    directory_ = std::make_unique<AccountDirectory>(*store_);
  }

  static User Alice() {
    User user;
    user.name = "alice";
    user.roles = {"clinician", "coder"};
    user.fhir_user = "Practitioner/p1";
    user.password_hash = "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
    user.totp_key = std::string("\x00\x01\xfe\xff secret", 10);
    user.totp_last_step = 56'666'666;
    user.recovery_code_hashes = {"h1", "h2"};
    user.created = 1'700'000'000'000;
    return user;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<AccountDirectory> directory_;
};

TEST_F(AccountDirectoryTest, KeepsUsersAcrossRestartsExactly) {
  ASSERT_TRUE(directory_->AddUser(Alice()).ok());
  Open();
  auto found = directory_->FindUser("alice");
  ASSERT_TRUE(found && *found);
  const User& user = **found;
  const User alice = Alice();
  EXPECT_EQ(user.roles, alice.roles);
  EXPECT_EQ(user.fhir_user, alice.fhir_user);
  EXPECT_EQ(user.password_hash, alice.password_hash);
  EXPECT_EQ(user.totp_key, alice.totp_key);
  EXPECT_EQ(user.totp_last_step, alice.totp_last_step);
  EXPECT_EQ(user.recovery_code_hashes, alice.recovery_code_hashes);
  EXPECT_EQ(user.created, alice.created);
  EXPECT_TRUE(user.must_change_password);
  EXPECT_FALSE(user.disabled);
  EXPECT_EQ(*directory_->FindUser("bob"), std::nullopt);
}

TEST_F(AccountDirectoryTest, RefusesATakenOrBadName) {
  ASSERT_TRUE(directory_->AddUser(Alice()).ok());
  EXPECT_EQ(directory_->AddUser(Alice()).code(), StatusCode::kConflict);
  User bad = Alice();
  for (const char* name : {"", "Alice", "al ice", "al/ice", "a\xc3\xa9"}) {
    bad.name = name;
    EXPECT_EQ(directory_->AddUser(bad).code(), StatusCode::kInvalid) << name;
  }
  EXPECT_EQ((*directory_->ListUsers()).size(), 1u);
}

TEST_F(AccountDirectoryTest, ListsUsersByNameAndNotClients) {
  for (const char* name : {"carol", "alice", "bob"}) {
    User user = Alice();
    user.name = name;
    ASSERT_TRUE(directory_->AddUser(user).ok());
  }
  Client client;
  client.id = "ck-1";
  ASSERT_TRUE(directory_->AddClient(client).ok());
  auto users = directory_->ListUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[2].name, "carol");
  EXPECT_EQ((*directory_->ListClients()).size(), 1u);
}

TEST_F(AccountDirectoryTest, UpdatesAreAtomicAndAFailedChangeChangesNothing) {
  ASSERT_TRUE(directory_->AddUser(Alice()).ok());
  // Many concurrent increments of one field: none lost.
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto updated = directory_->UpdateUser("alice", [](User& user) {
          ++user.totp_last_step;
          return Status::Ok();
        });
        if (!updated) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ((*directory_->FindUser("alice"))->totp_last_step, Alice().totp_last_step + 80);

  auto refused = directory_->UpdateUser("alice", [](User& user) {
    user.disabled = true;
    return Status(StatusCode::kForbidden, "no");
  });
  EXPECT_EQ(refused.error().code(), StatusCode::kForbidden);
  EXPECT_FALSE((*directory_->FindUser("alice"))->disabled);
  EXPECT_EQ(directory_->UpdateUser("nobody", [](User&) { return Status::Ok(); }).error().code(), StatusCode::kNotFound);
}

TEST_F(AccountDirectoryTest, KeepsClientsExactly) {
  Client client;
  client.id = "ck-abc";
  client.name = "lab system";
  client.kind = ClientKind::kBackend;
  client.public_key_pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
  client.scope = "system/Observation.cru";
  client.roles = {"integration"};
  client.redirect_uris = {"https://app.example/callback"};
  ASSERT_TRUE(directory_->AddClient(client).ok());
  EXPECT_EQ(directory_->AddClient(client).code(), StatusCode::kConflict);
  Open();
  auto found = directory_->FindClient("ck-abc");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, client.name);
  EXPECT_EQ((*found)->kind, ClientKind::kBackend);
  EXPECT_EQ((*found)->public_key_pem, client.public_key_pem);
  EXPECT_EQ((*found)->scope, client.scope);
  EXPECT_EQ((*found)->roles, client.roles);
  EXPECT_EQ((*found)->redirect_uris, client.redirect_uris);
  auto revoked = directory_->UpdateClient("ck-abc", [](Client& c) {
    c.revoked = true;
    return Status::Ok();
  });
  ASSERT_TRUE(revoked);
  EXPECT_TRUE((*directory_->FindClient("ck-abc"))->revoked);
}

TEST_F(AccountDirectoryTest, AStoredRecordThatCannotBeReadIsReportedCorrupt) {
  ASSERT_TRUE(store_->Write([](store::WriteTransaction& txn) { return txn.WriteMeta("access/user/mallory", "{\"name\": 3}"); }).ok());
  ASSERT_TRUE(store_->Write([](store::WriteTransaction& txn) { return txn.WriteMeta("access/user/oscar", "not json"); }).ok());
  EXPECT_EQ(directory_->FindUser("mallory").error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(directory_->FindUser("oscar").error().code(), StatusCode::kCorrupt);
  EXPECT_EQ(directory_->ListUsers().error().code(), StatusCode::kCorrupt);
}

TEST(AccountJsonTest, RecordsRoundTripAndWrongShapesAreRefused) {
  Client client;
  client.id = "ck-1";
  client.kind = ClientKind::kConfidential;
  client.secret_hash = "abc";
  auto back = ClientFromJson(ClientToJson(client));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, ClientKind::kConfidential);
  EXPECT_EQ(back->secret_hash, "abc");
  EXPECT_FALSE(ClientFromJson(R"({"id":"x","kind":"robot"})"));
  EXPECT_FALSE(ClientFromJson(R"({"kind":"public"})"));
  EXPECT_FALSE(UserFromJson(R"({"name":"a","roles":[1]})"));
  EXPECT_FALSE(UserFromJson(R"({"name":"a","created":"soon"})"));
  EXPECT_FALSE(UserFromJson(R"({"name":"a","created":1.5})"));
  EXPECT_FALSE(UserFromJson(R"({"name":"a","totpKey":"!!"})"));
  EXPECT_FALSE(UserFromJson("[]"));
}

}  // namespace
}  // namespace ck::access
