#pragma once
// The issues of one validation, gathered across its checks: at most `max_issues` in all, each
// once, and warnings and information only when the caller asks for them (a write that returns only its
// outcome does not pay for wording them).
// Thread safety: one collector per validation; not shared.

#include <cstddef>
#include <string>
#include <vector>

#include "util/status.h"

namespace ck::validation {

struct CheckOptions {
  std::size_t max_issues = 100;
  bool warnings = false;  // collect warnings and information too
};

class IssueCollector {
 public:
  explicit IssueCollector(CheckOptions options) : options_(options) {}

  // Whether an issue of this severity would be kept: checks skip the work of one that would not.
  bool Wants(IssueSeverity severity) const {
    return issues_.size() < options_.max_issues &&
           (severity == IssueSeverity::kError || severity == IssueSeverity::kFatal || options_.warnings);
  }
  bool full() const { return issues_.size() >= options_.max_issues; }

  // Adds an issue unless the same one (a rule reached twice, as through an element and its
  // slice) is there already.
  void Add(IssueSeverity severity, IssueType type, std::string message, std::string expression, std::string rule = "") {
    if (!Wants(severity)) return;
    for (const Issue& issue : issues_) {
      if (issue.expression == expression && issue.message == message) return;
    }
    issues_.push_back({type, std::move(message), std::move(expression), severity, std::move(rule)});
  }
  const std::vector<Issue>& issues() const { return issues_; }
  std::vector<Issue> Take() { return std::move(issues_); }

 private:
  const CheckOptions options_;
  std::vector<Issue> issues_;
};

}  // namespace ck::validation
