#include "terminology/loaded_value_sets.h"

#include <optional>

namespace ck::terminology {
namespace {

constexpr int kMaxDepth = 16;  // value sets including value sets

std::string_view WithoutVersion(std::string_view url) { return url.substr(0, url.find('|')); }

std::string Member(std::string_view system, std::string_view code) { return std::string(system) + "|" + std::string(code); }

const fhir::Property* Children(const fhir::Node& node, std::string_view name) {
  const fhir::Property* property = node.Find(name);
  return property != nullptr && !property->values.empty() ? property : nullptr;
}

void Concepts(const fhir::Node& holder, const std::string& parent, std::unordered_map<std::string, std::vector<std::string>>& out) {
  const fhir::Property* concepts = Children(holder, "concept");
  for (std::size_t i = 0; concepts != nullptr && i < concepts->values.size(); ++i) {
    const fhir::Node& concept_node = concepts->values[i];
    std::string code(concept_node.TextOf("code"));
    auto& parents = out[code];
    if (!parent.empty()) parents.push_back(parent);
    if (const fhir::Property* properties = Children(concept_node, "property"); properties != nullptr) {
      for (const fhir::Node& property : properties->values) {
        std::string_view name = property.TextOf("code");
        if (name == "parent" || name == "subsumedBy") parents.emplace_back(property.TextOf("valueCode"));
      }
    }
    Concepts(concept_node, code, out);
  }
}

void Contains(const fhir::Node& holder, std::vector<std::pair<std::string, std::string>>& out) {
  const fhir::Property* contains = Children(holder, "contains");
  for (std::size_t i = 0; contains != nullptr && i < contains->values.size(); ++i) {
    const fhir::Node& entry = contains->values[i];
    if (!entry.TextOf("code").empty()) out.emplace_back(entry.TextOf("system"), entry.TextOf("code"));
    Contains(entry, out);
  }
}

}  // namespace

void LoadedValueSets::Add(const fhir::Node& resource, const std::string& stored_id) {
  std::string_view type = resource.TextOf("resourceType");
  std::string url(resource.TextOf("url"));
  if (url.empty() || (type != "ValueSet" && type != "CodeSystem")) return;
  std::lock_guard lock(mutex_);
  if (type == "ValueSet") {
    value_sets_[url] = resource;
    any_value_set_ = true;
  } else {
    CodeSystem& system = code_systems_[url];
    system.parents.clear();
    Concepts(resource, "", system.parents);
  }
  if (!stored_id.empty()) stored_[std::string(type) + "/" + stored_id] = {std::string(type), url};
  Changed();
}

void LoadedValueSets::RemoveStored(std::string_view type, std::string_view stored_id) {
  std::lock_guard lock(mutex_);
  auto it = stored_.find(std::string(type) + "/" + std::string(stored_id));
  if (it == stored_.end()) return;
  if (it->second.first == "ValueSet") {
    value_sets_.erase(it->second.second);
  } else {
    code_systems_.erase(it->second.second);
  }
  stored_.erase(it);
  Changed();
}

void LoadedValueSets::Changed() {
  for (auto& [url, expansion] : expansions_) retired_.push_back(std::move(expansion));
  expansions_.clear();
}

const ValueSet* LoadedValueSets::Find(std::string_view url) const {
  if (!any_value_set_) return fallback_.Find(url);
  std::string key(WithoutVersion(url));
  {
    std::lock_guard lock(mutex_);
    if (value_sets_.contains(key)) return Expand(key, 0).get();
  }
  return fallback_.Find(url);
}

// REQUIRES: mutex_ held.
std::shared_ptr<const ValueSet> LoadedValueSets::Expand(const std::string& url, int depth) const {
  if (auto it = expansions_.find(url); it != expansions_.end()) return it->second;
  std::shared_ptr<const ValueSet> result;
  auto definition = value_sets_.find(url);
  if (depth > kMaxDepth) {
    result = std::make_shared<ValueSet>(ValueSet::NotExpandable("value sets nested too deep"));
  } else if (definition == value_sets_.end()) {
    const ValueSet* built_in = fallback_.Find(url);
    result = built_in != nullptr ? std::make_shared<ValueSet>(*built_in)
                                 : std::make_shared<ValueSet>(ValueSet::NotExpandable("value set " + url + " is not loaded"));
    return result;  // not cached: the built-in table answers it
  } else if (const fhir::Property* expansion = Children(definition->second, "expansion"); expansion != nullptr) {
    std::vector<std::pair<std::string, std::string>> members;
    Contains(expansion->values[0], members);
    result = std::make_shared<ValueSet>(ValueSet::Expanded(members));
  } else {
    const fhir::Property* compose = Children(definition->second, "compose");
    std::string why = compose == nullptr ? "the value set has neither compose nor expansion" : "";
    std::unordered_set<std::string> members;
    for (const char* part : {"include", "exclude"}) {
      const fhir::Property* parts = compose == nullptr ? nullptr : Children(compose->values[0], part);
      for (std::size_t i = 0; parts != nullptr && i < parts->values.size() && why.empty(); ++i) {
        std::unordered_set<std::string> selected = Select(parts->values[i], depth, why);
        if (std::string_view(part) == "include") {
          members.insert(selected.begin(), selected.end());
        } else {
          for (const std::string& member : selected) members.erase(member);
        }
      }
    }
    if (!why.empty()) {
      result = std::make_shared<ValueSet>(ValueSet::NotExpandable(why));
    } else {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const std::string& member : members) {
        std::size_t bar = member.find('|');
        pairs.emplace_back(member.substr(0, bar), member.substr(bar + 1));
      }
      result = std::make_shared<ValueSet>(ValueSet::Expanded(pairs));
    }
  }
  expansions_[url] = result;
  return result;
}

