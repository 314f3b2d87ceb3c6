#include "access/login_throttle.h"

#include <algorithm>

namespace ck::access {

Millis LoginThrottle::LockedUntil(const std::string& user, const std::string& address, Millis now) {
  std::lock_guard lock(mu_);
  Millis until = 0;
  if (auto found = users_.find(user); found != users_.end()) until = found->second.locked_until;
  if (auto found = addresses_.find(address); found != addresses_.end()) until = std::max(until, found->second.locked_until);
  return until > now ? until : 0;
}

Millis LoginThrottle::Count1(Count& count, unsigned threshold, Millis now) const {
  if (now - count.last > options_.forget_after) count = Count{};
  ++count.failures;
  count.last = now;
  if (count.failures >= threshold) {
    const unsigned doublings = std::min(count.failures - threshold, 20u);
    const Millis lock = std::min(options_.longest_lock, options_.first_lock << doublings);
    count.locked_until = now + lock;
  }
  return count.locked_until > now ? count.locked_until : 0;
}

Millis LoginThrottle::Failed(const std::string& user, const std::string& address, Millis now) {
  std::lock_guard lock(mu_);
  Forget(now);
  const Millis by_user = Count1(users_[user], options_.user_failures, now);
  const Millis by_address = Count1(addresses_[address], options_.address_failures, now);
  return std::max(by_user, by_address);
}

void LoginThrottle::Succeeded(const std::string& user) {
  std::lock_guard lock(mu_);
  users_.erase(user);
}

// Keeps the maps from growing without bound under a spray of names or addresses.
void LoginThrottle::Forget(Millis now) {
  if (now - last_sweep_ < 60 * 1000 && users_.size() + addresses_.size() < 100'000) return;
  last_sweep_ = now;
  auto stale = [&](const auto& entry) { return now - entry.second.last > options_.forget_after && entry.second.locked_until <= now; };
  std::erase_if(users_, stale);
  std::erase_if(addresses_, stale);
}

}  // namespace ck::access
