// Differential test of search on Synthea data: several hundred searches generated from the stored
// resources of three patients (every parameter of Patient, Observation, Condition, Encounter,
// Procedure, MedicationRequest, DiagnosticReport and Immunization that is not a composite, values
// drawn from the data, prefixes and modifiers mixed, some that match nothing) are run over HTTP,
// and each result set is compared with a brute-force answer computed here: the parameter's
// FHIRPath expression evaluated on every stored resource, then the R4 search page's matching
// rules, written out below independently of the server's index and SQL. Every disagreement is a
// failure naming the query and the ids on either side.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

#include "cli/input_file.h"
#include "fhir/json_reader.h"
#include "fhirpath/expression.h"
#include "rest/http_message.h"
#include "search/decimal_interval.h"
#include "search/search_text.h"
#include "support/chartkeeper_command.h"
#include "support/http_client.h"
#include "support/json.h"
#include "support/search_pages.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "util/crypto.h"
#include "util/time.h"

namespace ck {
namespace {

using fhir::Node;
using fhir::SearchParamType;
using testing::HttpClient;
using testing::ParseJson;

constexpr int kPatients = 3;
const char* const kTypes[] = {"Patient",   "Observation",       "Condition",        "Encounter",
                              "Procedure", "MedicationRequest", "DiagnosticReport", "Immunization"};
// Also read for full text: the types Synthea writes narratives (CarePlan) and notes
// (DocumentReference, text/plain attachments) for.
const char* const kTextTypes[] = {"CarePlan", "DocumentReference"};

// One resource's values of one parameter, as the R4 search page describes each kind.
struct Values {
  std::vector<std::pair<std::string, std::string>> tokens;  // system, code
  std::vector<std::string> strings;                          // as written
  std::vector<TimeRange> dates;
  std::vector<search::DecimalInterval> numbers;  // value and the interval its precision implies
  std::vector<std::string> references;  // "Type/id" or a URL
  std::vector<std::string> uris;
  bool empty(SearchParamType type) const {
    switch (type) {
      case SearchParamType::kToken: return tokens.empty();
      case SearchParamType::kString: return strings.empty();
      case SearchParamType::kDate: return dates.empty();
      case SearchParamType::kNumber:
      case SearchParamType::kQuantity: return numbers.empty();
      case SearchParamType::kReference: return references.empty();
      case SearchParamType::kUri: return uris.empty();
      default: return true;
    }
  }
};

void AddStrings(const Node& node, std::initializer_list<const char*> names, Values& out) {
  for (const char* name : names) {
    if (const fhir::Property* property = node.Find(name)) {
      for (const Node& value : property->values) {
        if (!value.text.empty()) out.strings.push_back(value.text);
      }
    }
  }
}

std::optional<TimeRange> Range(std::string_view text) { return ParseFhirDateTimeRange(text); }

// What a value of the parameter's expression contributes, by the parameter's kind.
void Collect(const fhirpath::Value& item, SearchParamType kind, Values& out) {
  if (!item.IsElement()) {
    if (item.kind == fhirpath::ValueKind::kBoolean && kind == SearchParamType::kToken) out.tokens.emplace_back("", item.boolean ? "true" : "false");
    if (item.kind == fhirpath::ValueKind::kString && kind == SearchParamType::kToken) out.tokens.emplace_back("", item.text);
    if (item.kind == fhirpath::ValueKind::kString && kind == SearchParamType::kString) out.strings.push_back(item.text);
    return;
  }
  if (item.node == nullptr) return;
  const Node& node = *item.node;
  const std::string& type = item.type->name;
  const bool primitive = node.kind != fhir::JsonKind::kObject;
  switch (kind) {
    case SearchParamType::kToken:
      if (type == "Coding") {
        if (!node.TextOf("code").empty()) out.tokens.emplace_back(node.TextOf("system"), node.TextOf("code"));
      } else if (type == "CodeableConcept") {
        if (const fhir::Property* codings = node.Find("coding")) {
          for (const Node& coding : codings->values) {
            if (!coding.TextOf("code").empty()) out.tokens.emplace_back(coding.TextOf("system"), coding.TextOf("code"));
          }
        }
      } else if (type == "Identifier") {
        if (!node.TextOf("value").empty()) out.tokens.emplace_back(node.TextOf("system"), node.TextOf("value"));
      } else if (type == "ContactPoint") {
        if (!node.TextOf("value").empty()) out.tokens.emplace_back(node.TextOf("system"), node.TextOf("value"));
      } else if (primitive && !node.text.empty()) {
        out.tokens.emplace_back("", node.text);
      }
      return;
    case SearchParamType::kString:
      if (type == "HumanName") return AddStrings(node, {"family", "given", "prefix", "suffix", "text"}, out);
      if (type == "Address") return AddStrings(node, {"line", "city", "district", "state", "postalCode", "country", "text"}, out);
      if (primitive && !node.text.empty()) out.strings.push_back(node.text);
      return;
    case SearchParamType::kDate:
      if (type == "Period") {
        auto start = Range(node.TextOf("start"));
        auto end = Range(node.TextOf("end"));
        if (start || end) {
          out.dates.push_back({start ? start->start : std::numeric_limits<Millis>::min(), end ? end->end : std::numeric_limits<Millis>::max()});
        }
      } else if (primitive) {
        if (auto range = Range(node.text)) out.dates.push_back(*range);
      }
      return;
    case SearchParamType::kNumber:
      if (node.kind == fhir::JsonKind::kNumber) out.numbers.push_back(*search::ReadDecimalInterval(node.text));
      return;
    case SearchParamType::kQuantity:
      if (const fhir::Property* value = node.Find("value")) out.numbers.push_back(*search::ReadDecimalInterval(value->values[0].text));
      return;
    case SearchParamType::kReference:
      if (type == "Reference") {
        std::string reference(node.TextOf("reference"));
        if (!reference.empty() && reference[0] != '#') out.references.push_back(reference.substr(0, reference.find("/_history/")));
      } else if (primitive && !node.text.empty()) {
        out.references.push_back(node.text.substr(0, node.text.find('|')));
      }
      return;
    case SearchParamType::kUri:
      if (primitive && !node.text.empty()) out.uris.push_back(node.text);
      return;
    default:
      return;
  }
}

// The R4 prefixes on intervals: the search value's [s, e) against a resource's [low, high).
bool DateMatches(const std::string& prefix, TimeRange value, TimeRange target) {
  const bool eq = target.start >= value.start && target.end <= value.end;
  if (prefix == "eq") return eq;
  if (prefix == "ne") return !eq;
  if (prefix == "gt") return target.end > value.end;
  if (prefix == "lt") return target.start < value.start;
  if (prefix == "ge") return target.end > value.end || eq;
  if (prefix == "le") return target.start < value.start || eq;
  if (prefix == "sa") return target.start >= value.end;
  if (prefix == "eb") return target.end <= value.start;
  ADD_FAILURE() << "prefix " << prefix;
  return false;
}

// R4's prefixes on numbers: gt and lt compare the values; ge and le also match a target whose
// interval the searched value's interval holds (as eq would).
bool NumberMatches(const std::string& prefix, const search::DecimalInterval& searched, const search::DecimalInterval& target) {
  const bool within = target.low >= searched.low && target.high <= searched.high;
  if (prefix == "gt") return target.value > searched.value;
  if (prefix == "lt") return target.value < searched.value;
  if (prefix == "ge") return target.value >= searched.value || within;
  if (prefix == "le") return target.value <= searched.value || within;
  ADD_FAILURE() << "prefix " << prefix;
  return false;
}

// A search value with the characters search gives a meaning escaped (\, \| \$ \\).
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '|' || c == '$' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A generated search: the query string (decoded value) and the test that picks its matches.
struct Probe {
  std::string name;   // parameter with modifier
  std::string value;  // as it goes in the URL, before percent-encoding
  std::function<bool(const Values&)> matches;
};

struct Stored {
  std::string id;
  fhir::Resource resource;
};

class SearchDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea")) {
      if (entry.path().filename().string().starts_with("0-")) continue;  // hospitals and practitioners
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    files.resize(kPatients);
    std::vector<std::string> args;
    for (const auto& file : files) args.push_back(file.string());
    auto imported = testing::RunChartkeeper("import", dir_->path() / "data", args);
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    server_ = new testing::ServerProcess(dir_->path() / "data");
    stored_ = new std::map<std::string, std::vector<Stored>>();
    HttpClient client(server_->port());
    std::vector<std::string> fetched(std::begin(kTypes), std::end(kTypes));
    fetched.insert(fetched.end(), std::begin(kTextTypes), std::end(kTextTypes));
    for (const std::string& type : fetched) {
      std::string path = "/fhir/" + type + "?_count=1000";
      while (!path.empty()) {
        auto result = client.Get(path);
        ASSERT_EQ(result.status, 200) << result.body;
        auto bundle = ParseJson(result.body);
        if (bundle.HasMember("entry")) {
          for (const auto& entry : bundle["entry"].GetArray()) {
            std::string json = testing::ToJson(entry["resource"]);
            auto resource = fhir::ReadResource(json, fhir::Definitions::R4());
            ASSERT_TRUE(resource) << resource.error().ToString();
            (*stored_)[type].push_back({entry["resource"]["id"].GetString(), std::move(*resource)});
          }
        }
        path = testing::BundleLink(bundle, "next");
      }
      // By id, not in the order stored (which the import's parallel reading may vary), so the
      // values the probes draw are the same on every run.
      std::sort((*stored_)[type].begin(), (*stored_)[type].end(), [](const Stored& a, const Stored& b) { return a.id < b.id; });
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete stored_;
    delete dir_;
  }

