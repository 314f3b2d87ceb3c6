#include "search/query_parser.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "search/decimal_interval.h"
#include "search/full_text.h"
#include "search/index_extractor.h"
#include "search/search_text.h"
#include "terminology/ucum.h"
#include "util/time.h"

namespace ck::search {
namespace {

using fhir::SearchParamType;

constexpr std::string_view kUcum = "http://unitsofmeasure.org";

// Paging and result parameters this server reads itself.
bool IsControl(std::string_view name) {
  return name == "_count" || name == "_cursor" || name == "_total" || name == "_format" || name == "_pretty" || name == "_sort" ||
         name == "_contained" || name == "_containedType" || name == "_explain";
}

Status Bad(const std::string& name, const std::string& why) {
  std::string message = "search parameter '" + name + "': " + why;
  return Status::Invalid(message).WithIssues({{IssueType::kInvalid, message, ""}});
}

// Splits on `separator` where it is not escaped with a backslash; unescapes \, \| \$ \\.
std::vector<std::string> SplitEscaped(std::string_view text, char separator) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == ',' || text[i + 1] == '|' || text[i + 1] == '$' || text[i + 1] == '\\')) {
      parts.back() += text[++i];
    } else if (c == separator) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

// The comma-separated values (or a composite value's `$`-separated components), split before
// unescaping anything else.
std::vector<std::string> SplitValues(std::string_view text, char separator = ',') {
  std::vector<std::string> values(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      values.back() += text.substr(i, 2);
      ++i;
    } else if (text[i] == separator) {
      values.emplace_back();
    } else {
      values.back() += text[i];
    }
  }
  return values;
}

std::string Unescape(std::string_view text) { return SplitEscaped(text, '\0')[0]; }

