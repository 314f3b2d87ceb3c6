#include "audit/audit_entry.h"

#include <algorithm>
#include <array>

#include "util/crypto.h"
#include "util/json_value.h"
#include "util/text.h"
#include "util/time.h"

namespace ck::audit {
namespace {

JsonValue StringArray(const std::vector<std::string>& values) {
  JsonValue array;
  array.kind = JsonValue::Kind::kArray;
  for (const std::string& value : values) array.items.push_back(JsonString(value));
  return array;
}

void Put(JsonValue& object, std::string name, JsonValue value) { object.members.emplace_back(std::move(name), std::move(value)); }

// What a caller sent (a user name typed at sign-in, a URL) may be any bytes: the trail keeps
// valid UTF-8, so every record can be read back and rendered.
void PutText(JsonValue& object, std::string name, const std::string& text) {
  if (!text.empty()) Put(object, std::move(name), JsonString(ToValidUtf8(text)));
}

void PutArray(JsonValue& object, std::string name, const std::vector<std::string>& values) {
  if (values.empty()) return;
  JsonValue array;
  array.kind = JsonValue::Kind::kArray;
  for (const std::string& value : values) array.items.push_back(JsonString(ToValidUtf8(value)));
  Put(object, std::move(name), std::move(array));
}

JsonValue Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  JsonValue coding = JsonObject();
  Put(coding, "system", JsonString(system));
  Put(coding, "code", JsonString(code));
  if (!display.empty()) Put(coding, "display", JsonString(display));
  return coding;
}

JsonValue Concept(JsonValue coding) {
  JsonValue concept_value = JsonObject();
  JsonValue codings;
  codings.kind = JsonValue::Kind::kArray;
  codings.items.push_back(std::move(coding));
  Put(concept_value, "coding", std::move(codings));
  return concept_value;
}

JsonValue Array(std::vector<JsonValue> items) {
  JsonValue array;
  array.kind = JsonValue::Kind::kArray;
  array.items = std::move(items);
  return array;
}

JsonValue Reference(std::string_view reference) {
  JsonValue value = JsonObject();
  Put(value, "reference", JsonString(reference));
  return value;
}

constexpr std::string_view kEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type";
constexpr std::string_view kDicom = "http://dicom.nema.org/resources/ontology/DCM";
constexpr std::string_view kChartkeeperEvents = "urn:chartkeeper:audit-subtype";
constexpr std::string_view kRestful = "http://hl7.org/fhir/restful-interaction";
constexpr std::string_view kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr std::string_view kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr std::string_view kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr std::string_view kBalp = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/";

// The event type coding (BALP: rest for FHIR interactions, DICOM codes for the others).
JsonValue TypeCoding(const std::string& type) {
  if (type == "rest") return Coding(kEventType, "rest", "Restful Operation");
  if (type == "login" || type == "logout") return Coding(kDicom, "110114", "User Authentication");
  if (type == "import") return Coding(kDicom, "110107", "Import");
  if (type == "export") return Coding(kDicom, "110106", "Export");
  return Coding(kDicom, "110113", "Security Alert");
}

JsonValue SubtypeCoding(const AuditEntry& entry) {
  if (entry.type == "rest") return Coding(kRestful, entry.subtype);
  if (entry.subtype == "login") return Coding(kDicom, "110122", "Login");
  if (entry.subtype == "logout") return Coding(kDicom, "110123", "Logout");
  return Coding(kChartkeeperEvents, entry.subtype);
}

// The BALP profile the record follows, or empty.
std::string BalpProfile(const AuditEntry& entry) {
  const std::string& s = entry.subtype;
  if (entry.type == "login" || entry.type == "logout") return std::string(kBalp) + (s == "logout" ? "IHE.BasicAudit.Logout" : "IHE.BasicAudit.Login");
  if (entry.type != "rest") return "";
  if (s == "read" || s == "vread") return std::string(kBalp) + "IHE.BasicAudit.Read";
  if (s.starts_with("search") || s.starts_with("history")) return std::string(kBalp) + "IHE.BasicAudit.Query";
  if (s == "create") return std::string(kBalp) + "IHE.BasicAudit.Create";
  if (s == "update" || s == "patch") return std::string(kBalp) + "IHE.BasicAudit.Update";
  if (s == "delete") return std::string(kBalp) + "IHE.BasicAudit.Delete";
  return "";
}

std::string StringOf(const JsonValue& object, std::string_view name) {
  const JsonValue* value = object.Find(name);
  return value != nullptr && value->kind == JsonValue::Kind::kString ? value->text : std::string();
}

std::vector<std::string> StringsOf(const JsonValue& object, std::string_view name) {
  std::vector<std::string> out;
  if (const JsonValue* value = object.Find(name); value != nullptr && value->is_array()) {
    for (const JsonValue& item : value->items) out.push_back(item.text);
  }
  return out;
}

}  // namespace