  // Each stored resource of `type`'s values of its parameter `code`, by brute force (the
  // parameter's FHIRPath expression).
  static std::vector<Values> ValuesOf(const std::string& type, const std::string& code) {
    const fhir::Definitions& definitions = fhir::Definitions::R4();
    for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
      if (param.code != code || std::find(param.bases.begin(), param.bases.end(), type) == param.bases.end()) continue;
      return ValuesOf(type, param);
    }
    ADD_FAILURE() << type << " has no parameter " << code;
    return {};
  }
  static std::vector<Values> ValuesOf(const std::string& type, const fhir::SearchParameterDefinition& param) {
    const fhir::Definitions& definitions = fhir::Definitions::R4();
    const std::vector<Stored>& resources = (*stored_)[type];
    auto expression = fhirpath::Expression::Compile(param.expression, definitions, *definitions.FindResourceType(type));
    EXPECT_TRUE(expression) << param.code << ": " << expression.error().ToString();
    std::vector<Values> values(resources.size());
    for (std::size_t i = 0; expression && i < resources.size(); ++i) {
      auto found = expression->Evaluate(resources[i].resource, definitions);
      EXPECT_TRUE(found) << param.code << ": " << found.error().ToString();
      if (!found) continue;
      for (const fhirpath::Value& item : *found) Collect(item, param.type, values[i]);
    }
    return values;
  }
  static const fhir::SearchParameterDefinition& Parameter(const std::string& type, const std::string& code) {
    for (const fhir::SearchParameterDefinition& param : fhir::Definitions::R4().SearchParameters()) {
      if (param.code == code && std::find(param.bases.begin(), param.bases.end(), type) != param.bases.end()) return param;
    }
    throw std::invalid_argument(type + " has no parameter " + code);
  }

