#include "store/version_cache.h"

namespace ck::store {
namespace {
std::size_t Cost(const std::string& key, const StoredVersion& version) { return key.size() * 2 + version.body.size() + version.issues.size() + 128; }
}  // namespace

VersionCache::VersionCache(std::size_t capacity_bytes) : shard_capacity_(capacity_bytes / 16) {}

VersionCache::Shard& VersionCache::ShardFor(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::optional<StoredVersion> VersionCache::Get(const std::string& type, const std::string& id) {
  if (shard_capacity_ == 0) return std::nullopt;
  std::string key = Key(type, id);
  Shard& shard = ShardFor(key);
  std::shared_ptr<const StoredVersion> found;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) return std::nullopt;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    found = it->second.version;
  }
  return *found;  // copied outside the lock
}

std::uint64_t VersionCache::Ticket(const std::string& type, const std::string& id) {
  Shard& shard = ShardFor(Key(type, id));
  std::lock_guard lock(shard.mu);
  return shard.generation;
}

void VersionCache::Offer(const StoredVersion& version, std::uint64_t ticket) {
  if (shard_capacity_ == 0) return;
  std::string key = Key(version.type, version.id);
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  // A write landed or is landing meanwhile: what we read may be stale.
  if (shard.generation != ticket || shard.in_flight > 0) return;
  Put(shard, key, version);
}

void VersionCache::Committing(const StoredVersion& version) {
  std::string key = Key(version.type, version.id);
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  ++shard.generation;
  ++shard.in_flight;
  if (auto it = shard.entries.find(key); it != shard.entries.end()) {
    shard.bytes -= Cost(key, *it->second.version);
    shard.lru.erase(it->second.lru);
    shard.entries.erase(it);
  }
}

void VersionCache::Committed(const StoredVersion& version) { Settle(version, true); }

void VersionCache::Abandoned(const StoredVersion& version) { Settle(version, false); }

void VersionCache::Settle(const StoredVersion& version, bool committed) {
  std::string key = Key(version.type, version.id);
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  ++shard.generation;
  if (shard.in_flight > 0) --shard.in_flight;
  if (committed && shard_capacity_ > 0) Put(shard, key, version);
}

void VersionCache::Put(Shard& shard, const std::string& key, const StoredVersion& version) {
  auto it = shard.entries.find(key);
  if (it != shard.entries.end()) {
    if (it->second.version->sequence > version.sequence) return;
    shard.bytes -= Cost(key, *it->second.version);
    shard.lru.erase(it->second.lru);
    shard.entries.erase(it);
  }
  if (Cost(key, version) > shard_capacity_) return;
  shard.lru.push_front(key);
  shard.entries.emplace(key, Entry{std::make_shared<const StoredVersion>(version), shard.lru.begin()});
  shard.bytes += Cost(key, version);
  Evict(shard);
}

void VersionCache::Evict(Shard& shard) {
  while (shard.bytes > shard_capacity_ && !shard.lru.empty()) {
    auto it = shard.entries.find(shard.lru.back());
    shard.bytes -= Cost(it->first, *it->second.version);
    shard.entries.erase(it);
    shard.lru.pop_back();
  }
}

}  // namespace ck::store
