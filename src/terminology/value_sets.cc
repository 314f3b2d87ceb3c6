// The value set table (generated, kValueSetTable) is tab-separated lines:
//   V <url> <count>      an expanded value set; its <count> members follow
//   c <system> <code>    a member
//   X <url> <reason>     a value set that cannot be expanded from the loaded code systems
#include "terminology/value_sets.h"

#include <cstdlib>
#include <vector>

#include "util/text.h"

namespace ck::terminology {

extern const char kValueSetTable[];

namespace {

std::string Member(std::string_view system, std::string_view code) {
  std::string out(system);
  out += '|';
  out += code;
  return out;
}

}  // namespace

bool ValueSet::Contains(std::string_view system, std::string_view code) const {
  return members_.contains(Member(system, code));
}

bool ValueSet::ContainsCode(std::string_view code) const { return codes_.contains(std::string(code)); }

ValueSet ValueSet::Expanded(const std::vector<std::pair<std::string, std::string>>& members) {
  ValueSet out;
  out.expanded_ = true;
  for (const auto& [system, code] : members) {
    out.members_.insert(Member(system, code));
    out.codes_.insert(code);
  }
  return out;
}

ValueSet ValueSet::NotExpandable(std::string reason) {
  ValueSet out;
  out.reason_ = std::move(reason);
  return out;
}

const ValueSets& ValueSets::R4() {
  static const ValueSets* const value_sets = [] {
    auto* out = new ValueSets();
    ValueSet* current = nullptr;
    for (std::string_view line : Split(kValueSetTable, '\n')) {
      if (line.empty()) continue;
      std::vector<std::string_view> f = Split(line, '\t');
      if (f[0] == "V" && f.size() == 3) {
        current = &out->by_url_[std::string(f[1])];
        current->expanded_ = true;
      } else if (f[0] == "c" && f.size() == 3 && current != nullptr) {
        current->members_.insert(Member(f[1], f[2]));
        current->codes_.emplace(f[2]);
      } else if (f[0] == "X" && f.size() == 3) {
        ValueSet& set = out->by_url_[std::string(f[1])];
        set.reason_ = f[2];
        current = nullptr;
      } else {
        std::abort();  // the generated table is malformed: a build bug
      }
    }
    return out;
  }();
  return *value_sets;
}

const ValueSet* ValueSets::Find(std::string_view url) const {
  url = url.substr(0, url.find('|'));
  auto it = by_url_.find(url);
  return it == by_url_.end() ? nullptr : &it->second;
}

}  // namespace ck::terminology