  // Runs `type?query` through every page; true when it finds exactly `expected`, else a failure
  // naming the query and the differences.
  static bool Agrees(HttpClient& client, const std::string& type, const std::string& query, const std::set<std::string>& expected) {
    const std::string path = "/fhir/" + type + "?" + query + "&_count=1000&_elements=id";
    const std::vector<std::string> found = testing::Flatten(testing::WalkPages(client, path).pages);
    const std::set<std::string> got(found.begin(), found.end());
    if (got == expected && got.size() == found.size()) return true;
    std::vector<std::string> missing, extra;
    std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
    ADD_FAILURE() << path << ": " << expected.size() << " expected, " << found.size() << " found; missing "
                  << ::testing::PrintToString(std::vector<std::string>(missing.begin(), missing.begin() + std::min<std::size_t>(3, missing.size())))
                  << ", extra "
                  << ::testing::PrintToString(std::vector<std::string>(extra.begin(), extra.begin() + std::min<std::size_t>(3, extra.size())));
    return false;
  }

  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
  static std::map<std::string, std::vector<Stored>>* stored_;
};

testing::TempDir* SearchDifferentialTest::dir_ = nullptr;
testing::ServerProcess* SearchDifferentialTest::server_ = nullptr;
std::map<std::string, std::vector<Stored>>* SearchDifferentialTest::stored_ = nullptr;

