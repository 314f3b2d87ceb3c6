#pragma once
// Writes the audit trail: each record in the transaction of the write it records (a change and
// its record commit together or not at all), or, for reads, searches, refusals and failures, as
// writes of their own: those waiting when the store's writer gets to them go in as one write
// operation (one savepoint, one callback) that shares the store's group commit. Completes each record with the
// patients concerned: those named outright, and for each resource concerned the patients whose
// compartment holds it (R4 CompartmentDefinition, by its index rows as the transaction sees
// them).
//
// The writer is the one thread every audited read waits for, so what can be done before it is:
// a record whose resources' patients are known by version (remembered from an earlier look-up
// of the same version: a version's compartment never changes) is rendered by the caller's
// thread, and the writer only chains and appends it.
// Thread safety: all methods are safe from any thread.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/audit_entry.h"
#include "fhir/definitions.h"
#include "search/index_entries.h"
#include "store/resource_store.h"

namespace ck::audit {

// A resource that a read, search or history returned: its patients are those of the version
// with this sequence (StoredVersion::sequence), as the index holds them when the record is made.
struct Subject {
  std::string type;
  std::string id;
  std::int64_t sequence = 0;  // 0: not known, whatever version is current

  static Subject Of(const store::StoredVersion& version) { return {version.type, version.id, version.sequence}; }
};

class AuditTrail {
 public:
  // REQUIRES: both outlive the trail.
  AuditTrail(const fhir::Definitions& definitions, store::ResourceStore& store);

  // Appends `entry` in `txn`, its patients completed from `subjects`. Errors: the store's.
  Status Append(store::WriteTransaction& txn, AuditEntry entry, const std::vector<Subject>& subjects) const;
  // Records `entry` as a write of its own, with whatever other records wait; `done` as
  // ResourceStore::WriteAsync's (the group's outcome).
  void Record(AuditEntry entry, std::vector<Subject> subjects, std::function<void(Status)> done) const;
  // Records `entry` and waits until it is durable. Errors: the store's.
  Status RecordNow(AuditEntry entry, std::vector<Subject> subjects = {}) const;

  // The patients whose compartment a resource of `type` with these index entries is in (for a
  // write, before its rows reach the database).
  std::vector<std::string> PatientsIn(std::string_view type, std::string_view id, const search::IndexEntries& index) const;
  // The same for the current resource type/id, by its index rows as `txn` sees them.
  Result<std::vector<std::string>> PatientsOf(store::WriteTransaction& txn, std::string_view type, std::string_view id) const;

 private:
  static constexpr std::size_t kVersionsRemembered = 100000;

  // Adds the patients of `subject` to `patients` if they need no look-up; false if they do.
  bool AddKnownPatients(const Subject& subject, std::vector<std::string>& patients) const;
  Result<std::vector<std::string>> LookUpPatients(store::WriteTransaction& txn, const Subject& subject) const;
  // Appends `entry` rendered as `content` (AuditContent) in `txn`.
  static Status AppendRendered(store::WriteTransaction& txn, const std::string& content, const AuditEntry& entry);

  const fhir::Definitions& definitions_;
  store::ResourceStore& store_;
  // By resource type: the URLs of the reference parameters that put it in a Patient compartment.
  std::unordered_map<std::string, std::vector<std::string>> patient_params_;

  struct KnownPatients {
    std::int64_t sequence = 0;
    std::vector<std::string> patients;
  };
  mutable std::mutex known_mu_;
  // guarded by known_mu_: by "Type/id", the patients of the version looked up last; emptied
  // when it reaches kVersionsRemembered
  mutable std::unordered_map<std::string, KnownPatients> known_;

  struct Waiting {
    AuditEntry entry;
    std::vector<Subject> subjects;  // whose patients the writer looks up; none when content is made
    std::string content;            // AuditContent(entry), when no look-up was needed
    std::function<void(Status)> done;
  };
  mutable std::mutex mu_;
  mutable std::vector<Waiting> waiting_;  // guarded by mu_: records for the next group
  mutable bool scheduled_ = false;        // guarded by mu_: a write operation will take them
};

}  // namespace ck::audit