store::AuditLinks AuditEntry::Links() const {
  store::AuditLinks links;
  links.patients = patients;
  if (!user.empty()) links.agents.push_back(user);
  if (!client.empty() && client != user) links.agents.push_back(client);
  for (const std::string& entity : entities) {
    // Filed under "Type/id", whatever version was touched.
    std::size_t history = entity.find("/_history/");
    links.entities.push_back(history == std::string::npos ? entity : entity.substr(0, history));
  }
  return links;
}

std::string AuditContent(const AuditEntry& entry) {
  JsonValue content = JsonObject();
  PutText(content, "type", entry.type);
  PutText(content, "subtype", entry.subtype);
  Put(content, "action", JsonString(std::string(1, entry.action)));
  Put(content, "outcome", JsonString(std::to_string(entry.outcome)));
  PutText(content, "detail", entry.detail);
  PutText(content, "door", entry.door);
  PutText(content, "user", entry.user);
  PutText(content, "client", entry.client);
  PutArray(content, "roles", entry.roles);
  PutText(content, "address", entry.address);
  PutText(content, "request", entry.request);
  PutText(content, "purpose", entry.purpose);
  PutText(content, "reason", entry.reason);
  PutArray(content, "entity", entry.entities);
  PutText(content, "query", entry.query);
  PutArray(content, "patient", entry.patients);
  return WriteJsonValue(content);
}

Result<AuditEntry> ParseAuditContent(std::string_view content) {
  Result<JsonValue> parsed = ParseJsonValue(content);
  if (!parsed || !parsed->is_object()) return Err(Status(StatusCode::kCorrupt, "an audit record that is not a JSON object"));
  const JsonValue& json = *parsed;
  AuditEntry entry;
  entry.type = StringOf(json, "type");
  entry.subtype = StringOf(json, "subtype");
  const std::string action = StringOf(json, "action");
  entry.action = action.size() == 1 ? action[0] : '?';
  entry.outcome = std::atoi(StringOf(json, "outcome").c_str());
  entry.detail = StringOf(json, "detail");
  entry.door = StringOf(json, "door");
  entry.user = StringOf(json, "user");
  entry.client = StringOf(json, "client");
  entry.roles = StringsOf(json, "roles");
  entry.address = StringOf(json, "address");
  entry.request = StringOf(json, "request");
  entry.purpose = StringOf(json, "purpose");
  entry.reason = StringOf(json, "reason");
  entry.entities = StringsOf(json, "entity");
  entry.query = StringOf(json, "query");
  entry.patients = StringsOf(json, "patient");
  return entry;
}

std::string PurposeOfUse(const std::vector<std::string>& roles) {
  static const std::array<std::pair<std::string_view, std::string_view>, 6> kPurposes = {{
      {"clinician", "TREAT"}, {"coder", "HPAYMT"}, {"him-analyst", "HOPERAT"}, {"auditor", "HOPERAT"},
      {"admin", "HSYSADMIN"}, {"researcher", "HRESCH"}}};
  for (const auto& [role, purpose] : kPurposes) {
    if (std::find(roles.begin(), roles.end(), role) != roles.end()) return std::string(purpose);
  }
  return "";
}

int OutcomeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kUnavailable: case StatusCode::kInternal: case StatusCode::kInsufficientStorage: case StatusCode::kCorrupt:
    case StatusCode::kOutcomeUnknown:
      return 8;
    default:
      return 4;
  }
}