// The probes of one parameter, from the values two resources picked at random have.
std::vector<Probe> ProbesFor(const fhir::SearchParameterDefinition& param, const std::vector<Values>& values, std::mt19937& random) {
  std::vector<Probe> out;
  std::vector<const Values*> having;
  for (const Values& v : values) {
    if (!v.empty(param.type)) having.push_back(&v);
  }
  const std::string code = param.code;
  out.push_back({code + ":missing", "true", [type = param.type](const Values& v) { return v.empty(type); }});
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  const char* const kDatePrefixes[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"};
  const char* const kNumberPrefixes[] = {"gt", "lt", "ge", "le"};
  switch (param.type) {
    case SearchParamType::kToken:
      out.push_back({code, "no-such-code-anywhere", [](const Values&) { return false; }});
      for (int i = 0; i < 2 && !having.empty(); ++i) {
        const Values& v = *having[pick(having.size())];
        const auto [system, value] = v.tokens[pick(v.tokens.size())];
        auto has = [system = system, value = value](bool with_system) {
          return [=](const Values& v) {
            return std::any_of(v.tokens.begin(), v.tokens.end(), [&](const auto& t) { return t.second == value && (!with_system || t.first == system); });
          };
        };
        if (i == 0) {
          out.push_back({code, Escape(value), has(false)});
        } else {
          out.push_back({code, Escape(system) + "|" + Escape(value), has(true)});
          out.push_back({code + ":not", Escape(value), [f = has(false)](const Values& v) { return !f(v); }});
        }
      }
      return out;
    case SearchParamType::kString:
      out.push_back({code, "zzqx", [](const Values&) { return false; }});
      if (!having.empty()) {
        const Values& v = *having[pick(having.size())];
        const std::string text = v.strings[pick(v.strings.size())];
        const std::string normalized = search::NormalizeForSearch(text);
        const std::string prefix = normalized.substr(0, std::min<std::size_t>(normalized.size(), 1 + pick(4)));
        out.push_back({code, Escape(prefix), [prefix](const Values& v) {
                         return std::any_of(v.strings.begin(), v.strings.end(),
                                            [&](const std::string& s) { return search::NormalizeForSearch(s).starts_with(prefix); });
                       }});
        out.push_back({code + ":exact", Escape(text), [text](const Values& v) {
                         return std::find(v.strings.begin(), v.strings.end(), text) != v.strings.end();
                       }});
        const std::string middle = normalized.substr(normalized.size() / 2, 3);
        if (!middle.empty()) {
          out.push_back({code + ":contains", Escape(middle), [middle](const Values& v) {
                           return std::any_of(v.strings.begin(), v.strings.end(), [&](const std::string& s) {
                             return search::NormalizeForSearch(s).find(middle) != std::string::npos;
                           });
                         }});
        }
      }
      return out;
    case SearchParamType::kDate:
      out.push_back({code, "eq1066-10-14", [](const Values& v) {
                       return std::any_of(v.dates.begin(), v.dates.end(), [](TimeRange t) { return DateMatches("eq", *Range("1066-10-14"), t); });
                     }});
      for (int i = 0; i < 3 && !having.empty(); ++i) {
        const Values& v = *having[pick(having.size())];
        TimeRange at = v.dates[pick(v.dates.size())];
        if (at.start == std::numeric_limits<Millis>::min() && at.end == std::numeric_limits<Millis>::max()) continue;
        const Millis point = at.start != std::numeric_limits<Millis>::min() ? at.start : at.end - 1;
        std::string text = FormatInstant(point);
        const std::size_t lengths[] = {4, 7, 10, text.size()};  // year, month, day, instant
        text = text.substr(0, lengths[pick(4)]);
        const std::string prefix = kDatePrefixes[pick(std::size(kDatePrefixes))];
        TimeRange searched = *Range(text);
        out.push_back({code, prefix + text, [prefix, searched](const Values& v) {
                         return std::any_of(v.dates.begin(), v.dates.end(), [&](TimeRange t) { return DateMatches(prefix, searched, t); });
                       }});
      }
      return out;
    case SearchParamType::kNumber:
    case SearchParamType::kQuantity:
      for (int i = 0; i < 3 && !having.empty(); ++i) {
        const Values& v = *having[pick(having.size())];
        const double number = v.numbers[pick(v.numbers.size())].value;
        char text[64];
        std::snprintf(text, sizeof text, "%.17g", number);
        const std::string prefix = kNumberPrefixes[pick(std::size(kNumberPrefixes))];
        const search::DecimalInterval written = *search::ReadDecimalInterval(text);
        out.push_back({code, prefix + text, [prefix, written](const Values& v) {
                         return std::any_of(v.numbers.begin(), v.numbers.end(),
                                            [&](const search::DecimalInterval& n) { return NumberMatches(prefix, written, n); });
                       }});
      }
      return out;
    case SearchParamType::kReference:
      out.push_back({code, "Patient/no-such-patient", [](const Values&) { return false; }});
      for (int i = 0; i < 2 && !having.empty(); ++i) {
        const Values& v = *having[pick(having.size())];
        const std::string reference = v.references[pick(v.references.size())];
        if (reference.find(':') != std::string::npos || reference.find('/') == std::string::npos) continue;
        out.push_back({code, Escape(reference), [reference](const Values& v) {
                         return std::find(v.references.begin(), v.references.end(), reference) != v.references.end();
                       }});
      }
      return out;
    case SearchParamType::kUri:
      if (!having.empty()) {
        const Values& v = *having[pick(having.size())];
        const std::string uri = v.uris[pick(v.uris.size())];
        out.push_back({code, Escape(uri), [uri](const Values& v) { return std::find(v.uris.begin(), v.uris.end(), uri) != v.uris.end(); }});
      }
      return out;
    default:
      return out;
  }
}

TEST_F(SearchDifferentialTest, AgreesWithABruteForceEvaluationOnSynthea) {
  const fhir::Definitions& definitions = fhir::Definitions::R4();
  std::mt19937 random(20261128);
  HttpClient client(server_->port());
  int probes = 0;
  int agreed = 0;
  for (const char* type : kTypes) {
    const std::vector<Stored>& resources = (*stored_)[type];
    ASSERT_FALSE(resources.empty()) << type;
    for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
      if (param.expression.empty() || param.type == SearchParamType::kComposite || param.type == SearchParamType::kSpecial) continue;
      const bool applies = std::any_of(param.bases.begin(), param.bases.end(), [&](const std::string& base) {
        return base == type || base == "Resource" || base == "DomainResource";
      });
      if (!applies) continue;
      const std::vector<Values> values = ValuesOf(type, param);
      for (const Probe& probe : ProbesFor(param, values, random)) {
        std::set<std::string> expected;
        for (std::size_t i = 0; i < resources.size(); ++i) {
          if (probe.matches(values[i])) expected.insert(resources[i].id);
        }
        ++probes;
        if (Agrees(client, type, probe.name + "=" + ck::PercentEncode(probe.value), expected)) ++agreed;
      }
    }
  }
  std::printf("search differential: %d of %d searches agree with the brute-force evaluation\n", agreed, probes);
  EXPECT_GT(probes, 500);
  EXPECT_EQ(agreed, probes);
}

