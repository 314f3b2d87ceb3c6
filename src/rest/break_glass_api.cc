#include "rest/break_glass_api.h"

#include "rest/auth_api.h"
#include "rest/operation_outcome.h"
#include "util/json_value.h"
#include "util/log.h"
#include "util/text.h"
#include "util/time.h"

namespace ck::rest {

namespace {

constexpr std::size_t kMaxFormBytes = 8 * 1024;

// The alert: an active administrative Flag on the patient for the time the access lasts.
std::string AlertFlag(const access::Identity& user, const std::string& patient, const std::string& reason, Millis from, Millis until) {
  JsonValue coding = JsonObject();
  coding.members.emplace_back("system", JsonString("http://terminology.hl7.org/CodeSystem/flag-category"));
  coding.members.emplace_back("code", JsonString("admin"));
  coding.members.emplace_back("display", JsonString("Administrative"));
  JsonValue category = JsonObject();
  category.members.emplace_back("coding", JsonValue{JsonValue::Kind::kArray, {}, {coding}, {}});
  auto reference = [](const std::string& target) {
    JsonValue out = JsonObject();
    out.members.emplace_back("reference", JsonString(target));
    return out;
  };
  JsonValue code = JsonObject();
  code.members.emplace_back("text", JsonString("Emergency access (break the glass) by user " + user.user + " until " + FormatInstant(until) +
                                               ". Reason given: " + reason));
  JsonValue period = JsonObject();
  period.members.emplace_back("start", JsonString(FormatInstant(from)));
  period.members.emplace_back("end", JsonString(FormatInstant(until)));
  JsonValue flag = JsonObject();
  flag.members.emplace_back("resourceType", JsonString("Flag"));
  flag.members.emplace_back("status", JsonString("active"));
  flag.members.emplace_back("category", JsonValue{JsonValue::Kind::kArray, {}, {category}, {}});
  flag.members.emplace_back("code", code);
  flag.members.emplace_back("subject", reference("Patient/" + patient));
  flag.members.emplace_back("period", period);
  if (user.fhir_user.starts_with("Practitioner/")) flag.members.emplace_back("author", reference(user.fhir_user));
  return WriteJsonValue(flag);
}

}  // namespace

HttpResponse BreakGlassResponse(access::AccessControl& access, records::RecordService& records, const HttpRequest& request,
                                records::RequestContext context, AuthEvent& event) {
  if (request.method != "POST") {
    HttpResponse refused = ErrorResponse(Status(StatusCode::kMethodNotAllowed, "emergency access is asked for with POST"));
    refused.With("Allow", "POST");
    return refused;
  }
  const std::string_view authorization = request.Header("authorization");
  auto caller = access.Authenticate(authorization);
  if (!caller) return UnauthorizedResponse(caller.error(), !authorization.empty());
  std::optional<QueryParameters> form;
  if (!EqualsIgnoringCase(request.Header("content-type").substr(0, 33), "application/x-www-form-urlencoded") ||
      request.body.size() > kMaxFormBytes || !(form = ParseQuery(request.body))) {
    return ErrorResponse(Status::Invalid("send patient and reason as an application/x-www-form-urlencoded form"));
  }
  std::string patient, reason;
  for (const auto& [name, value] : *form) {
    if (name == "patient") patient = value;
    if (name == "reason") reason = value;
  }
  const access::Identity& user = (*caller)->identity();
  event = {.subtype = "break-glass", .user = user.user, .client = user.client_id, .patient = patient, .reason = reason};
  auto refused = [&event](Status status) {
    event.outcome = status;
    return ErrorResponse(status);
  };
  // The checks of the user and the reason come first: no alert for a refusal.
  if (Status allowed = access.CheckBreakGlass(**caller, reason); !allowed.ok()) return refused(allowed);
  context.actor = user.user + " (break-glass)";
  context.user = user.user;
  context.client = user.client_id;
  context.roles = user.roles;
  context.purpose = "ETREAT";
  context.reason = reason;
  context.check_references = false;  // the alert names the user's fhirUser, which this server may not hold
  auto found = records.Read(context, "Patient", patient);
  if (!found) return refused(found.error());
  auto granted = access.BreakGlass(**caller, patient, reason);
  if (!granted) return refused(granted.error());
  const Millis now = SystemClock().Now();
  const Millis until = now + granted->expires_in * 1000;
  auto alert = records.Create(context, "Flag", AlertFlag(user, patient, reason, now, until));
  if (!alert) return refused(Status::Internal("the emergency access alert could not be stored; no access was granted")
                                 .WithDetail(alert.error().ToString()));
  CK_LOG_WARN("break the glass: user {} granted emergency access until {} (alert Flag/{})", user.user, FormatInstant(until), alert->id);
  JsonValue body = JsonObject();
  body.members.emplace_back("access_token", JsonString(granted->access_token));
  body.members.emplace_back("token_type", JsonString("bearer"));
  body.members.emplace_back("expires_in", JsonNumber(granted->expires_in));
  body.members.emplace_back("scope", JsonString(granted->scope));
  body.members.emplace_back("patient", JsonString(patient));
  body.members.emplace_back("alert", JsonString("Flag/" + alert->id));
  HttpResponse response;
  response.body = WriteJsonValue(body);
  response.With("Content-Type", "application/json").With("Cache-Control", "no-store");
  return response;
}

}  // namespace ck::rest
