#pragma once
// A records service over a real SQLite store in a fresh folder, with a fake clock: the fixture
// the records specifications share.

#include <gtest/gtest.h>

#include <memory>

#include "records/record_service.h"
#include "store/sqlite/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace ck::records {

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::sqlite::OpenSqliteStore({.data_dir = dir_.path(), .clock = &clock_});
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    service_ = std::make_unique<RecordService>(fhir::Definitions::R4(), *store_);
  }

  ck::testing::TempDir dir_;
  ck::testing::FakeClock clock_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<RecordService> service_;
  RequestContext context_{"test", "tester", "r1"};
};

}  // namespace ck::records
