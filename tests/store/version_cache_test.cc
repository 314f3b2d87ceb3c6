#include "store/version_cache.h"

#include <gtest/gtest.h>

namespace ck::store {
namespace {

StoredVersion Version(const std::string& id, std::int64_t version, std::int64_t sequence, std::size_t body_size = 10) {
  return {"Patient", id, version, 0, ChangeKind::kUpdate, sequence, std::string(body_size, 'x')};
}

// What a backend does around a successful database commit.
void Commit(VersionCache& cache, const StoredVersion& version) {
  cache.Committing(version);
  cache.Committed(version);
}

TEST(VersionCacheTest, ServesWhatWasCommitted) {
  VersionCache cache(1 << 20);
  EXPECT_FALSE(cache.Get("Patient", "a"));
  Commit(cache, Version("a", 1, 10));
  ASSERT_TRUE(cache.Get("Patient", "a"));
  EXPECT_EQ(cache.Get("Patient", "a")->version, 1);
  Commit(cache, Version("a", 2, 11));
  EXPECT_EQ(cache.Get("Patient", "a")->version, 2);
}

TEST(VersionCacheTest, DropsAnOfferThatRacedAWrite) {
  VersionCache cache(1 << 20);
  std::uint64_t ticket = cache.Ticket("Patient", "a");
  Commit(cache, Version("a", 2, 11));  // lands while the reader was in the database
  cache.Offer(Version("a", 1, 10), ticket);
  EXPECT_EQ(cache.Get("Patient", "a")->version, 2);
  // Even when the newer entry was evicted meanwhile, the stale offer is refused.
  VersionCache tiny(16 * 200);
  std::uint64_t late = tiny.Ticket("Patient", "b");
  Commit(tiny, Version("b", 2, 11, 100000));  // too big to keep
  tiny.Offer(Version("b", 1, 10), late);
  EXPECT_FALSE(tiny.Get("Patient", "b"));
}

// Regression (found by ResourceStoreTest.ReadsNeverGoBackwardsWhileWritesLand in CI): between
// the database commit and Committed(), a reader could read the new version from the database and
// then the old one from the cache.
TEST(VersionCacheTest, SendsReadersToTheDatabaseWhileACommitIsInFlight) {
  VersionCache cache(1 << 20);
  Commit(cache, Version("a", 1, 10));
  cache.Committing(Version("a", 2, 11));
  EXPECT_FALSE(cache.Get("Patient", "a"));  // not the old version
  cache.Offer(Version("a", 1, 10), cache.Ticket("Patient", "a"));  // read just before the commit
  EXPECT_FALSE(cache.Get("Patient", "a"));
  cache.Committed(Version("a", 2, 11));
  EXPECT_EQ(cache.Get("Patient", "a")->version, 2);
  // A failed commit settles too: the next reader's offer fills the cache again.
  cache.Committing(Version("a", 3, 12));
  cache.Abandoned(Version("a", 3, 12));
  EXPECT_FALSE(cache.Get("Patient", "a"));
  cache.Offer(Version("a", 2, 11), cache.Ticket("Patient", "a"));
  EXPECT_EQ(cache.Get("Patient", "a")->version, 2);
}

TEST(VersionCacheTest, AcceptsAnOfferWithAFreshTicket) {
  VersionCache cache(1 << 20);
  cache.Offer(Version("a", 3, 12), cache.Ticket("Patient", "a"));
  EXPECT_EQ(cache.Get("Patient", "a")->version, 3);
  cache.Offer(Version("a", 2, 11), cache.Ticket("Patient", "a"));  // older than what is there
  EXPECT_EQ(cache.Get("Patient", "a")->version, 3);
}

TEST(VersionCacheTest, EvictsTheLeastRecentlyUsedPastItsBudget) {
  VersionCache cache(16 * 3000);  // about 3,000 bytes a shard
  for (int i = 0; i < 2000; ++i) Commit(cache, Version(std::to_string(i), 1, i, 500));
  int kept = 0;
  for (int i = 0; i < 2000; ++i) kept += cache.Get("Patient", std::to_string(i)).has_value();
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 200);
  EXPECT_TRUE(cache.Get("Patient", "1999"));  // the newest survive
}

TEST(VersionCacheTest, ZeroCapacityCachesNothing) {
  VersionCache cache(0);
  Commit(cache, Version("a", 1, 1));
  cache.Offer(Version("a", 1, 1), cache.Ticket("Patient", "a"));
  EXPECT_FALSE(cache.Get("Patient", "a"));
}

}  // namespace
}  // namespace ck::store
