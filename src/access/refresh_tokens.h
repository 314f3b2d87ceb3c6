#pragma once
// Refresh tokens (RFC 6749 section 6) with rotation and reuse detection (OAuth 2.0 Security BCP,
// RFC 9700 section 4.14): every use of a refresh token spends it and returns a new one of the same
// family (one sign-in); a spent token used again means it was stolen, and the whole family is
// revoked. A token also lapses when unused for its idle time (automatic logoff) or when its
// family's absolute lifetime ends, and when its user was disabled or changed their password
// after the sign-in (the caller checks that against the grant's auth_time).
// Kept in the store's state values: "access/refresh/<SHA-256 of the token>" (the token itself is
// never stored) and "access/refresh-family/<id>" for a revoked family. Each change is one write
// transaction, so two uses of one token at once are one use and one reuse.
// Thread safety: safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "store/resource_store.h"
#include "util/time.h"

namespace ck::access {

// What a sign-in granted, carried by each refresh token of its family.
struct RefreshGrant {
  std::string family;     // set by Issue for a new sign-in
  std::string user;
  std::string client_id;
  std::string scope;      // as granted (a scope string)
  std::string patient;    // launch context: a Patient id, or empty
  Millis auth_time = 0;   // when the user signed in
  Millis expires = 0;     // the family's end
  Millis idle = 0;        // how long a token may lie unused
};

class RefreshTokens {
 public:
  // REQUIRES: store and clock outlive this object.
  RefreshTokens(store::ResourceStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // A new token for `grant` (a new family if grant.family is empty). Errors: the store's.
  Result<std::string> Issue(RefreshGrant grant);
  // Spends `token` of `client_id` and returns its grant with the next token of the family.
  // Errors: kUnauthenticated saying why (unknown, another client's, lapsed, revoked, or reused:
  // then the family is revoked before this returns), the store's.
  Result<std::pair<RefreshGrant, std::string>> Rotate(std::string_view token, const std::string& client_id);
  // The grant of a token that may still be used, or nullopt (introspection).
  Result<std::optional<RefreshGrant>> Find(std::string_view token);
  // Revokes the family of `token` if it belongs to `client_id`; an unknown token is no error
  // (RFC 7009 section 2.2). Errors: the store's.
  Status Revoke(std::string_view token, const std::string& client_id);

 private:
  struct Stored {
    RefreshGrant grant;
    Millis last_used = 0;
    bool spent = false;
  };
  static std::string Key(std::string_view token);
  static std::string ToJson(const Stored& stored);
  static Result<Stored> FromJson(std::string_view json);
  // Why a stored token may not be used now, or empty.
  std::string Lapsed(const Stored& stored, bool family_revoked, Millis now) const;

  store::ResourceStore& store_;
  const Clock& clock_;
};

}  // namespace ck::access