// A link of a generated chain: resources of `from` pointing through `reference` to resources of
// `to` (a chain), or resources of `to` that resources of `from` point to through `reference`
// (`_has`, reverse).
struct Link {
  std::string from;
  std::string reference;
  std::string to;
};

// Chained and reverse chained searches (`Observation?subject:Patient.family=...`,
// `Patient?_has:Condition:patient:code=...`, two links deep), with the inner probes generated as
// above, against the brute force: follow the references among the stored resources.
TEST_F(SearchDifferentialTest, ChainsAndReverseChainsAgreeWithABruteForceEvaluationOnSynthea) {
  std::mt19937 random(20261207);
  HttpClient client(server_->port());
  int probes = 0;
  int agreed = 0;
  // The ids of the resources of `type` whose parameter `code` points to one of `targets`.
  auto pointing = [&](const std::string& type, const std::string& code, const std::set<std::string>& targets) {
    const std::vector<Values> references = ValuesOf(type, code);
    std::set<std::string> out;
    for (std::size_t i = 0; i < references.size(); ++i) {
      for (const std::string& reference : references[i].references) {
        if (targets.count(reference) > 0) out.insert((*stored_)[type][i].id);
      }
    }
    return out;
  };
  // The "Type/id" of the resources that `type`'s parameter `code` of the resources `ids` points to.
  auto pointed_to = [&](const std::string& type, const std::string& code, const std::set<std::string>& ids) {
    const std::vector<Values> references = ValuesOf(type, code);
    std::set<std::string> out;
    for (std::size_t i = 0; i < references.size(); ++i) {
      if (ids.count((*stored_)[type][i].id) == 0) continue;
      out.insert(references[i].references.begin(), references[i].references.end());
    }
    return out;
  };
  struct Case {
    std::vector<Link> links;  // outermost first
    bool reverse;
    std::string inner_type;
    std::string inner_code;
  };
  const Case cases[] = {
      {{{"Observation", "subject", "Patient"}}, false, "Patient", "family"},
      {{{"Encounter", "patient", "Patient"}}, false, "Patient", "birthdate"},
      {{{"DiagnosticReport", "result", "Observation"}}, false, "Observation", "code"},
      {{{"Condition", "encounter", "Encounter"}}, false, "Encounter", "date"},
      {{{"Observation", "encounter", "Encounter"}, {"Encounter", "subject", "Patient"}}, false, "Patient", "gender"},
      {{{"Condition", "patient", "Patient"}}, true, "Condition", "code"},
      {{{"Observation", "patient", "Patient"}}, true, "Observation", "code"},
      {{{"Observation", "encounter", "Encounter"}}, true, "Observation", "date"},
      {{{"Encounter", "patient", "Patient"}, {"Procedure", "encounter", "Encounter"}}, true, "Procedure", "code"},
  };
  int found_some = 0;
  constexpr int kRounds = 3;  // of probes per case, each from other values
  for (int round = 0; round < kRounds; ++round) {
    for (const Case& test : cases) {
      const std::vector<Stored>& inner = (*stored_)[test.inner_type];
      const fhir::SearchParameterDefinition& param = Parameter(test.inner_type, test.inner_code);
      const std::vector<Values> values = ValuesOf(test.inner_type, param);
      for (const Probe& probe : ProbesFor(param, values, random)) {
        std::set<std::string> matched;  // "Type/id" of the inner resources the probe matches
        for (std::size_t i = 0; i < inner.size(); ++i) {
          if (probe.matches(values[i])) matched.insert(test.inner_type + "/" + inner[i].id);
        }
        std::string name;
        std::string outer_type;
        if (!test.reverse) {  // links[0].from ← ... ← inner: walk from the inside out
          for (std::size_t l = test.links.size(); l-- > 0;) {
            const Link& link = test.links[l];
            std::set<std::string> ids = pointing(link.from, link.reference, matched);
            matched.clear();
            for (const std::string& id : ids) matched.insert(link.from + "/" + id);
          }
          outer_type = test.links[0].from;
          for (const Link& link : test.links) name += link.reference + ":" + link.to + ".";
        } else {  // links[0].to is the outer type; each link's `from` points to its `to`
          for (std::size_t l = test.links.size(); l-- > 0;) {
            const Link& link = test.links[l];
            std::set<std::string> ids;
            for (const std::string& typed : matched) ids.insert(typed.substr(typed.find('/') + 1));
            std::set<std::string> targets = pointed_to(link.from, link.reference, ids);
            matched.clear();
            for (const std::string& target : targets) {
              if (target.starts_with(link.to + "/")) matched.insert(target);
            }
          }
          outer_type = test.links[0].to;
          for (const Link& link : test.links) name += "_has:" + link.from + ":" + link.reference + ":";
        }
        std::set<std::string> expected;
        for (const std::string& typed : matched) expected.insert(typed.substr(typed.find('/') + 1));
        ++probes;
        found_some += expected.empty() ? 0 : 1;
        if (Agrees(client, outer_type, name + probe.name + "=" + ck::PercentEncode(probe.value), expected)) ++agreed;
      }
    }
  }
  std::printf("chained search differential: %d of %d searches agree with the brute-force evaluation (%d find something)\n", agreed, probes,
              found_some);
  EXPECT_GT(probes, 120);
  EXPECT_GT(found_some, probes / 3);
  EXPECT_EQ(agreed, probes);
}

