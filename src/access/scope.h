#pragma once
// SMART on FHIR scopes (App Launch 2.0, "Scopes and Launch Context"): what a token or a role may
// do to which resources. A resource scope is `<context>/<type>.<permissions>[?<query>]`:
// context `patient` (one patient's compartment), `user` (what the user may see) or `system`
// (a backend service); type a resource type or `*`; permissions a non-empty subset of `cruds`
// in that order (create, read, update, delete, search); the optional query (SMART v2) narrows
// the scope to resources matching search parameters, such as `?category=laboratory`. SMART v1's
// `.read` (read and search), `.write` (create, update, delete) and `.*` (all) are accepted.
// Other scopes (`openid`, `fhirUser`, `launch`, `launch/patient`, `offline_access`,
// `online_access`) are launch and identity requests, kept apart.
// Thread safety: plain values; the functions are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ck::access {

enum class ScopeContext { kPatient, kUser, kSystem };

// One letter of `cruds`, as a bit.
enum class Permission : std::uint8_t { kCreate = 1, kRead = 2, kUpdate = 4, kDelete = 8, kSearch = 16 };
inline constexpr std::uint8_t kAllPermissions = 31;

struct ResourceScope {
  ScopeContext context = ScopeContext::kUser;
  std::string type;              // a resource type, or "*"
  std::uint8_t permissions = 0;  // Permission bits
  // SMART v2 query parameters (name, value), decoded, in the order given.
  std::vector<std::pair<std::string, std::string>> query;

  bool Has(Permission permission) const { return (permissions & static_cast<std::uint8_t>(permission)) != 0; }
  // Whether this scope grants `permission` on resources of `type` (its query aside).
  bool Covers(Permission permission, std::string_view resource_type) const {
    return Has(permission) && (type == "*" || type == resource_type);
  }
  // The scope in SMART v2 form ("patient/Observation.rs?category=laboratory"), its query as decoded.
  std::string ToString() const;
};

struct ScopeSet {
  std::vector<ResourceScope> resources;
  bool openid = false;
  bool fhir_user = false;
  bool launch = false;          // EHR launch: `launch`
  bool launch_patient = false;  // standalone launch asking for a patient: `launch/patient`
  bool offline_access = false;
  bool online_access = false;
  std::vector<std::string> unrecognized;  // other scopes, as given (OAuth2 lets a server ignore them)
};

// One resource scope. Errors: kInvalid naming what is wrong (an unknown context, permissions
// out of `cruds` order or repeated, an empty type, a query that is not name=value pairs).
Result<ResourceScope> ParseResourceScope(std::string_view text);

// A space-separated scope string (RFC 6749 section 3.3). Resource scopes that are malformed are
// errors; scopes of other shapes land in `unrecognized`. Errors: kInvalid naming the scope.
Result<ScopeSet> ParseScopes(std::string_view text);

// The scope string of `set` (launch and identity scopes first, then the resource scopes in
// order; unrecognized ones left out): what a token says it grants.
std::string ScopeString(const ScopeSet& set);

// The scopes of `requested` that `allowed` covers: same context, a type it names (or *), no
// permission it lacks, and every query parameter it has. Resource scopes only.
ScopeSet GrantedScopes(const ScopeSet& requested, const ScopeSet& allowed);

// The resource scopes of `set` that cover `permission` on `type` (their queries aside).
std::vector<const ResourceScope*> CoveringScopes(const ScopeSet& set, Permission permission, std::string_view type);

}  // namespace ck::access
