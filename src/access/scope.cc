#include "access/scope.h"

#include <algorithm>
#include <cctype>

namespace ck::access {

namespace {

constexpr std::string_view kLetters = "cruds";

Status Bad(std::string_view scope, const std::string& why) {
  return Status::Invalid("scope \"" + std::string(scope) + "\": " + why);
}

// Percent-decoding of a query component ('+' is a space, as in forms).
Result<std::string> Decode(std::string_view text, std::string_view scope) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        return Err(Bad(scope, "a bad percent-encoding in its query"));
      }
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<std::uint8_t> ParsePermissions(std::string_view text, std::string_view scope) {
  if (text == "read") return static_cast<std::uint8_t>(static_cast<std::uint8_t>(Permission::kRead) | static_cast<std::uint8_t>(Permission::kSearch));
  if (text == "write") {
    return static_cast<std::uint8_t>(static_cast<std::uint8_t>(Permission::kCreate) | static_cast<std::uint8_t>(Permission::kUpdate) |
                                     static_cast<std::uint8_t>(Permission::kDelete));
  }
  if (text == "*") return kAllPermissions;
  if (text.empty()) return Err(Bad(scope, "no permissions after the dot"));
  std::uint8_t bits = 0;
  std::size_t next = 0;  // letters must come in `cruds` order, each once
  for (char c : text) {
    const std::size_t at = kLetters.find(c, next);
    if (at == std::string_view::npos) {
      return Err(Bad(scope, kLetters.find(c) == std::string_view::npos ? "permissions are letters of \"cruds\""
                                                                       : "permissions must be in \"cruds\" order, each once"));
    }
    bits |= static_cast<std::uint8_t>(1u << at);
    next = at + 1;
  }
  return bits;
}

bool IsTypeName(std::string_view type) {
  if (type == "*") return true;
  if (type.empty() || !std::isupper(static_cast<unsigned char>(type.front()))) return false;
  for (char c : type) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string ResourceScope::ToString() const {
  std::string out = context == ScopeContext::kPatient ? "patient/" : context == ScopeContext::kUser ? "user/" : "system/";
  out += type + ".";
  for (std::size_t i = 0; i < kLetters.size(); ++i) {
    if (permissions & (1u << i)) out.push_back(kLetters[i]);
  }
  for (std::size_t i = 0; i < query.size(); ++i) out += (i == 0 ? "?" : "&") + query[i].first + "=" + query[i].second;
  return out;
}

ScopeSet GrantedScopes(const ScopeSet& requested, const ScopeSet& allowed) {
  auto covers = [](const ResourceScope& given, const ResourceScope& wanted) {
    if (given.context != wanted.context || (given.type != "*" && given.type != wanted.type)) return false;
    if ((given.permissions & wanted.permissions) != wanted.permissions) return false;
    return std::all_of(given.query.begin(), given.query.end(), [&](const auto& parameter) {
      return std::find(wanted.query.begin(), wanted.query.end(), parameter) != wanted.query.end();
    });
  };
  ScopeSet granted;
  for (const ResourceScope& wanted : requested.resources) {
    if (std::any_of(allowed.resources.begin(), allowed.resources.end(), [&](const ResourceScope& given) { return covers(given, wanted); })) {
      granted.resources.push_back(wanted);
    }
  }
  return granted;
}

std::string ScopeString(const ScopeSet& set) {
  std::string out;
  auto add = [&out](std::string_view scope) { out += (out.empty() ? "" : " ") + std::string(scope); };
  if (set.openid) add("openid");
  if (set.fhir_user) add("fhirUser");
  if (set.launch) add("launch");
  if (set.launch_patient) add("launch/patient");
  if (set.offline_access) add("offline_access");
  if (set.online_access) add("online_access");
  for (const ResourceScope& scope : set.resources) add(scope.ToString());
  return out;
}

Result<ResourceScope> ParseResourceScope(std::string_view text) {
  ResourceScope scope;
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Err(Bad(text, "not context/type.permissions"));
  const std::string_view context = text.substr(0, slash);
  if (context == "patient") {
    scope.context = ScopeContext::kPatient;
  } else if (context == "user") {
    scope.context = ScopeContext::kUser;
  } else if (context == "system") {
    scope.context = ScopeContext::kSystem;
  } else {
    return Err(Bad(text, "the context must be patient, user or system"));
  }
  std::string_view rest = text.substr(slash + 1);
  std::string_view query;
  if (const std::size_t question = rest.find('?'); question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
    if (query.empty()) return Err(Bad(text, "an empty query after '?'"));
  }
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return Err(Bad(text, "not context/type.permissions"));
  const std::string_view type = rest.substr(0, dot);
  if (!IsTypeName(type)) return Err(Bad(text, "the resource type must be a type name or *"));
  scope.type = std::string(type);
  CK_ASSIGN_OR_RETURN(scope.permissions, ParsePermissions(rest.substr(dot + 1), text));
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == pair.size()) {
      return Err(Bad(text, "its query must be name=value pairs joined by &"));
    }
    CK_ASSIGN_OR_RETURN(std::string name, Decode(pair.substr(0, equals), text));
    CK_ASSIGN_OR_RETURN(std::string value, Decode(pair.substr(equals + 1), text));
    scope.query.emplace_back(std::move(name), std::move(value));
  }
  return scope;
}

Result<ScopeSet> ParseScopes(std::string_view text) {
  ScopeSet set;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    const std::string_view scope = text.substr(at, end - at);
    at = end + 1;
    if (scope.empty()) continue;
    if (scope == "openid") {
      set.openid = true;
    } else if (scope == "fhirUser") {
      set.fhir_user = true;
    } else if (scope == "launch") {
      set.launch = true;
    } else if (scope == "launch/patient") {
      set.launch_patient = true;
    } else if (scope == "offline_access") {
      set.offline_access = true;
    } else if (scope == "online_access") {
      set.online_access = true;
    } else if (scope.starts_with("patient/") || scope.starts_with("user/") || scope.starts_with("system/")) {
      CK_ASSIGN_OR_RETURN(ResourceScope parsed, ParseResourceScope(scope));
      set.resources.push_back(std::move(parsed));
    } else {
      set.unrecognized.emplace_back(scope);
    }
  }
  return set;
}

std::vector<const ResourceScope*> CoveringScopes(const ScopeSet& set, Permission permission, std::string_view type) {
  std::vector<const ResourceScope*> out;
  for (const ResourceScope& scope : set.resources) {
    if (scope.Covers(permission, type)) out.push_back(&scope);
  }
  return out;
}

}  // namespace ck::access
