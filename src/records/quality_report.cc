#include "records/quality_report.h"

#include <algorithm>

#include "fhir/json_writer.h"

namespace ck::records {
namespace {

constexpr std::uint32_t kPageSize = 500;
constexpr std::size_t kTopCount = 10;

// "Patient/123" from a relative reference; empty for anything else (contained "#a", urn:uuid:,
// absolute URLs of other servers, conditional references).
std::string RelativeTarget(std::string_view reference) {
  if (reference.empty() || reference.starts_with('#') || reference.find(':') != std::string_view::npos ||
      reference.find('?') != std::string_view::npos) {
    return {};
  }
  std::size_t history = reference.find("/_history/");
  if (history != std::string_view::npos) reference = reference.substr(0, history);
  std::size_t slash = reference.find('/');
  if (slash == std::string_view::npos || reference.find('/', slash + 1) != std::string_view::npos) return {};
  return std::string(reference);
}

std::string JsonStrings(const std::vector<std::string>& strings) {
  std::string out = "[";
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out += ',';
    fhir::AppendJsonString(out, strings[i]);
  }
  return out + "]";
}

std::string RuleOf(const Issue& issue) { return issue.rule.empty() ? std::string(IssueTypeCode(issue.type)) : issue.rule; }

}  // namespace

Result<QualityReport> QualityScan::Run(const std::vector<std::string>& types, const Progress& progress) {
  std::vector<std::string> names = types;
  if (names.empty()) {
    for (const fhir::TypeDefinition* type : fhir::Definitions::R4().ResourceTypes()) names.push_back(type->name);
  }
  QualityReport report;
  for (const std::string& name : names) {
    CK_ASSIGN_OR_RETURN(const fhir::TypeDefinition* type, records_.ResourceType(name));
    TypeQuality quality{type->name};
    CK_RETURN_IF_ERROR(ScanType(type->name, quality, progress));
    if (quality.checked > 0) report.types.push_back(std::move(quality));
  }
  return report;
}

Status QualityScan::ScanType(const std::string& type, TypeQuality& out, const Progress& progress) {
  std::string after;
  while (true) {
    CK_ASSIGN_OR_RETURN(std::vector<store::StoredVersion> page, store_.ScanCurrent(type, after, kPageSize));
    if (page.empty()) break;
    after = page.back().id;
    for (const store::StoredVersion& version : page) {
      ++out.checked;
      const std::string label = type + "/" + version.id;
      if (!version.issues.empty()) {
        ++out.stored_with_errors;
        if (out.stored_with_errors_examples.size() < kTopCount) out.stored_with_errors_examples.push_back(version.id);
      }
      std::vector<Issue> issues;
      auto resource = records_.Parse(version.body);
      if (!resource) {
        // Stored before a structure rule existed: its structure problems are its issues.
        issues = resource.error().issues();
        if (issues.empty()) issues.push_back({resource.error().DefaultIssueType(), resource.error().message(), ""});
      } else {
        issues = records_.Validate(*resource, true);
        CheckReferences(resource->root(), label, out);
      }
      Offender offender{version.id};
      for (const Issue& issue : issues) {
        if (issue.severity == IssueSeverity::kInformation) continue;
        RuleTally& tally = out.rules[RuleOf(issue)];
        if (issue.IsError()) {
          ++tally.errors;
          ++offender.errors;
        } else {
          ++tally.warnings;
          ++offender.warnings;
        }
      }
      out.with_errors += offender.errors > 0;
      out.with_warnings += offender.warnings > 0;
      if (offender.errors > 0) {
        out.worst.push_back(std::move(offender));
        std::sort(out.worst.begin(), out.worst.end(), [](const Offender& a, const Offender& b) {
          return a.errors != b.errors ? a.errors > b.errors : a.id < b.id;
        });
        if (out.worst.size() > kTopCount) out.worst.pop_back();
      }
    }
    if (progress && !progress(type, out.checked)) return Status::Unavailable("the quality report was stopped");
  }
  return Status::Ok();
}