// Full text by brute force: the text of narrative XHTML (between tags, entities decoded); a
// resource's text (every string and markdown value but a reference's target, narratives, the
// decoded data of text/* attachments); and the words of a text, folded as string search folds it and cut at every
// character that is not an ASCII letter or digit.
std::string XhtmlText(std::string_view xhtml) {
  std::string plain;
  bool in_tag = false;
  for (char c : xhtml) {
    if (c == '<' || c == '>') {
      in_tag = c == '<';
      plain += ' ';
    } else if (!in_tag) {
      plain += c;
    }
  }
  for (const auto& [entity, c] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
    for (std::size_t at = plain.find(entity); at != std::string::npos; at = plain.find(entity, at + 1)) plain.replace(at, std::strlen(entity), c);
  }
  return plain;
}

std::string Narrative(const fhir::Resource& resource) {
  const fhir::Property* text = resource.root().Find("text");
  return text == nullptr ? "" : XhtmlText(text->values[0].TextOf("div"));
}

void AddContent(const Node& node, std::string& out) {
  const std::string type = node.type == nullptr ? "" : node.type->name;
  if (node.kind == fhir::JsonKind::kString) {
    if (type == "string" || type == "markdown") out += node.text + "\n";
    if (type == "xhtml") out += XhtmlText(node.text) + "\n";
    return;
  }
  if ((type == "Attachment" || type == "Binary") && node.TextOf("contentType").starts_with("text/")) {
    if (auto decoded = Base64Decode(node.TextOf("data"))) out += *decoded + "\n";
  }
  for (const fhir::Property& property : node.properties) {
    if (type == "Reference" && property.name == "reference") continue;  // a target ("Patient/123"), not text
    for (const Node& value : property.values) AddContent(value, out);
  }
}

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> words;
  std::string word;
  for (char c : search::NormalizeForSearch(text) + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) {
      word += c;
    } else if (!word.empty()) {
      words.insert(std::exchange(word, ""));
    }
  }
  return words;
}

