#pragma once
// A bounded in-memory cache of current versions (decoded bodies), so hot reads skip the database
// and decompression. Backends own one and keep it exact:
//  - before a write's database commit, the backend calls Committing() with the new version: the
//    cached entry is dropped and readers go to the database until the commit's outcome is known,
//    so no reader can see the new version in the database and then the old one here;
//  - after the commit, and before the writer's caller is answered, Committed() (or Abandoned(),
//    if the commit failed): a read that starts after a write was acknowledged never sees an
//    older version;
//  - a reader that missed takes a Ticket() before reading the database and Offer()s what it read
//    with that ticket; the offer is dropped if any write touched the same shard since, or one is
//    in flight there, so a read racing a write can never put an older version back.
// Least recently used entries are evicted past the byte budget.
// Thread safety: all methods are safe from any thread (16 shards, one mutex each).

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/resource_store.h"

namespace ck::store {

class VersionCache {
 public:
  // `capacity_bytes` of body and key text across all shards; 0 disables the cache.
  explicit VersionCache(std::size_t capacity_bytes);

  std::optional<StoredVersion> Get(const std::string& type, const std::string& id);

  // Taken before a database read whose result may be offered.
  std::uint64_t Ticket(const std::string& type, const std::string& id);
  void Offer(const StoredVersion& version, std::uint64_t ticket);

  // A write of `version` is about to be committed to the database.
  void Committing(const StoredVersion& version);
  // Records a committed version as current. REQUIRES: Committing(version) before the database
  // commit; called in commit order per resource.
  void Committed(const StoredVersion& version);
  // The commit announced by Committing(version) failed. REQUIRES: Committing(version) before.
  void Abandoned(const StoredVersion& version);

 private:
  struct Entry {
    std::shared_ptr<const StoredVersion> version;
    std::list<std::string>::iterator lru;  // position in Shard::lru (front: most recent)
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // guarded by mu
    std::list<std::string> lru;                      // guarded by mu
    std::size_t bytes = 0;                           // guarded by mu
    std::uint64_t generation = 0;                    // guarded by mu; bumped by every commit
    std::size_t in_flight = 0;                       // guarded by mu; writes between Committing and settling
  };

  static std::string Key(const std::string& type, const std::string& id) { return type + '/' + id; }
  Shard& ShardFor(const std::string& key);
  // Ends a write announced by Committing(): the shard's generation moves on, `version` (if any)
  // becomes current.
  void Settle(const StoredVersion& version, bool committed);
  // REQUIRES: shard.mu held.
  void Put(Shard& shard, const std::string& key, const StoredVersion& version);
  void Evict(Shard& shard);

  const std::size_t shard_capacity_;
  std::array<Shard, 16> shards_;
};

}  // namespace ck::store
