#include "audit/audit_trail.h"

#include <algorithm>

namespace ck::audit {
namespace {

void AddOnce(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

AuditTrail::AuditTrail(const fhir::Definitions& definitions, store::ResourceStore& store) : definitions_(definitions), store_(store) {
  for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
    if (param.type != fhir::SearchParamType::kReference) continue;
    for (const std::string& base : param.bases) {
      const std::vector<std::string>* codes = definitions.CompartmentParameters("Patient", base);
      if (codes != nullptr && std::find(codes->begin(), codes->end(), param.code) != codes->end()) {
        patient_params_[base].push_back(param.url);
      }
    }
  }
}

std::vector<std::string> AuditTrail::PatientsIn(std::string_view type, std::string_view id, const search::IndexEntries& index) const {
  std::vector<std::string> patients;
  if (type == "Patient") {
    patients.emplace_back(id);
    return patients;
  }
  const std::vector<std::string>* codes = definitions_.CompartmentParameters("Patient", type);
  if (codes == nullptr) return patients;
  for (const search::ReferenceEntry& reference : index.references) {
    if (reference.type == "Patient" && reference.url.empty() &&
        std::find(codes->begin(), codes->end(), reference.param->code) != codes->end()) {
      AddOnce(patients, reference.id);
    }
  }
  return patients;
}

Result<std::vector<std::string>> AuditTrail::PatientsOf(store::WriteTransaction& txn, std::string_view type, std::string_view id) const {
  return LookUpPatients(txn, Subject{std::string(type), std::string(id)});
}

bool AuditTrail::AddKnownPatients(const Subject& subject, std::vector<std::string>& patients) const {
  if (subject.type == "Patient") {
    AddOnce(patients, subject.id);
    return true;
  }
  if (!patient_params_.contains(subject.type)) return true;
  if (subject.sequence == 0) return false;
  std::lock_guard lock(known_mu_);
  auto known = known_.find(subject.type + "/" + subject.id);
  if (known == known_.end() || known->second.sequence != subject.sequence) return false;
  for (const std::string& patient : known->second.patients) AddOnce(patients, patient);
  return true;
}

Result<std::vector<std::string>> AuditTrail::LookUpPatients(store::WriteTransaction& txn, const Subject& subject) const {
  if (subject.type == "Patient") return std::vector<std::string>{subject.id};
  auto params = patient_params_.find(subject.type);
  if (params == patient_params_.end()) return std::vector<std::string>();
  CK_ASSIGN_OR_RETURN(store::ReferenceTargetIds targets, txn.ReferenceTargets(subject.type, subject.id, params->second, "Patient"));
  // Remembered only for the version the caller saw: what a later record of it will need.
  if (subject.sequence != 0 && targets.sequence == subject.sequence) {
    std::lock_guard lock(known_mu_);
    if (known_.size() >= kVersionsRemembered) known_.clear();
    known_[subject.type + "/" + subject.id] = {targets.sequence, targets.ids};
  }
  return std::move(targets.ids);
}

Status AuditTrail::Append(store::WriteTransaction& txn, AuditEntry entry, const std::vector<Subject>& subjects) const {
  for (const Subject& subject : subjects) {
    CK_ASSIGN_OR_RETURN(std::vector<std::string> patients, LookUpPatients(txn, subject));
    for (std::string& patient : patients) AddOnce(entry.patients, std::move(patient));
  }
  return AppendRendered(txn, AuditContent(entry), entry);
}

Status AuditTrail::AppendRendered(store::WriteTransaction& txn, const std::string& content, const AuditEntry& entry) {
  Result<std::int64_t> appended = txn.AppendAudit(content, entry.Links());
  return appended ? Status::Ok() : appended.error();
}

void AuditTrail::Record(AuditEntry entry, std::vector<Subject> subjects, std::function<void(Status)> done) const {
  Waiting waiting{std::move(entry), {}, "", std::move(done)};
  for (Subject& subject : subjects) {
    if (!AddKnownPatients(subject, waiting.entry.patients)) waiting.subjects.push_back(std::move(subject));
  }
  if (waiting.subjects.empty()) waiting.content = AuditContent(waiting.entry);
  {
    std::lock_guard lock(mu_);
    waiting_.push_back(std::move(waiting));
    if (scheduled_) return;
    scheduled_ = true;
  }
  // The operation takes the records waiting when it first runs; a run again (the store retries
  // a group a fault rolled back) appends the same ones.
  auto group = std::make_shared<std::vector<Waiting>>();
  auto taken = std::make_shared<bool>(false);
  store_.WriteAsync(
      [this, group, taken](store::WriteTransaction& txn) -> Status {
        if (!*taken) {
          std::lock_guard lock(mu_);
          group->swap(waiting_);
          scheduled_ = false;
          *taken = true;
        }
        for (const Waiting& record : *group) {
          CK_RETURN_IF_ERROR(record.content.empty() ? Append(txn, record.entry, record.subjects)
                                                    : AppendRendered(txn, record.content, record.entry));
        }
        return Status::Ok();
      },
      [this, group, taken](Status status) {
        if (!*taken) {  // refused before it ran (the store is closing): answer those waiting
          std::lock_guard lock(mu_);
          group->swap(waiting_);
          scheduled_ = false;
        }
        for (Waiting& record : *group) record.done(status);
      });
}

Status AuditTrail::RecordNow(AuditEntry entry, std::vector<Subject> subjects) const {
  return store_.Write([&](store::WriteTransaction& txn) { return Append(txn, entry, subjects); });
}

}  // namespace ck::audit
