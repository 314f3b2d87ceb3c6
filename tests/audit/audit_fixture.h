#pragma once
// A trail to check: a real SQLite store in a fresh folder whose seals are signed by an audit key
// kept beside it, and a way to change the database behind the store's back (as someone with the
// file would).

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "audit/audit_key.h"
#include "audit/audit_trail.h"
#include "fhir/definitions.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::audit {

class AuditFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = AuditKey::LoadOrCreate(dir_.path() / "audit-key.pem", data());
    ASSERT_TRUE(key) << key.error().ToString();
    key_ = std::move(*key);
    auto check = AuditKeyCheck::FromPem(key_->PublicKeyPem());
    ASSERT_TRUE(check);
    check_ = std::move(*check);
    Open();
  }

  std::filesystem::path data() const { return dir_.path() / "data"; }

  void Open(bool read_only = false) {
    trail_.reset();
    store_.reset();
    auto store = store::sqlite::OpenSqliteStore({.data_dir = data(),
                                                 .clock = &clock_,
                                                 .audit_signer = [this](std::string_view message) { return key_->Sign(message); },
                                                 .audit_checkpoint_every = 10,
                                                 .read_only = read_only});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    trail_ = std::make_unique<AuditTrail>(fhir::Definitions::R4(), *store_);
  }

  // `count` records, each of its own commit: user-N read Patient/pN.
  void Record(int count) {
    for (int i = 1; i <= count; ++i) {
      AuditEntry entry;
      entry.subtype = "read";
      entry.user = "user-" + std::to_string(i);
      entry.entities = {"Patient/p" + std::to_string(i)};
      entry.patients = {"p" + std::to_string(i)};
      ASSERT_TRUE(trail_->RecordNow(entry).ok());
      clock_.Advance(1000);
    }
  }

  // Runs SQL on the database file with the store closed.
  void Tamper(const std::string& sql) {
    trail_.reset();
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data() / "chartkeeper.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int result = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(result, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
    Open(/*read_only=*/true);
  }

  ck::testing::TempDir dir_;
  ck::testing::FakeClock clock_;
  std::unique_ptr<AuditKey> key_;
  std::unique_ptr<AuditKeyCheck> check_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<AuditTrail> trail_;
};

}  // namespace ck::audit
