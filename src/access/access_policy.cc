#include "access/access_policy.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ck::access {

namespace {

RolePolicy Role(std::initializer_list<std::string_view> scopes, std::vector<std::string> deny, bool totp = false,
                bool administer = false, bool break_glass = false) {
  RolePolicy role;
  for (std::string_view text : scopes) role.scopes.push_back(*ParseResourceScope(text));  // constants, known good
  role.deny = std::move(deny);
  role.totp = totp;
  role.administer = administer;
  role.break_glass = break_glass;
  return role;
}

Status BadKey(std::string_view source, std::string_view role, std::string_view key, const std::string& why) {
  return Status::Invalid(std::string(source) + ": roles." + std::string(role) + "." + std::string(key) + ": " + why);
}

Result<std::vector<std::string>> Strings(const toml::node& node, std::string_view source, std::string_view role, std::string_view key) {
  const toml::array* array = node.as_array();
  if (!array) return Err(BadKey(source, role, key, "must be an array of strings"));
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    const auto* text = item.as_string();
    if (!text) return Err(BadKey(source, role, key, "must be an array of strings"));
    out.push_back(text->get());
  }
  return out;
}

Result<RolePolicy> ParseRole(const toml::table& table, std::string_view source, std::string_view name) {
  RolePolicy role;
  for (const auto& [key_node, value] : table) {
    const std::string_view key = key_node.str();
    if (key == "scopes") {
      CK_ASSIGN_OR_RETURN(std::vector<std::string> scopes, Strings(value, source, name, key));
      for (const std::string& text : scopes) {
        Result<ResourceScope> scope = ParseResourceScope(text);
        if (!scope) return Err(BadKey(source, name, key, scope.error().message()));
        if (scope->context == ScopeContext::kPatient) {
          return Err(BadKey(source, name, key, "\"" + text + "\": a role grants user/ or system/ scopes; patient/ comes from a token's launch context"));
        }
        if (!scope->query.empty()) {
          return Err(BadKey(source, name, key, "\"" + text + "\": scopes with a query are for tokens, not for role policies"));
        }
        role.scopes.push_back(std::move(*scope));
      }
    } else if (key == "deny") {
      CK_ASSIGN_OR_RETURN(role.deny, Strings(value, source, name, key));
    } else if (key == "totp" || key == "administer" || key == "break_glass") {
      const auto* flag = value.as_boolean();
      if (!flag) return Err(BadKey(source, name, key, "must be true or false"));
      (key == "totp" ? role.totp : key == "administer" ? role.administer : role.break_glass) = flag->get();
    } else {
      return Err(BadKey(source, name, key, "unknown key (scopes, deny, totp, administer, break_glass)"));
    }
  }
  return role;
}

}  // namespace

AccessPolicy AccessPolicy::Defaults() {
  AccessPolicy policy;
  const std::vector<std::string> audit{"AuditEvent"};
  policy.roles_["admin"] = Role({"user/*.cruds"}, {}, /*totp=*/true, /*administer=*/true);
  policy.roles_["clinician"] = Role({"user/*.cruds"}, audit, false, false, /*break_glass=*/true);
  policy.roles_["him-analyst"] = Role({"user/*.rus"}, audit);
  policy.roles_["coder"] =
      Role({"user/*.rs", "user/Condition.cu", "user/Procedure.cu", "user/Claim.cu", "user/Encounter.u"}, audit);
  policy.roles_["auditor"] = Role({"user/AuditEvent.rs"}, {}, /*totp=*/true);
  policy.roles_["researcher"] = Role({}, {});
  policy.roles_["integration"] = Role({"system/*.cruds"}, audit);
  return policy;
}

Result<AccessPolicy> AccessPolicy::FromToml(std::string_view toml_text, std::string_view source) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {
    return Err(Status::Invalid(std::string(source) + ": not TOML: " + std::string(error.description())));
  }
  AccessPolicy policy = Defaults();
  for (const auto& [key, value] : table) {
    if (key.str() != "roles") return Err(Status::Invalid(std::string(source) + ": unknown key " + std::string(key.str()) + " (only [roles.NAME])"));
    const toml::table* roles = value.as_table();
    if (!roles) return Err(Status::Invalid(std::string(source) + ": roles must be tables ([roles.NAME])"));
    for (const auto& [name, role] : *roles) {
      const toml::table* role_table = role.as_table();
      if (!role_table) return Err(Status::Invalid(std::string(source) + ": roles." + std::string(name.str()) + " must be a table"));
      CK_ASSIGN_OR_RETURN(RolePolicy parsed, ParseRole(*role_table, source, name.str()));
      policy.roles_[std::string(name.str())] = std::move(parsed);
    }
  }
  return policy;
}

Result<AccessPolicy> AccessPolicy::FromFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot read the access policy file " + path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return FromToml(text.str(), path.string());
}

const RolePolicy* AccessPolicy::Find(std::string_view role) const {
  auto found = roles_.find(role);
  return found == roles_.end() ? nullptr : &found->second;
}

std::vector<std::string> AccessPolicy::RoleNames() const {
  std::vector<std::string> names;
  for (const auto& [name, role] : roles_) names.push_back(name);
  return names;
}

bool AccessPolicy::Allows(const std::vector<std::string>& roles, Permission permission, std::string_view type) const {
  return std::any_of(roles.begin(), roles.end(), [&](const std::string& name) {
    const RolePolicy* role = Find(name);
    if (!role || std::find(role->deny.begin(), role->deny.end(), type) != role->deny.end()) return false;
    if (type == "*" && !role->deny.empty()) return false;  // "every type" includes the denied ones
    return std::any_of(role->scopes.begin(), role->scopes.end(),
                       [&](const ResourceScope& scope) { return scope.Covers(permission, type); });
  });
}

namespace {
template <typename Flag>
bool AnyRole(const AccessPolicy& policy, const std::vector<std::string>& roles, Flag flag) {
  return std::any_of(roles.begin(), roles.end(), [&](const std::string& name) {
    const RolePolicy* role = policy.Find(name);
    return role && role->*flag;
  });
}
}  // namespace

bool AccessPolicy::TotpRequired(const std::vector<std::string>& roles) const { return AnyRole(*this, roles, &RolePolicy::totp); }
bool AccessPolicy::MayAdminister(const std::vector<std::string>& roles) const {
  return AnyRole(*this, roles, &RolePolicy::administer);
}
bool AccessPolicy::MayBreakGlass(const std::vector<std::string>& roles) const {
  return AnyRole(*this, roles, &RolePolicy::break_glass);
}
bool AccessPolicy::BreakGlassReaches(const std::vector<std::string>& roles, std::string_view type) const {
  return type != "*" && std::any_of(roles.begin(), roles.end(), [&](const std::string& name) {
           const RolePolicy* role = Find(name);
           return role && role->break_glass && std::find(role->deny.begin(), role->deny.end(), type) == role->deny.end();
         });
}

}  // namespace ck::access