// The members ("system|code") a compose.include or compose.exclude selects; sets `why` when it
// cannot be expanded from what is loaded. REQUIRES: mutex_ held.
std::unordered_set<std::string> LoadedValueSets::Select(const fhir::Node& part, int depth, std::string& why) const {
  std::optional<std::unordered_set<std::string>> from_value_sets;
  if (const fhir::Property* nested = Children(part, "valueSet"); nested != nullptr) {
    for (const fhir::Node& url : nested->values) {
      std::shared_ptr<const ValueSet> expansion = Expand(std::string(WithoutVersion(url.text)), depth + 1);
      if (!expansion->expanded()) {
        why = expansion->not_expandable_reason();
        return {};
      }
      if (!from_value_sets) {
        from_value_sets = expansion->members();
      } else {
        std::erase_if(*from_value_sets, [&](const std::string& m) { return !expansion->members().contains(m); });
      }
    }
  }
  std::string system(part.TextOf("system"));
  if (system.empty()) return from_value_sets.value_or(std::unordered_set<std::string>{});
  std::unordered_set<std::string> members;
  if (const fhir::Property* concepts = Children(part, "concept"); concepts != nullptr) {
    for (const fhir::Node& concept_node : concepts->values) members.insert(Member(system, concept_node.TextOf("code")));
  } else {
    auto loaded = code_systems_.find(system);
    if (loaded == code_systems_.end() || loaded->second.parents.empty()) {
      why = "code system " + system + " is not loaded";
      return {};
    }
    std::unordered_set<std::string> codes;
    for (const auto& [code, parents] : loaded->second.parents) codes.insert(code);
    if (const fhir::Property* filters = Children(part, "filter"); filters != nullptr) {
      for (const fhir::Node& filter : filters->values) {
        std::string_view op = filter.TextOf("op");
        std::string value(filter.TextOf("value"));
        if (filter.TextOf("property") != "concept" || (op != "is-a" && op != "descendent-of" && op != "=")) {
          why = "filter " + std::string(filter.TextOf("property")) + " " + std::string(op) + " on " + system;
          return {};
        }
        std::unordered_set<std::string> allowed = op == "=" ? std::unordered_set<std::string>{value} : Subsumed(loaded->second, value);
        if (op == "descendent-of") allowed.erase(value);
        std::erase_if(codes, [&](const std::string& c) { return !allowed.contains(c); });
      }
    }
    for (const std::string& code : codes) members.insert(Member(system, code));
  }
  if (from_value_sets) std::erase_if(members, [&](const std::string& m) { return !from_value_sets->contains(m); });
  return members;
}

std::unordered_set<std::string> LoadedValueSets::Subsumed(const CodeSystem& system, const std::string& code) const {
  std::unordered_set<std::string> out{code};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [c, parents] : system.parents) {
      if (out.contains(c)) continue;
      for (const std::string& parent : parents) {
        if (out.contains(parent)) {
          out.insert(c);
          grew = true;
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace ck::terminology