// A leading comparison prefix (eq, ne, gt, lt, ge, le, sa, eb, ap), removed from `value`.
Prefix TakePrefix(std::string& value) {
  static const std::pair<const char*, Prefix> kPrefixes[] = {{"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
                                                             {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
                                                             {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  for (const auto& [text, prefix] : kPrefixes) {
    if (value.size() > 2 && value.compare(0, 2, text) == 0) {
      value.erase(0, 2);
      return prefix;
    }
  }
  return Prefix::kEq;
}

class Parser {
 public:
  Parser(const SearchRequest& request, const SearchZone& zone)
      : request_(request), zone_(zone), set_(request.in_force != nullptr ? *request.in_force : *ParameterSet::R4()) {
    for (Param param : ParametersOf(request.type)) params_.emplace(param->code, param);
    last_updated_ = set_.extractor->last_updated();
  }

  Result<ParsedSearch> Parse() {
    ParsedSearch out;
    out.query.type = request_.type;
    out.query.count = request_.default_count;
    if (!request_.compartment_type.empty()) {
      CK_ASSIGN_OR_RETURN(out.query.compartment, Compartment());
    }
    for (const auto& [raw_name, value] : request_.parameters) {
      if (raw_name.starts_with("_has:") || raw_name.find('.') != std::string::npos) {  // a chain: modifiers sit inside it
        chain_targets_ = 0;
        dead_end_.clear();
        CK_ASSIGN_OR_RETURN(std::optional<Condition> condition, ParseLinked(request_.type, raw_name, raw_name, value, 1));
        if (!condition) return Err(Bad(raw_name, dead_end_));
        out.query.all_of.push_back(std::move(*condition));
        out.link_parameters.emplace_back(raw_name, value);
        continue;
      }
      std::string name = raw_name;
      std::string modifier;
      if (std::size_t colon = name.find(':'); colon != std::string::npos) {
        modifier = name.substr(colon + 1);
        name.resize(colon);
      }
      if (IsFullText(name)) {
        if (!modifier.empty()) return Err(Bad(raw_name, "takes no modifier"));
        CK_ASSIGN_OR_RETURN(Condition condition, FullTextCondition(name, value, raw_name));
        out.query.all_of.push_back(std::move(condition));
        out.link_parameters.emplace_back(raw_name, value);
        continue;
      }
      if (name == "_include" || name == "_revinclude") {
        if (!modifier.empty() && modifier != "iterate") return Err(Bad(raw_name, "the only modifier is :iterate"));
        CK_ASSIGN_OR_RETURN(Include include, ParseInclude(raw_name, name == "_revinclude", value));
        include.iterate = modifier == "iterate";
        (name == "_include" ? out.query.includes : out.query.revincludes).push_back(std::move(include));
        out.link_parameters.emplace_back(raw_name, value);
        continue;
      }
      if (name == "_summary" || name == "_elements") {
        if (!modifier.empty()) return Err(Bad(raw_name, "takes no modifier"));
        CK_RETURN_IF_ERROR(Subset(name, value, out));
        out.link_parameters.emplace_back(raw_name, value);
        continue;
      }
      if (IsControl(name)) {
        CK_RETURN_IF_ERROR(Control(name, modifier, value, out.query));
        if (KeptInLinks(name)) out.link_parameters.emplace_back(raw_name, value);
        continue;
      }
      Param param = name == "_lastUpdated" ? last_updated_ : Find(name);
      if (param == nullptr || param->type == SearchParamType::kSpecial) {
        std::string why = param == nullptr ? "is not a search parameter of " + request_.type + " this server knows"
                                           : "is not supported yet";
        if (name.starts_with('_') && param == nullptr) why = "is not supported yet";
        if (pending_.contains(name)) why = "is not supported yet: its stored resources are being indexed (a custom parameter's reindex)";
        if (request_.strict) return Err(Bad(raw_name, why));
        out.ignored.push_back({IssueType::kNotSupported, "search parameter '" + raw_name + "' " + why + "; it was ignored", "",
                               IssueSeverity::kWarning});
        continue;
      }
      CK_ASSIGN_OR_RETURN(Condition condition, ParseCondition(raw_name, param, modifier, value));
      out.query.all_of.push_back(std::move(condition));
      out.link_parameters.emplace_back(raw_name, value);
    }
    for (SortKey& key : out.query.sort) {
      if (key.param != ScoreParameter()) continue;
      auto text = std::find_if(out.query.all_of.begin(), out.query.all_of.end(), [](const Condition& c) { return !c.full_text.empty(); });
      if (text == out.query.all_of.end()) return Err(Bad("_sort", "_score ranks by relevance to a _text or _content search; give one"));
      key.full_text = text->full_text;
    }
    return out;
  }

 private:
  Param Find(const std::string& code) const {
    auto it = params_.find(code);
    return it == params_.end() ? nullptr : it->second;
  }

  // The searchable parameters of `type`: R4's, and the custom ones whose reindex is done (the
  // others are noted in pending_, to say why they are not used).
  std::vector<Param> ParametersOf(const std::string& type) {
    std::vector<Param> out;
    for (Param param : set_.extractor->ParametersOf(type)) {
      if (set_.Searchable(param)) {
        out.push_back(param);
      } else {
        pending_.insert(param->code);
      }
    }
    return out;
  }

  // The parameter `code` of `type` (of the searched type: Find).
  Param FindIn(const std::string& type, std::string_view code) {
    if (code == "_lastUpdated") return last_updated_;
    if (type == request_.type) return Find(std::string(code));
    for (Param param : ParametersOf(type)) {
      if (param->code == code) return param;
    }
    return nullptr;
  }

  // _text (the narrative) or _content (all the text): each comma-separated value a text search
  // (full_text.h), OR'ed. Errors name the parameter as given (`raw`).
  Result<Condition> FullTextCondition(const std::string& name, const std::string& value, const std::string& raw) const {
    const bool narrative = name == "_text";
    Condition condition{fhir::Definitions::R4().FindSearchParameter(narrative ? "http://hl7.org/fhir/SearchParameter/DomainResource-text"
                                                                             : "http://hl7.org/fhir/SearchParameter/Resource-content")};
    if (condition.param == nullptr) return Err(Status::Internal("the R4 definitions lack " + name));
    std::string any;
    for (const std::string& text : SplitValues(value)) {
      auto query = FullTextQuery(text);
      if (!query) return Err(Bad(raw, query.error().message()));
      any += (any.empty() ? "(" : " OR (") + *query + ")";
    }
    if (any.empty()) return Err(Bad(raw, "nothing to search for"));
    condition.full_text = std::string(narrative ? "{narrative}" : "{content}") + " : (" + any + ")";
    return condition;
  }

  static bool IsFullText(std::string_view code) { return code == "_text" || code == "_content"; }

  static constexpr int kMaxChainLinks = 8;
  // Target types one chain may branch into in all (a reference to any type has 145): past it the
  // chain must name its types, or `Basic?subject.subject.subject...` would grow without bound.
  static constexpr int kMaxChainTargets = 256;
  int chain_targets_ = 0;
  std::string dead_end_;  // why the first branch of a chain that led nowhere did

  // What is left of a parameter's name at `type`: `param[:modifier]`, a chain
  // `param[:TargetType].rest`, or a reverse chain `_has:SourceType:param:rest` (R4 search,
  // "Chained parameters" and "Reverse Chaining"). Without a target type, a chain goes to every
  // type the reference may point to that has the next parameter, as long as they agree on its
  // kind; otherwise the type must be named. A branch on which no type has the parameters named
  // further on is left out; nullopt when every branch is (dead_end_ says why). Errors name the
  // whole parameter (`raw`).
  Result<std::optional<Condition>> ParseLinked(const std::string& type, std::string_view text, const std::string& raw, const std::string& value,
                                               int links) {
    if (links > kMaxChainLinks) return Err(Bad(raw, "a chain of more than " + std::to_string(kMaxChainLinks) + " links is not supported"));
    if (text.starts_with("_has:")) return ParseReverse(type, text.substr(5), raw, value, links);
    const std::size_t dot = text.find('.');
    const std::string_view head = text.substr(0, dot);
    const std::size_t colon = head.find(':');
    const std::string code(head.substr(0, colon));
    const std::string modifier(colon == std::string_view::npos ? std::string_view() : head.substr(colon + 1));
    if (dot == std::string_view::npos && IsFullText(code)) {  // full text at the chain's end
      if (!modifier.empty()) return Err(Bad(raw, code + " takes no modifier"));
      CK_ASSIGN_OR_RETURN(Condition condition, FullTextCondition(code, value, raw));
      return std::optional<Condition>(std::move(condition));
    }
    const Param param = FindIn(type, code);
    if (param == nullptr || param->type == SearchParamType::kSpecial) {
      return Err(Bad(raw, "'" + code + "' is not a search parameter of " + type + " this server supports"));
    }
    if (dot == std::string_view::npos) {
      CK_ASSIGN_OR_RETURN(Condition condition, ParseCondition(raw, param, modifier, value));
      return std::optional<Condition>(std::move(condition));
    }
    if (param->type != SearchParamType::kReference) return Err(Bad(raw, "'" + code + "' of " + type + " is not a reference: it cannot be chained"));
    const std::string_view rest = text.substr(dot + 1);
    if (rest.empty()) return Err(Bad(raw, "nothing follows the '.'"));
    std::vector<std::string> candidates = param->targets;
    if (!modifier.empty()) {
      if (std::find(candidates.begin(), candidates.end(), modifier) == candidates.end()) {
        return Err(Bad(raw, type + "." + code + " does not point to '" + modifier + "'"));
      }
      candidates = {modifier};
    }
    const bool reverse_next = rest.starts_with("_has:");
    if (reverse_next && candidates.size() > 1) return Err(Bad(raw, code + " may point to several types: name one, as in " + code + ":" + candidates[0] + "._has:..."));
    const std::string next(rest.substr(0, std::min(rest.find(':'), rest.find('.'))));
    auto chain = std::make_shared<Chain>();
    std::optional<SearchParamType> next_type;
    for (const std::string& target : candidates) {
      const bool any_type_has_next = reverse_next || IsFullText(next);  // _has and full text apply to every type
      const Param next_param = any_type_has_next ? nullptr : FindIn(target, next);
      if (!any_type_has_next && next_param == nullptr) continue;
      if (++chain_targets_ > kMaxChainTargets) {
        return Err(Bad(raw, "the chain reaches more than " + std::to_string(kMaxChainTargets) +
                                " resource types through references that may point to any type: name the types, as in subject:Patient.name"));
      }
      if (next_param != nullptr && next_type && *next_type != next_param->type) {
        return Err(Bad(raw, code + " may point to several types whose '" + next + "' parameters differ in kind: name the type, as in " + code + ":" +
                                target + "." + std::string(rest)));
      }
      if (next_param != nullptr) next_type = next_param->type;
      CK_ASSIGN_OR_RETURN(std::optional<Condition> inner, ParseLinked(target, rest, raw, value, links + 1));
      if (!inner) continue;
      chain->types.push_back(target);
      chain->inner.push_back(std::move(*inner));
      const Param url = FindIn(target, "url");
      chain->canonical.push_back(url != nullptr && url->type == SearchParamType::kUri ? url : nullptr);
    }
    if (chain->types.empty()) {
      if (dead_end_.empty()) dead_end_ = "'" + next + "' is not a search parameter of any type " + type + "." + code + " may point to";
      return std::optional<Condition>();
    }
    Condition condition{param};
    condition.chain = std::move(chain);
    return std::optional<Condition>(std::move(condition));
  }

  // `SourceType:param:rest` after `_has:`: resources of `type` that a SourceType resource
  // meeting `rest` points to through its reference parameter `param`.
  Result<std::optional<Condition>> ParseReverse(const std::string& type, std::string_view text, const std::string& raw, const std::string& value,
                                                int links) {
    const std::size_t first = text.find(':');
    const std::size_t second = first == std::string_view::npos ? first : text.find(':', first + 1);
    if (second == std::string_view::npos || second + 1 == text.size()) {
      return Err(Bad(raw, "expected _has:Type:parameter:parameter, as in _has:Observation:patient:code=1234-5"));
    }
    const std::string source(text.substr(0, first));
    const std::string code(text.substr(first + 1, second - first - 1));
    if (fhir::Definitions::R4().FindResourceType(source) == nullptr) return Err(Bad(raw, "'" + source + "' is not a resource type"));
    const Param param = FindIn(source, code);
    if (param == nullptr || param->type != SearchParamType::kReference) {
      return Err(Bad(raw, "'" + code + "' is not a reference parameter of " + source));
    }
    if (std::find(param->targets.begin(), param->targets.end(), type) == param->targets.end()) {
      return Err(Bad(raw, source + "." + code + " never points to " + type));
    }
    CK_ASSIGN_OR_RETURN(std::optional<Condition> inner, ParseLinked(source, text.substr(second + 1), raw, value, links + 1));
    if (!inner) return inner;
    auto chain = std::make_shared<Chain>();
    chain->reverse = true;
    chain->types = {source};
    chain->inner.push_back(std::move(*inner));
    const Param url = FindIn(type, "url");
    chain->canonical.push_back(url != nullptr && url->type == SearchParamType::kUri ? url : nullptr);
    Condition condition{param};
    condition.chain = std::move(chain);
    return std::optional<Condition>(std::move(condition));
  }

  Result<CompartmentFilter> Compartment() const {
    const std::vector<std::string>* codes =
        fhir::Definitions::R4().CompartmentParameters(request_.compartment_type, request_.type);
    if (codes == nullptr) {
      return Err(Status::Invalid(request_.type + " resources are never in a " + request_.compartment_type + " compartment"));
    }
    // The compartment's own resource is in it (R4's compartments page), though R4's definitions
    // list only "link" for Patient.
    CompartmentFilter filter{request_.compartment_type, request_.compartment_id, {}, request_.type == request_.compartment_type};
    for (const std::string& code : *codes) {
      if (code == "{def}") {
        filter.itself = true;
      } else if (Param param = Find(code); param != nullptr) {
        filter.params.push_back(param);
      }
    }
    return filter;
  }

  // `Type:param` or `Type:param:TargetType`, or `*`: every reference parameter of the matches
  // (_include), or of any resource that points to them (_revinclude).
  Result<Include> ParseInclude(const std::string& raw, bool reverse, const std::string& value) {
    Include include;
    if (value == "*") {
      if (!reverse) include.source_type = request_.type;
      return include;
    }
    std::vector<std::string> parts = SplitEscaped(value, ':');
    if (parts.size() < 2 || parts.size() > 3) return Err(Bad(raw, "expected SourceType:parameter or SourceType:parameter:TargetType"));
    include.source_type = parts[0];
    if (fhir::Definitions::R4().FindResourceType(include.source_type) == nullptr) {
      return Err(Bad(raw, "'" + include.source_type + "' is not a resource type"));
    }
    for (Param param : ParametersOf(include.source_type)) {
      if (param->code == parts[1]) include.param = param;
    }
    if (include.param == nullptr || include.param->type != SearchParamType::kReference) {
      return Err(Bad(raw, "'" + parts[1] + "' is not a reference parameter of " + include.source_type));
    }
    if (parts.size() == 3) {
      include.target_type = parts[2];
      const auto& targets = include.param->targets;
      if (std::find(targets.begin(), targets.end(), include.target_type) == targets.end()) {
        return Err(Bad(raw, include.source_type + ":" + parts[1] + " does not point to " + include.target_type));
      }
    }
    return include;
  }

  Status Control(const std::string& name, const std::string& modifier, const std::string& value, SearchQuery& query) {
    if (!modifier.empty()) return Bad(name + ":" + modifier, "takes no modifier");
    if (name == "_count") {
      std::uint32_t count = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), count);
      if (error != std::errc() || end != value.data() + value.size()) return Bad(name, "expected a whole number");
      query.count = std::min(count, request_.max_count);
      if (count == 0) query.total_only = query.want_total = true;  // R4: _count=0 asks for the count only
    } else if (name == "_cursor") {
      query.cursor = value;
    } else if (name == "_sort") {
      for (std::string key : SplitValues(value)) {
        SortKey sort{nullptr, !key.empty() && key[0] == '-'};
        if (sort.descending) key.erase(0, 1);
        sort.param = key == "_lastUpdated" ? last_updated_ : key == "_score" ? ScoreParameter() : Find(key);
        if (sort.param == nullptr || sort.param->type == SearchParamType::kComposite || sort.param->type == SearchParamType::kSpecial) {
          return Bad(name, "cannot sort by '" + key + "': not a search parameter of " + request_.type + " this server indexes");
        }
        query.sort.push_back(sort);
      }
    } else if (name == "_explain") {
      if (value != "true" && value != "false") return Bad(name, "expected true or false");
      query.explain = value == "true";
    } else if (name == "_total") {
      if (value != "none" && value != "estimate" && value != "accurate") return Bad(name, "expected none, estimate or accurate");
      query.want_total = value != "none";
    } else if (name == "_contained") {
      if (value == "false") {
        query.contained = ContainedMode::kNo;
      } else if (value == "true") {
        query.contained = ContainedMode::kOnly;
      } else if (value == "both") {
        query.contained = ContainedMode::kBoth;
      } else {
        return Bad(name, "expected true, false or both");
      }
    } else if (name == "_containedType") {
      if (value != "container" && value != "contained") return Bad(name, "expected container or contained");
      query.contained_alone = value == "contained";
    }
    return Status::Ok();  // _format and _pretty are the REST layer's
  }

  // _summary (true, text, data, count, false) and _elements (element names of the type; names
  // it does not have are ignored and said so): what of each resource the answer holds.
  Status Subset(const std::string& name, const std::string& value, ParsedSearch& out) {
    using Mode = fhir::Subset::Mode;
    if (seen_subset_ && seen_subset_ != name) return Bad(name, "_summary and _elements cannot be used together");
    seen_subset_ = name;
    if (name == "_summary") {
      if (value == "count") {
        out.query.total_only = out.query.want_total = true;
      } else if (std::optional<Mode> mode = fhir::SummaryMode(value)) {
        out.subset.mode = *mode;
      } else {
        return Bad(name, "expected true, text, data, count or false");
      }
      return Status::Ok();
    }
    out.subset.mode = Mode::kElements;
    const fhir::TypeDefinition* type = request_.type.empty() ? nullptr : fhir::Definitions::R4().FindResourceType(request_.type);
    std::optional<std::vector<std::string>> names = fhir::ElementNames(value);
    if (!names) return Bad(name, "an empty element name");
    for (std::string& element : *names) {
      const bool known = type == nullptr || std::any_of(type->structure.elements.begin(), type->structure.elements.end(),
                                                          [&](const fhir::ElementDefinition* e) { return e->name == element; });
      if (!known) {
        std::string why = "'" + element + "' is not an element of " + request_.type;
        if (request_.strict) return Bad(name, why);
        out.ignored.push_back({IssueType::kNotSupported, "search parameter '_elements': " + why + "; it was ignored", "",
                               IssueSeverity::kWarning});
        continue;
      }
      out.subset.elements.push_back(std::move(element));
    }
    return Status::Ok();
  }

  Result<Condition> ParseCondition(const std::string& raw, Param param, const std::string& modifier, const std::string& text) {
    Condition condition{param};
    if (param->type == SearchParamType::kComposite && !modifier.empty()) return Err(Bad(raw, "a composite parameter takes no modifier"));
    if (modifier == "missing") {
      if (text != "true" && text != "false") return Err(Bad(raw, "expected true or false"));
      condition.missing = text == "true";
      return condition;
    }
    CK_RETURN_IF_ERROR(CheckModifier(raw, *param, modifier));
    condition.negated = modifier == "not";
    for (const std::string& value : SplitValues(text)) {
      if (value.empty()) return Err(Bad(raw, "empty value"));
      if (param->type == SearchParamType::kComposite) {
        CK_ASSIGN_OR_RETURN(CompositeMatch match, Composite(raw, *param, value));
        condition.any_composite.push_back(std::move(match));
        continue;
      }
      CK_ASSIGN_OR_RETURN(Match match, ParseValue(raw, *param, modifier, value));
      condition.any_of.push_back(std::move(match));
    }
    return condition;
  }

  // `code$value` (`code$start$end` for three components): a token, then a value of each other
  // component's type (with its prefix).
  Result<CompositeMatch> Composite(const std::string& raw, const fhir::SearchParameterDefinition& param, const std::string& value) {
    std::vector<std::string> components = SplitValues(value, '$');
    const bool empty_part = std::any_of(components.begin(), components.end(), [](const std::string& c) { return c.empty(); });
    if (components.size() != param.components.size() || empty_part) {
      return Err(Bad(raw, param.components.size() == 3 ? "expected three components separated by $, such as 1$ge100$lt200"
                                                       : "expected two components separated by $, such as http://loinc.org|8480-6$gt100"));
    }
    // A component is an R4 parameter, or for a custom composite maybe a custom one.
    auto component = [&](std::size_t i) -> const fhir::SearchParameterDefinition& {
      Param custom = set_.FindCustom(param.components[i].definition);
      return custom != nullptr ? *custom : *fhir::Definitions::R4().FindSearchParameter(param.components[i].definition);
    };
    CK_ASSIGN_OR_RETURN(Match first, Token(raw, "", components[0]));
    CompositeMatch out{std::get<TokenMatch>(first), {}, std::nullopt};
    CK_ASSIGN_OR_RETURN(out.second, ParseValue(raw, component(1), "", components[1]));
    if (components.size() == 3) {
      CK_ASSIGN_OR_RETURN(Match third, ParseValue(raw, component(2), "", components[2]));
      out.third = std::get<NumberMatch>(third);
    }
    return out;
  }

  Status CheckModifier(const std::string& raw, const fhir::SearchParameterDefinition& param, const std::string& modifier) {
    if (modifier.empty()) return Status::Ok();
    switch (param.type) {
      case SearchParamType::kToken:
        if (modifier == "not" || modifier == "text" || modifier == "of-type") return Status::Ok();
        if (modifier == "in" || modifier == "not-in" || modifier == "above" || modifier == "below") {
          return Bad(raw, ":" + modifier + " needs a terminology service, which this server does not have yet: not supported");
        }
        break;
      case SearchParamType::kString:
        if (modifier == "exact" || modifier == "contains") return Status::Ok();
        break;
      case SearchParamType::kUri:
        if (modifier == "below" || modifier == "above") return Status::Ok();
        break;
      case SearchParamType::kReference:
        if (modifier == "identifier") return Status::Ok();
        if (std::find(param.targets.begin(), param.targets.end(), modifier) != param.targets.end()) return Status::Ok();
        return Bad(raw, ":" + modifier + " is neither a modifier of reference parameters nor a type this parameter may point to");
      default:
        break;
    }
    return Bad(raw, "the modifier :" + modifier + " does not apply to a parameter of this type");
  }

  Result<Match> ParseValue(const std::string& raw, const fhir::SearchParameterDefinition& param, const std::string& modifier,
                           const std::string& value) {
    switch (param.type) {
      case SearchParamType::kToken: return Token(raw, modifier, value);
      case SearchParamType::kString: return String(modifier, value);
      case SearchParamType::kDate: return Date(raw, value);
      case SearchParamType::kNumber: return Number(raw, value);
      case SearchParamType::kQuantity: return Quantity(raw, value);
      case SearchParamType::kReference: return Reference(raw, modifier, value);
      case SearchParamType::kUri: {
        UriMatch::Mode mode = modifier == "below" ? UriMatch::Mode::kBelow : modifier == "above" ? UriMatch::Mode::kAbove : UriMatch::Mode::kEqual;
        return Match(UriMatch{mode, Unescape(value)});
      }
      default:
        return Err(Bad(raw, "is not supported yet"));
    }
  }

  Result<Match> Token(const std::string& raw, const std::string& modifier, const std::string& value) {
    if (modifier == "text") return Match(StringMatch{StringMatch::Mode::kStartsWith, NormalizeForSearch(Unescape(value))});
    std::vector<std::string> parts = SplitEscaped(value, '|');
    if (modifier == "of-type") {
      if (parts.size() != 3 || parts[1].empty() || parts[2].empty()) return Err(Bad(raw, "expected type-system|type-code|value"));
      return Match(IdentifierTypeMatch{parts[0], parts[1], parts[2]});
    }
    if (parts.size() > 2) return Err(Bad(raw, "expected code, system|code, |code or system|"));
    TokenMatch match;
    if (parts.size() == 1) {
      match.code = parts[0];
    } else {
      match.system = parts[0];
      if (!parts[1].empty()) match.code = parts[1];
      if (parts[0].empty() && parts[1].empty()) return Err(Bad(raw, "expected code, system|code, |code or system|"));
    }
    return Match(match);
  }

  Result<Match> String(const std::string& modifier, const std::string& value) {
    std::string text = Unescape(value);
    if (modifier == "exact") return Match(StringMatch{StringMatch::Mode::kExact, text, NormalizeForSearch(text)});
    return Match(StringMatch{modifier == "contains" ? StringMatch::Mode::kContains : StringMatch::Mode::kStartsWith, NormalizeForSearch(text)});
  }

  Result<Match> Date(const std::string& raw, std::string value) {
    Prefix prefix = TakePrefix(value);
    // A '+' of a time zone often arrives unescaped and decodes to a space.
    std::replace(value.begin(), value.end(), ' ', '+');
    auto range = zone_.Range(value);
    if (!range) return Err(Bad(raw, "'" + value + "' is not a FHIR date, dateTime or instant"));
    return Match(DateMatch{prefix, range->start, range->end});
  }

  Result<NumberMatch> NumberValue(const std::string& raw, std::string value) {
    Prefix prefix = TakePrefix(value);
    auto number = ReadDecimalInterval(value);
    if (!number) return Err(Bad(raw, "'" + value + "' is not a number"));
    return NumberMatch{prefix, number->value, number->low, number->high};
  }

  Result<Match> Number(const std::string& raw, const std::string& value) {
    CK_ASSIGN_OR_RETURN(NumberMatch number, NumberValue(raw, value));
    return Match(number);
  }

  Result<Match> Quantity(const std::string& raw, const std::string& value) {
    std::vector<std::string> parts = SplitEscaped(value, '|');
    if (parts.size() != 1 && parts.size() != 3) return Err(Bad(raw, "expected number, or number|system|code"));
    QuantityMatch match;
    CK_ASSIGN_OR_RETURN(match.number, NumberValue(raw, parts[0]));
    if (parts.size() == 3) {
      if (!parts[1].empty()) match.system = parts[1];
      if (!parts[2].empty()) match.code = parts[2];
      if (match.system == kUcum && match.code) {
        auto unit = terminology::ParseUcum(*match.code);
        if (!unit) return Err(Bad(raw, "'" + *match.code + "' is not a UCUM unit: " + unit.error().message()));
        match.canonical_unit = terminology::UcumCanonicalKey(*unit);
        NumberMatch& n = match.number;
        n.value = terminology::ToUcumBase(n.value, *unit);
        n.low = terminology::ToUcumBase(n.low, *unit);
        n.high = terminology::ToUcumBase(n.high, *unit);
        if (n.low > n.high) std::swap(n.low, n.high);
      }
    }
    return Match(match);
  }

  Result<Match> Reference(const std::string& raw, const std::string& modifier, const std::string& value) {
    std::string text = Unescape(value);
    if (modifier == "identifier") {
      std::vector<std::string> parts = SplitEscaped(value, '|');
      if (parts.size() > 2) return Err(Bad(raw, "expected system|value or value"));
      TokenMatch match;
      if (parts.size() == 2) match.system = parts[0];
      match.code = parts.back();
      return Match(match);
    }
    if (!request_.base_url.empty() && text.starts_with(request_.base_url + "/")) text = text.substr(request_.base_url.size() + 1);
    if (text.find(':') != std::string::npos) return Match(ReferenceMatch{"", "", text.substr(0, text.find('|'))});
    if (std::size_t history = text.find("/_history/"); history != std::string::npos) text.resize(history);
    ReferenceMatch match;
    std::size_t slash = text.find('/');
    if (slash == std::string::npos) {
      match.id = text;
      match.type = modifier;  // Patient:subject... or any type
    } else {
      match.type = text.substr(0, slash);
      match.id = text.substr(slash + 1);
      if (!modifier.empty() && modifier != match.type) return Err(Bad(raw, "the value names a " + match.type + ", the modifier a " + modifier));
    }
    if (match.id.empty() || match.id.find('/') != std::string::npos) return Err(Bad(raw, "expected Type/id, id or an absolute URL"));
    return Match(match);
  }

  const SearchRequest& request_;
  const SearchZone& zone_;
  const ParameterSet& set_;
  std::unordered_map<std::string, Param> params_;
  std::set<std::string> pending_;  // codes of custom parameters seen whose reindex is under way
  Param last_updated_ = nullptr;
  std::optional<std::string> seen_subset_;  // _summary or _elements, whichever came first
};

}  // namespace

Param ScoreParameter() {
  static const fhir::SearchParameterDefinition score{"_score", SearchParamType::kNumber, {"Resource"}, "", "urn:chartkeeper:sort:_score"};
  return &score;
}

bool KeptInLinks(std::string_view name) {
  return name != "_count" && name != "_cursor" && name != "_format" && name != "_pretty";
}

Result<ParsedSearch> ParseSearch(const SearchRequest& request, const SearchZone& zone) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  if (definitions.FindResourceType(request.type) == nullptr) {
    return Err(Status::NotFound("unknown resource type '" + request.type + "'"));
  }
  if (!request.compartment_type.empty() && definitions.FindResourceType(request.compartment_type) == nullptr) {
    return Err(Status::NotFound("unknown resource type '" + request.compartment_type + "'"));
  }
  return Parser(request, zone).Parse();
}

}  // namespace ck::search
