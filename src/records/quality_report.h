#pragma once
// The data quality report: every stored current version checked again with the validation of a
// write (bindings, invariants, profiles, extensions; warnings included), and every relative
// reference looked up, so an HIM analyst finds the flaws in data that came in before the rules
// did. Per resource type: how many resources were checked, how many have errors and warnings,
// the errors and warnings per rule ("constraint obs-6", "binding <value set>", "profile <url>"),
// the references to resources the server does not hold, the resources a lenient validation
// policy stored with errors recorded, and the ten worst offenders.
// Scans in pages (bounded memory, whatever the size of the database), reporting progress.
// Thread safety: one report per object; the services it reads are thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "records/record_service.h"
#include "store/resource_store.h"

namespace ck::records {

struct RuleTally {
  std::size_t errors = 0;
  std::size_t warnings = 0;
};

struct Offender {
  std::string id;
  std::size_t errors = 0;
  std::size_t warnings = 0;
};

struct TypeQuality {
  std::string type;
  std::size_t checked = 0;
  std::size_t with_errors = 0;
  std::size_t with_warnings = 0;
  // Stored by a lenient validation policy with errors recorded beside them (whatever the rules
  // say today), and up to ten of their ids.
  std::size_t stored_with_errors = 0;
  std::vector<std::string> stored_with_errors_examples;
  std::map<std::string, RuleTally> rules;  // rule -> counts
  std::size_t unresolved_references = 0;
  std::vector<std::string> unresolved_examples;  // up to ten "Observation/1 -> Patient/9"
  std::vector<Offender> worst;                   // up to ten, most errors first
};

struct QualityReport {
  std::vector<TypeQuality> types;  // only types with stored resources, in name order

  // The report as a table for a terminal, and as JSON.
  std::string Table() const;
  std::string Json() const;
};

class QualityScan {
 public:
  // REQUIRES: both outlive the scan.
  QualityScan(RecordService& records, store::ResourceStore& store) : records_(records), store_(store) {}

  // Told after each page the type scanned and the count of that type so far; answers whether
  // to go on (false stops the scan: a server shutting down).
  using Progress = std::function<bool(const std::string& type, std::size_t checked)>;

  // Scans `types` (every resource type when empty). Errors: kNotFound (an unknown type),
  // kUnavailable (stopped by `progress`), store errors.
  Result<QualityReport> Run(const std::vector<std::string>& types, const Progress& progress = {});

 private:
  Status ScanType(const std::string& type, TypeQuality& out, const Progress& progress);
  void CheckReferences(const fhir::Node& node, const std::string& label, TypeQuality& out);

  RecordService& records_;
  store::ResourceStore& store_;
};

}  // namespace ck::records
