#pragma once
// Writes the audit trail: each record in the transaction of the write it records (a change and
// its record commit together or not at all), or, for reads, searches, refusals and failures, as
// writes of their own: those waiting when the store's writer gets to them go in as one write
// operation (one savepoint, one callback) that shares the store's group commit. Completes each record with the
// patients concerned: those named outright, and for each resource concerned ("Type/id") the
// patients whose compartment holds it (R4 CompartmentDefinition, by its index rows as the
// transaction sees them).
// Thread safety: immutable after construction; all methods are safe from any thread.

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

class AuditTrail {
 public:
  // REQUIRES: both outlive the trail.
  AuditTrail(const fhir::Definitions& definitions, store::ResourceStore& store);

  // Appends `entry` in `txn`, its patients completed from `subjects`. Errors: the store's.
  Status Append(store::WriteTransaction& txn, AuditEntry entry, const std::vector<std::string>& subjects) const;
  // Records `entry` as a write of its own, with whatever other records wait; `done` as
  // ResourceStore::WriteAsync's (the group's outcome).
  void Record(AuditEntry entry, std::vector<std::string> subjects, std::function<void(Status)> done) const;
  // Records `entry` and waits until it is durable. Errors: the store's.
  Status RecordNow(AuditEntry entry, std::vector<std::string> subjects = {}) const;

  // The patients whose compartment a resource of `type` with these index entries is in (for a
  // write, before its rows reach the database).
  std::vector<std::string> PatientsIn(std::string_view type, std::string_view id, const search::IndexEntries& index) const;
  // The same for the current resource type/id, by its index rows as `txn` sees them.
  Result<std::vector<std::string>> PatientsOf(store::WriteTransaction& txn, std::string_view type, std::string_view id) const;

 private:
  const fhir::Definitions& definitions_;
  store::ResourceStore& store_;
  // By resource type: the URLs of the reference parameters that put it in a Patient compartment.
  std::unordered_map<std::string, std::vector<std::string>> patient_params_;

  struct Waiting {
    AuditEntry entry;
    std::vector<std::string> subjects;
    std::function<void(Status)> done;
  };
  mutable std::mutex mu_;
  mutable std::vector<Waiting> waiting_;  // guarded by mu_: records for the next group
  mutable bool scheduled_ = false;        // guarded by mu_: a write operation will take them
};

}  // namespace ck::audit