void QualityScan::CheckReferences(const fhir::Node& node, const std::string& label, TypeQuality& out) {
  for (const fhir::Property& property : node.properties) {
    for (const fhir::Node& value : property.values) {
      if (value.kind != fhir::JsonKind::kObject) continue;
      if (property.slot != nullptr && property.slot->type != nullptr && property.slot->type->name == "Reference") {
        std::string target = RelativeTarget(value.TextOf("reference"));
        if (!target.empty()) {
          std::size_t slash = target.find('/');
          auto current = store_.ReadCurrent(target.substr(0, slash), target.substr(slash + 1));
          if (current && (!*current || (*current)->deleted())) {
            ++out.unresolved_references;
            if (out.unresolved_examples.size() < kTopCount) out.unresolved_examples.push_back(label + " -> " + target);
          }
        }
      }
      CheckReferences(value, label, out);
    }
  }
}

std::string QualityReport::Table() const {
  std::string out;
  for (const TypeQuality& type : types) {
    out += type.type + ": " + std::to_string(type.checked) + " checked, " + std::to_string(type.with_errors) + " with errors, " +
           std::to_string(type.with_warnings) + " with warnings, " + std::to_string(type.unresolved_references) +
           " unresolved references\n";
    if (type.stored_with_errors > 0) {
      out += "  stored with errors recorded (lenient policy): " + std::to_string(type.stored_with_errors) + ", e.g.";
      for (const std::string& id : type.stored_with_errors_examples) out += " " + id;
      out += "\n";
    }
    std::vector<std::pair<std::string, RuleTally>> rules(type.rules.begin(), type.rules.end());
    std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
      return a.second.errors != b.second.errors ? a.second.errors > b.second.errors : a.second.warnings > b.second.warnings;
    });
    for (const auto& [rule, tally] : rules) {
      char line[64];
      std::snprintf(line, sizeof line, "  %8zu errors %8zu warnings  ", tally.errors, tally.warnings);
      out += line + rule + "\n";
    }
    for (const std::string& example : type.unresolved_examples) out += "  unresolved: " + example + "\n";
    if (!type.worst.empty()) {
      out += "  worst:";
      for (const Offender& offender : type.worst) out += " " + offender.id + " (" + std::to_string(offender.errors) + ")";
      out += "\n";
    }
  }
  if (types.empty()) out += "no resources stored\n";
  return out;
}

std::string QualityReport::Json() const {
  std::string out = R"({"types":[)";
  for (std::size_t i = 0; i < types.size(); ++i) {
    const TypeQuality& type = types[i];
    if (i > 0) out += ',';
    out += R"({"type":)";
    fhir::AppendJsonString(out, type.type);
    out += R"(,"checked":)" + std::to_string(type.checked) + R"(,"withErrors":)" + std::to_string(type.with_errors) +
           R"(,"withWarnings":)" + std::to_string(type.with_warnings) + R"(,"storedWithErrors":)" +
           std::to_string(type.stored_with_errors) + R"(,"unresolvedReferences":)" + std::to_string(type.unresolved_references) +
           R"(,"storedWithErrorsExamples":)" + JsonStrings(type.stored_with_errors_examples) + R"(,"rules":[)";
    bool first = true;
    for (const auto& [rule, tally] : type.rules) {
      if (!first) out += ',';
      first = false;
      out += R"({"rule":)";
      fhir::AppendJsonString(out, rule);
      out += R"(,"errors":)" + std::to_string(tally.errors) + R"(,"warnings":)" + std::to_string(tally.warnings) + "}";
    }
    out += R"(],"unresolvedExamples":)" + JsonStrings(type.unresolved_examples) + R"(,"worst":[)";
    for (std::size_t j = 0; j < type.worst.size(); ++j) {
      if (j > 0) out += ',';
      out += R"({"id":)";
      fhir::AppendJsonString(out, type.worst[j].id);
      out += R"(,"errors":)" + std::to_string(type.worst[j].errors) + R"(,"warnings":)" + std::to_string(type.worst[j].warnings) + "}";
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace ck::records
