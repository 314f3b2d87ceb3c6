// Differential test against the reference FHIRPath engine (npm `fhirpath`, R4 model): every R4
// SearchParameter expression and every invariant (of resources; of complex data types on every
// element of that type; the generic Element ones aside), on Synthea resources, evaluated
// by both engines and compared. Each expression that differs must be listed, with the reason
// and the spec clause that says which side is right, in differential_known.txt.
// By default the first CK_DIFFERENTIAL_BUNDLES (5) patient bundles are used; set it to 100 to
// run over every Synthea resource.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/input_file.h"
#include "fhir/json_reader.h"
#include "fhir/json_writer.h"
#include "fhirpath/expression.h"
#include "support/reason_file.h"
#include "support/temp_dir.h"

namespace ck::fhirpath {
namespace {

const fhir::Definitions& defs = fhir::Definitions::R4();
const std::filesystem::path kSynthea = std::filesystem::path(CK_SOURCE_DIR) / ".." / "shared" / "testdata" / "synthea";

struct Case {
  std::string key;   // "Observation patient" (search parameter) or "Observation obs-6" (invariant)
  std::string base;  // the resource type it applies to
  std::string text;
};

std::string JsNumber(std::string_view text) {
  double value = std::strtod(std::string(text).c_str(), nullptr);
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

// Canonical JSON as the JavaScript side writes it: keys sorted, numbers in JavaScript's form.
void Canonical(const fhir::Node& node, std::string& out) {
  switch (node.kind) {
    case fhir::JsonKind::kObject: {
      std::vector<const fhir::Property*> properties;
      for (const auto& p : node.properties) properties.push_back(&p);
      std::sort(properties.begin(), properties.end(), [](auto* a, auto* b) { return a->name < b->name; });
      out += '{';
      for (std::size_t i = 0; i < properties.size(); ++i) {
        if (i) out += ',';
        fhir::AppendJsonString(out, properties[i]->name);
        out += ':';
        if (properties[i]->is_array) {
          out += '[';
          for (std::size_t j = 0; j < properties[i]->values.size(); ++j) {
            if (j) out += ',';
            Canonical(properties[i]->values[j], out);
          }
          out += ']';
        } else {
          Canonical(properties[i]->values[0], out);
        }
      }
      out += '}';
      return;
    }
    case fhir::JsonKind::kString: fhir::AppendJsonString(out, node.text); return;
    case fhir::JsonKind::kNumber: out += JsNumber(node.text); return;
    case fhir::JsonKind::kBoolean: out += node.text; return;
    case fhir::JsonKind::kNull: out += "null"; return;
  }
}

std::string Normalize(const Value& v) {
  if (v.IsElement() && v.node != nullptr && v.node->kind == fhir::JsonKind::kObject) {
    std::string out = "J:";
    Canonical(*v.node, out);
    return out;
  }
  auto system = v.ToSystem();
  if (!system) return "E:";  // a primitive with only extensions
  switch (system->kind) {
    case ValueKind::kBoolean: return std::string("B:") + (system->boolean ? "true" : "false");
    case ValueKind::kInteger: return "N:" + std::to_string(system->integer);
    case ValueKind::kDecimal: return "N:" + JsNumber(v.IsElement() ? v.node->text : system->ToString());
    default: return "S:" + system->ToString();
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const auto& p : defs.SearchParameters()) {
    if (p.expression.empty()) continue;
    for (const auto& base : p.bases) cases.push_back({base + " " + p.code, base, p.expression});
  }
  for (const auto& c : defs.Constraints()) {
    std::string type = c.path.substr(0, c.path.find('.'));
    const fhir::TypeDefinition* definition = defs.FindType(type);
    if (definition == nullptr) continue;
    // The rest of the path, each name quoted (a name like `div` is also an operator).
    std::string rest;
    for (std::size_t at = c.path.find('.'); at != std::string::npos;) {
      std::size_t next = c.path.find('.', at + 1);
      rest += ".`" + c.path.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1) + "`";
      at = next;
    }
    if (definition->IsResource()) {
      cases.push_back({type + " " + c.key, type, rest.empty() ? c.expression : type + rest + ".select(" + c.expression + ")"});
    } else if (!definition->IsPrimitive() && type != "Element" && type != "BackboneElement") {
      // A data type's invariant, on every element of that type anywhere in any resource.
      cases.push_back({type + " " + c.key, "Resource", "descendants().ofType(" + type + ")" + rest + ".select(" + c.expression + ")"});
    }
  }
  return cases;
}

std::map<std::string, std::string> Known() {
  return testing::ReadReasonFile(std::filesystem::path(CK_SOURCE_DIR) / "tests" / "fhirpath" / "differential_known.txt");
}

TEST(DifferentialTest, AgreesWithTheReferenceEngineOnSynthea) {
  int bundles = 5;
  if (const char* n = std::getenv("CK_DIFFERENTIAL_BUNDLES")) bundles = std::atoi(n);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSynthea)) {
    if (!entry.path().filename().string().starts_with("0-")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min<std::size_t>(files.size(), static_cast<std::size_t>(bundles)));

  std::vector<fhir::Resource> resources;
  for (const auto& file : files) {
    auto text = (*cli::InputFile::Open(file))->ReadAll();
    auto bundle = fhir::ParseJsonTree(*text);
    ASSERT_TRUE(bundle);
    for (fhir::Node& entry : bundle->Find("entry")->values) {
      auto resource = fhir::BindResource(std::move(entry.Find("resource")->values[0]), defs);
      ASSERT_TRUE(resource);
      resources.push_back(std::move(*resource));
    }
  }
  std::vector<Case> cases = Cases();
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t r = 0; r < resources.size(); ++r) {
    for (std::size_t e = 0; e < cases.size(); ++e) {
      const std::string& base = cases[e].base;
      if (base == resources[r].type_name() || base == "Resource" || (base == "DomainResource" && resources[r].type().base->name == "DomainResource")) {
        pairs.emplace_back(r, e);
      }
    }
  }