// `_text` on the Synthea narratives and `_content` on their notes and other text: words and
// prefixes drawn from them, against the brute force.
TEST_F(SearchDifferentialTest, FullTextAgreesWithABruteForceEvaluationOnSynthea) {
  std::mt19937 random(20261207);
  HttpClient client(server_->port());
  int probes = 0;
  int agreed = 0;
  const std::pair<const char*, const char*> kSearches[] = {{"Patient", "_text"},   {"CarePlan", "_text"},  {"DocumentReference", "_content"},
                                                           {"Patient", "_content"}, {"Condition", "_content"}, {"Encounter", "_content"}};
  for (const auto& [type, name] : kSearches) {
    const std::vector<Stored>& resources = (*stored_)[type];
    std::vector<std::set<std::string>> words;
    std::vector<std::size_t> having;
    for (const Stored& stored : resources) {
      std::string text;
      if (std::string_view(name) == "_text") {
        text = Narrative(stored.resource);
      } else {
        AddContent(stored.resource.root(), text);
      }
      words.push_back(Words(text));
      if (!words.back().empty()) having.push_back(words.size() - 1);
    }
    ASSERT_FALSE(having.empty()) << type << " " << name;
    for (int i = 0; i < 6; ++i) {
      const std::set<std::string>& some = words[having[std::uniform_int_distribution<std::size_t>(0, having.size() - 1)(random)]];
      std::string word = *std::next(some.begin(), static_cast<long>(std::uniform_int_distribution<std::size_t>(0, some.size() - 1)(random)));
      const bool prefix = i % 2 == 1 && word.size() > 3;
      if (prefix) word.resize(3);
      std::set<std::string> expected;
      for (std::size_t r = 0; r < resources.size(); ++r) {
        const bool has = prefix ? std::any_of(words[r].begin(), words[r].end(), [&](const std::string& w) { return w.starts_with(word); })
                                : words[r].count(word) > 0;
        if (has) expected.insert(resources[r].id);
      }
      ++probes;
      // The words AND, OR and NOT are operators unless quoted.
      const std::string searched = prefix ? word + "*" : word == "and" || word == "or" || word == "not" ? "\"" + word + "\"" : word;
      if (Agrees(client, type, std::string(name) + "=" + ck::PercentEncode(searched), expected)) ++agreed;
    }
  }
  std::printf("full text differential: %d of %d searches agree with the brute-force evaluation\n", agreed, probes);
  EXPECT_EQ(probes, 36);
  EXPECT_EQ(agreed, probes);
}

}  // namespace
}  // namespace ck
