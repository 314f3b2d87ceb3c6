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
  if (type == "Patient") return std::vector<std::string>{std::string(id)};
  auto params = patient_params_.find(std::string(type));
  if (params == patient_params_.end()) return std::vector<std::string>();
  return txn.ReferenceTargets(std::string(type), std::string(id), params->second, "Patient");
}

Status AuditTrail::Append(store::WriteTransaction& txn, AuditEntry entry, const std::vector<std::string>& subjects) const {
  for (const std::string& subject : subjects) {
    const std::size_t slash = subject.find('/');
    if (slash == std::string::npos) continue;
    CK_ASSIGN_OR_RETURN(std::vector<std::string> patients,
                        PatientsOf(txn, std::string_view(subject).substr(0, slash), std::string_view(subject).substr(slash + 1)));
    for (std::string& patient : patients) AddOnce(entry.patients, std::move(patient));
  }
  const std::string content = AuditContent(entry);
  Result<std::int64_t> appended = txn.AppendAudit(content, entry.Links());
  return appended ? Status::Ok() : appended.error();
}

void AuditTrail::Record(AuditEntry entry, std::vector<std::string> subjects, std::function<void(Status)> done) const {
  {
    std::lock_guard lock(mu_);
    waiting_.push_back({std::move(entry), std::move(subjects), std::move(done)});
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
        for (const Waiting& record : *group) CK_RETURN_IF_ERROR(Append(txn, record.entry, record.subjects));
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

Status AuditTrail::RecordNow(AuditEntry entry, std::vector<std::string> subjects) const {
  return store_.Write([&](store::WriteTransaction& txn) { return Append(txn, entry, subjects); });
}

}  // namespace ck::audit
