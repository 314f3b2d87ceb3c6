#pragma once
// What each role may do: the role policy. A role grants SMART resource scopes (access/scope.h:
// `user/*.rs`, `user/Condition.cu`, ...), may deny resource types that a wildcard would
// otherwise cover (clinicians do not read the audit trail), and says whether its users must use
// two-factor authentication, may administer the server (users, clients, reindex) and may ask
// for emergency access ("break the glass"). A user's rights are the union of their roles'.
//
// The shipped roles and their defaults (docs/design/access_control.md says why):
//   admin        user/*.cruds                              TOTP required, administers
//   clinician    user/*.cruds, deny AuditEvent             break the glass
//   him-analyst  user/*.rus, deny AuditEvent               (records management)
//   coder        user/*.rs, user/Condition.cu, user/Procedure.cu, user/Claim.cu,
//                user/Encounter.u, deny AuditEvent
//   auditor      user/AuditEvent.rs                        TOTP required
//   researcher   nothing yet (de-identified data arrives with its own issue)
//   integration  system/*.cruds, deny AuditEvent           (system clients)
// A policy file (TOML) replaces the roles it names and may add roles of its own:
//   [roles.coder]
//   scopes = ["user/*.rs", "user/Condition.cu"]
//   deny = ["AuditEvent"]
//   totp = false
//   administer = false
//   break_glass = false
// Thread safety: immutable once built; safe to share.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "access/scope.h"
#include "util/status.h"

namespace ck::access {

struct RolePolicy {
  std::vector<ResourceScope> scopes;
  std::vector<std::string> deny;  // resource types no scope of this role reaches
  bool totp = false;              // its users must have two-factor authentication
  bool administer = false;        // may manage users, clients and the server
  bool break_glass = false;       // may ask for emergency access
};

class AccessPolicy {
 public:
  // The shipped roles with their defaults.
  static AccessPolicy Defaults();
  // The defaults with the roles of a TOML policy text replaced or added. Errors: kInvalid naming
  // the role and key (not TOML, an unknown key, a malformed scope, a scope of patient context).
  static Result<AccessPolicy> FromToml(std::string_view toml, std::string_view source = "policy");
  // The same from a file. Errors: also kNotFound when it cannot be read.
  static Result<AccessPolicy> FromFile(const std::filesystem::path& path);

  // The role's policy, or nullptr for a role this policy does not know.
  const RolePolicy* Find(std::string_view role) const;
  // The role names, sorted.
  std::vector<std::string> RoleNames() const;

  // Whether any of `roles` grants `permission` on `type` (a type a role denies is never reached
  // through that role; "*", every type, only through a wildcard scope of a role that denies
  // none). Unknown roles grant nothing.
  bool Allows(const std::vector<std::string>& roles, Permission permission, std::string_view type) const;
  bool TotpRequired(const std::vector<std::string>& roles) const;
  bool MayAdminister(const std::vector<std::string>& roles) const;
  bool MayBreakGlass(const std::vector<std::string>& roles) const;
  // Whether emergency access reaches `type`: some role of `roles` that may break the glass does
  // not deny it (the audit trail stays out of reach).
  bool BreakGlassReaches(const std::vector<std::string>& roles, std::string_view type) const;

 private:
  std::map<std::string, RolePolicy, std::less<>> roles_;
};

}  // namespace ck::access