Result<std::string> AuditEventJson(const store::AuditRecord& record) {
  CK_ASSIGN_OR_RETURN(AuditEntry entry, ParseAuditContent(record.content));
  const std::string time = FormatInstant(record.time);
  JsonValue event = JsonObject();
  Put(event, "resourceType", JsonString("AuditEvent"));
  Put(event, "id", JsonString(std::to_string(record.sequence)));
  JsonValue meta = JsonObject();
  Put(meta, "versionId", JsonString("1"));
  Put(meta, "lastUpdated", JsonString(time));
  if (std::string profile = BalpProfile(entry); !profile.empty()) Put(meta, "profile", StringArray({profile}));
  Put(event, "meta", std::move(meta));
  Put(event, "type", TypeCoding(entry.type));
  if (!entry.subtype.empty()) Put(event, "subtype", Array({SubtypeCoding(entry)}));
  Put(event, "action", JsonString(std::string(1, entry.action)));
  Put(event, "recorded", JsonString(time));
  Put(event, "outcome", JsonString(std::to_string(entry.outcome)));
  PutText(event, "outcomeDesc", entry.detail);
  JsonValue purpose;
  if (!entry.purpose.empty()) {
    purpose = Array({Concept(Coding(kActReason, entry.purpose))});
    Put(event, "purposeOfEvent", purpose);
  }

  std::vector<JsonValue> agents;
  auto agent = [&](std::string_view system, const std::string& name, bool requestor, bool with_person) {
    JsonValue a = JsonObject();
    Put(a, "type", Concept(Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", with_person ? "IRCP" : "AUT",
                                  with_person ? "information recipient" : "author (originator)")));
    if (with_person && !entry.roles.empty()) {
      std::vector<JsonValue> roles;
      for (const std::string& role : entry.roles) {
        JsonValue text = JsonObject();
        Put(text, "text", JsonString(role));
        roles.push_back(std::move(text));
      }
      Put(a, "role", Array(std::move(roles)));
    }
    JsonValue who = JsonObject();
    JsonValue identifier = JsonObject();
    Put(identifier, "system", JsonString(system));
    Put(identifier, "value", JsonString(name));
    Put(who, "identifier", std::move(identifier));
    Put(a, "who", std::move(who));
    Put(a, "requestor", JsonBoolean(requestor));
    if (!entry.address.empty()) {
      JsonValue network = JsonObject();
      Put(network, "address", JsonString(entry.address));
      Put(network, "type", JsonString("2"));
      Put(a, "network", std::move(network));
    }
    if (!entry.purpose.empty()) Put(a, "purposeOfUse", purpose);
    agents.push_back(std::move(a));
  };
  if (!entry.user.empty()) agent("urn:chartkeeper:user", entry.user, true, true);
  if (!entry.client.empty() && entry.client != entry.user) agent("urn:chartkeeper:client", entry.client, entry.user.empty(), entry.user.empty());
  if (agents.empty()) agent("urn:chartkeeper:door", entry.door.empty() ? "unknown" : entry.door, true, false);
  Put(event, "agent", Array(std::move(agents)));

  JsonValue source = JsonObject();
  JsonValue observer = JsonObject();
  Put(observer, "display", JsonString("Chartkeeper"));
  Put(source, "site", JsonString(entry.door.empty() ? "chartkeeper" : "chartkeeper " + entry.door));
  Put(source, "observer", std::move(observer));
  Put(source, "type", Array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4", "Application Server")}));
  Put(event, "source", std::move(source));

  std::vector<JsonValue> entities;
  // An entity of the given audit-entity-type (2 System Object, 1 Person) and object-role.
  auto entity = [&entities](std::string_view type, std::string_view type_display, std::string_view role,
                            std::string_view role_display) -> JsonValue& {
    JsonValue& e = entities.emplace_back(JsonObject());
    Put(e, "type", Coding(kEntityType, type, type_display));
    if (!role.empty()) Put(e, "role", Coding(kObjectRole, role, role_display));
    return e;
  };
  for (const std::string& what : entry.entities) {
    JsonValue& e = entity("2", "System Object", "4", "Domain Resource");
    e.members.insert(e.members.begin(), {"what", Reference(what)});
  }
  if (!entry.query.empty()) Put(entity("2", "System Object", "24", "Query"), "query", JsonString(Base64Encode(entry.query)));
  for (const std::string& patient : entry.patients) {
    JsonValue& e = entity("1", "Person", "1", "Patient");
    e.members.insert(e.members.begin(), {"what", Reference("Patient/" + patient)});
  }
  if (!entry.reason.empty()) {
    JsonValue& e = entity("2", "System Object", "", "");
    Put(e, "name", JsonString("break-the-glass reason"));
    Put(e, "description", JsonString(entry.reason));
  }
  if (!entities.empty()) Put(event, "entity", Array(std::move(entities)));
  return WriteJsonValue(event);
}

}  // namespace ck::audit
