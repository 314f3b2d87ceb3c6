#pragma once
// Limits password guessing at the login page: failed sign-ins are counted per user name and per
// client address; past a threshold the key is locked, for a time that doubles with each further
// failure (back-off), and a locked key's attempts are refused before any password is checked, so
// a locked account gives no answer an attacker could learn from. A success clears the user's
// count (not the address's: one good account must not launder an address's guesses). Counts are
// in memory: a restart clears them, a price of keeping the login path free of writes.
// Thread safety: safe from any thread.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "util/time.h"

namespace ck::access {

struct LoginThrottleOptions {
  unsigned user_failures = 5;        // failures of one user name before it locks
  unsigned address_failures = 20;    // failures from one address before it locks
  Millis first_lock = 60 * 1000;     // the first lock; each further failure doubles it
  Millis longest_lock = 60 * 60 * 1000;
  Millis forget_after = 24 * 60 * 60 * 1000;  // a key quiet this long starts again from zero
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

  // Until when `user` or `address` is locked (the later of the two), or 0 if neither is.
  Millis LockedUntil(const std::string& user, const std::string& address, Millis now);
  // Counts a failed sign-in; returns until when it locks the user or address (0: not locked).
  Millis Failed(const std::string& user, const std::string& address, Millis now);
  void Succeeded(const std::string& user);

 private:
  struct Count {
    unsigned failures = 0;
    Millis last = 0;
    Millis locked_until = 0;
  };
  // Counts one failure on `count` against `threshold`; returns its lock.
  Millis Count1(Count& count, unsigned threshold, Millis now) const;
  void Forget(Millis now);

  const LoginThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Count> users_;      // guarded by mu_
  std::unordered_map<std::string, Count> addresses_;  // guarded by mu_
  Millis last_sweep_ = 0;                             // guarded by mu_
};

}  // namespace ck::access