  testing::TempDir dir;
  {
    std::ofstream out(dir.path() / "cases.json");
    out << R"({"resources":[)";
    for (std::size_t r = 0; r < resources.size(); ++r) out << (r ? "," : "") << fhir::WriteJson(resources[r].root());
    out << R"(],"expressions":[)";
    for (std::size_t e = 0; e < cases.size(); ++e) {
      std::string text;
      fhir::AppendJsonString(text, cases[e].text);
      out << (e ? "," : "") << R"({"base":")" << cases[e].base << R"(","text":)" << text << "}";
    }
    out << R"(],"pairs":[)";
    for (std::size_t i = 0; i < pairs.size(); ++i) out << (i ? "," : "") << "[" << pairs[i].first << "," << pairs[i].second << "]";
    out << "]}";
  }
  std::string command = "node " + (std::filesystem::path(CK_SOURCE_DIR) / "tests" / "fhirpath" / "reference_engine.mjs").string() +
                        " " + (dir.path() / "cases.json").string() + " " + (dir.path() / "reference.ndjson").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::ifstream reference(dir.path() / "reference.ndjson");
  std::map<std::size_t, Result<Expression>> compiled;
  std::map<std::string, std::pair<int, std::string>> differing;  // key -> count, first example
  std::size_t agree = 0, order_only = 0, total = 0;
  std::string line;
  for (const auto& [r, e] : pairs) {
    std::getline(reference, line);
    rapidjson::Document expected;
    expected.Parse(line.c_str());
    ++total;
    if (!compiled.contains(e)) {
      compiled.emplace(e, Expression::Compile(cases[e].text, defs, *defs.FindType(cases[e].base)));
    }
    const auto& expression = compiled.at(e);
    std::string outcome;
    if (!expression) {
      outcome = "ours refused: " + expression.error().message();
    } else if (auto result = expression->Evaluate(resources[r], defs); !result) {
      outcome = "ours failed: " + result.error().message();
    } else if (!expected["ok"].GetBool()) {
      outcome = std::string("reference failed: ") + expected["error"].GetString();
    } else {
      std::vector<std::string> ours, theirs;
      for (const Value& v : *result) ours.push_back(Normalize(v));
      for (auto& v : expected["values"].GetArray()) theirs.push_back(v.GetString());
      if (ours == theirs) {
        ++agree;
        continue;
      }
      std::vector<std::string> a = ours, b = theirs;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a == b) {
        ++order_only;
        continue;
      }
      outcome = "ours " + std::to_string(ours.size()) + " [" + (ours.empty() ? "" : ours[0].substr(0, 120)) + "] vs reference " +
                std::to_string(theirs.size()) + " [" + (theirs.empty() ? "" : theirs[0].substr(0, 120)) + "]";
    }
    auto& entry = differing[cases[e].key];
    if (entry.first++ == 0) entry.second = resources[r].type_name() + "/" + std::string(resources[r].id()) + ": " + outcome;
  }
  auto known = Known();
  std::printf("differential: %zu evaluations on %zu resources, %zu agree, %zu agree up to order, %zu differ in %zu expressions\n",
              total, resources.size(), agree, order_only, total - agree - order_only, differing.size());
  for (const auto& [key, entry] : differing) {
    if (known.contains(key)) continue;
    ADD_FAILURE() << key << " differs in " << entry.first << " evaluations, e.g. " << entry.second;
  }
}

}  // namespace
}  // namespace ck::fhirpath
