#include "search/index_extractor.h"

#include "search/decimal_interval.h"
#include "search/full_text.h"
#include "search/search_text.h"
#include "terminology/ucum.h"

namespace ck::search {
namespace {

using fhir::Node;
using fhir::SearchParamType;

constexpr std::string_view kUcum = "http://unitsofmeasure.org";

// Whether parameters based on `base` apply to resources of `type`.
bool Applies(const fhir::TypeDefinition& type, std::string_view base) {
  if (base == type.name || base == "Resource") return true;
  if (base != "DomainResource") return false;
  for (const fhir::TypeDefinition* t = type.base; t != nullptr; t = t->base) {
    if (t->name == "DomainResource") return true;
  }
  return false;
}

class Extraction {
 public:
  Extraction(Param param, const SearchZone& zone, IndexEntries& out) : param_(param), zone_(zone), out_(out) {}

  void Add(const fhirpath::Value& item) {
    if (!item.IsElement()) return AddSystemValue(item);
    if (item.node == nullptr) return;
    const Node& node = *item.node;
    const std::string& type = item.type->name;
    switch (param_->type) {
      case SearchParamType::kToken: return Token(node, type);
      case SearchParamType::kString: return String(node, type);
      case SearchParamType::kDate: return Date(node, type);
      case SearchParamType::kNumber: return Number(node);
      case SearchParamType::kQuantity: return Quantity(node, type);
      case SearchParamType::kReference: return Reference(node, item.type);
      case SearchParamType::kUri: return Uri(node);
      case SearchParamType::kComposite:
      case SearchParamType::kSpecial:
        return;
    }
  }

 private:
  // A value an expression computed (`deceased`: "Patient.deceased.exists() and ..." is a Boolean).
  void AddSystemValue(const fhirpath::Value& item) {
    using fhirpath::ValueKind;
    switch (param_->type) {
      case SearchParamType::kToken:
        if (item.kind == ValueKind::kBoolean) AddToken("", item.boolean ? "true" : "false", "");
        if (item.kind == ValueKind::kString) AddToken("", item.text, "");
        return;
      case SearchParamType::kString:
        if (item.kind == ValueKind::kString) AddString(item.text);
        return;
      case SearchParamType::kDate:
        if (item.kind == ValueKind::kDate || item.kind == ValueKind::kDateTime) AddDate(item.text);
        return;
      default:
        return;
    }
  }

  void AddToken(std::string_view system, std::string_view code, std::string_view text) {
    if (!code.empty()) out_.tokens.push_back({param_, std::string(system), std::string(code)});
    AddString(text);
  }

  void Token(const Node& node, const std::string& type) {
    if (type == "Coding") return AddToken(node.TextOf("system"), node.TextOf("code"), node.TextOf("display"));
    if (type == "CodeableConcept") {
      if (const fhir::Property* codings = node.Find("coding")) {
        for (const Node& coding : codings->values) Token(coding, "Coding");
      }
      AddToken("", "", node.TextOf("text"));
      return;
    }
    if (type == "Identifier") {
      AddToken(node.TextOf("system"), node.TextOf("value"), "");
      const Node* identifier_type = node.Find("type") ? &node.Find("type")->values[0] : nullptr;
      if (identifier_type != nullptr && !node.TextOf("value").empty()) {
        if (const fhir::Property* codings = identifier_type->Find("coding")) {
          for (const Node& coding : codings->values) {
            out_.identifier_types.push_back({param_, std::string(coding.TextOf("system")), std::string(coding.TextOf("code")),
                                             std::string(node.TextOf("value"))});
          }
        }
      }
      return;
    }
    if (type == "ContactPoint") return AddToken(node.TextOf("system"), node.TextOf("value"), "");
    if (node.kind != fhir::JsonKind::kObject) AddToken("", node.text, "");  // code, boolean, id, string, uri...
  }

  void AddString(std::string_view text) {
    if (!text.empty()) out_.strings.push_back({param_, NormalizeForSearch(text), std::string(text)});
  }

  void AddAll(const Node& node, std::string_view name, std::string* whole = nullptr) {
    if (const fhir::Property* property = node.Find(name)) {
      for (const Node& value : property->values) {
        AddString(value.text);
        if (whole != nullptr && !value.text.empty()) *whole += (whole->empty() ? "" : " ") + value.text;
      }
    }
  }

  void String(const Node& node, const std::string& type) {
    if (type == "HumanName") {
      // Each part, and the whole name: its text, or the parts in reading order.
      std::string whole;
      for (const char* part : {"prefix", "given", "family", "suffix"}) AddAll(node, part, &whole);
      std::string_view text = node.TextOf("text");
      AddString(text.empty() ? std::string_view(whole) : text);
      return;
    }
    if (type == "Address") {
      std::string whole;
      for (const char* part : {"line", "city", "district", "state", "postalCode", "country"}) AddAll(node, part, &whole);
      std::string_view text = node.TextOf("text");
      AddString(text.empty() ? std::string_view(whole) : text);
      return;
    }
    if (node.kind != fhir::JsonKind::kObject) AddString(node.text);
  }

  void AddDate(std::string_view text) {
    if (auto range = zone_.Range(text)) out_.dates.push_back({param_, range->start, range->end});
  }

  void Date(const Node& node, const std::string& type) {
    if (type == "Period") {
      auto start = zone_.Range(node.TextOf("start"));
      auto end = zone_.Range(node.TextOf("end"));
      if (!start && !end) return;
      out_.dates.push_back({param_, start ? start->start : kOpenStart, end ? end->end : kOpenEnd});
      return;
    }
    if (type == "Timing") {
      if (const fhir::Property* events = node.Find("event")) {
        for (const Node& event : events->values) AddDate(event.text);
      }
      return;
    }
    if (node.kind != fhir::JsonKind::kObject) AddDate(node.text);
  }

  void Number(const Node& node) {
    if (node.kind != fhir::JsonKind::kNumber) return;
    if (auto number = ReadDecimalInterval(node.text)) out_.numbers.push_back({param_, number->value, number->low, number->high});
  }

  void Quantity(const Node& node, const std::string& type) {
    const Node* value_node = node.Find("value") ? &node.Find("value")->values[0] : nullptr;
    if (value_node == nullptr || value_node->kind != fhir::JsonKind::kNumber) return;
    auto number = ReadDecimalInterval(value_node->text);
    if (!number) return;
    QuantityEntry entry{param_, number->value, number->low, number->high};
    if (type == "Money") {
      entry.system = "urn:iso:std:iso:4217";
      entry.code = node.TextOf("currency");
    } else {
      entry.system = node.TextOf("system");
      entry.code = node.TextOf("code");
      entry.unit = node.TextOf("unit");
    }
    if (entry.system == kUcum && !entry.code.empty()) {
      if (auto unit = terminology::ParseUcum(entry.code)) {
        entry.has_canonical = true;
        entry.canonical_low = terminology::ToUcumBase(entry.low, *unit);
        entry.canonical_high = terminology::ToUcumBase(entry.high, *unit);
        if (entry.canonical_low > entry.canonical_high) std::swap(entry.canonical_low, entry.canonical_high);
        entry.canonical_unit = terminology::UcumCanonicalKey(*unit);
      }
    }
    out_.quantities.push_back(std::move(entry));
  }

  void AddReferenceText(std::string_view reference) {
    if (reference.empty() || reference.starts_with('#')) return;  // contained: search part 2
    ReferenceEntry entry{param_};
    if (reference.find(':') != std::string_view::npos) {
      // An absolute URL, urn:uuid:/urn:oid:, or a canonical with "|version".
      std::size_t bar = reference.find('|');
      entry.url = reference.substr(0, bar);
      if (bar != std::string_view::npos) entry.version = reference.substr(bar + 1);
    } else {
      std::size_t history = reference.find("/_history/");
      if (history != std::string_view::npos) {
        entry.version = reference.substr(history + 10);
        reference = reference.substr(0, history);
      }
      std::size_t slash = reference.find('/');
      if (slash == std::string_view::npos || reference.find('/', slash + 1) != std::string_view::npos) return;
      entry.type = reference.substr(0, slash);
      entry.id = reference.substr(slash + 1);
    }
    out_.references.push_back(std::move(entry));
  }

  void Reference(const Node& node, const fhir::TypeDefinition* type) {
    if (type->name == "Reference") {
      AddReferenceText(node.TextOf("reference"));
      // A logical reference, for :identifier.
      if (const fhir::Property* identifier = node.Find("identifier")) {
        const Node& value = identifier->values[0];
        AddToken(value.TextOf("system"), value.TextOf("value"), "");
      }
      return;
    }
    if (type->IsResource()) {  // a resource in place (Bundle.entry.resource): itself
      if (std::string_view id = node.TextOf("id"); !id.empty()) out_.references.push_back({param_, type->name, std::string(id)});
      return;
    }
    if (node.kind != fhir::JsonKind::kObject) AddReferenceText(node.text);  // canonical, uri
  }

  void Uri(const Node& node) {
    if (node.kind != fhir::JsonKind::kObject && !node.text.empty()) out_.uris.push_back({param_, node.text});
  }

  Param param_;
  const SearchZone& zone_;
  IndexEntries& out_;
};

}  // namespace

IndexExtractor::IndexExtractor(const fhir::Definitions& definitions, const IndexExtractor* base)
    : definitions_(definitions), base_(base) {
  if (base != nullptr) {
    last_updated_ = base->last_updated_;
    return;
  }
  std::vector<Param> params;
  for (const fhir::SearchParameterDefinition& param : definitions.SearchParameters()) {
    if (param.code == "_lastUpdated") last_updated_ = &param;
    params.push_back(&param);
  }
  Compile(params);
}

void IndexExtractor::Compile(const std::vector<Param>& params) {
  own_ = params;
  for (const fhir::TypeDefinition* type : definitions_.ResourceTypes()) {
    if (type->is_abstract) continue;
    std::vector<Compiled>& compiled = by_type_[type];
    for (Param param : params) {
      if (param->expression.empty() || param->type == SearchParamType::kSpecial || param->code == "_lastUpdated") continue;
      bool applies = false;
      for (const std::string& base : param->bases) applies = applies || Applies(*type, base);
      if (!applies) continue;
      std::vector<Component> components;
      if (param->type == SearchParamType::kComposite) {
        components = CompileComponents(*param, *type);
        if (components.empty()) continue;
      }
      auto expression = fhirpath::Expression::Compile(param->expression, definitions_, *type);
      if (!expression) {
        failed_to_compile_.push_back(param->code + " on " + type->name + ": " + expression.error().message());
        continue;
      }
      compiled.push_back({param, std::move(*expression), std::move(components)});
    }
  }
}

const IndexExtractor& IndexExtractor::R4() {
  static const IndexExtractor* const extractor = new IndexExtractor(fhir::Definitions::R4(), nullptr);
  return *extractor;
}

Result<std::shared_ptr<const IndexExtractor>> IndexExtractor::WithCustom(const std::vector<Param>& custom) {
  const IndexExtractor& r4 = R4();
  if (custom.empty()) return std::shared_ptr<const IndexExtractor>(std::shared_ptr<const IndexExtractor>(), &r4);
  std::shared_ptr<IndexExtractor> extractor(new IndexExtractor(r4.definitions_, &r4));
  extractor->Compile(custom);
  if (!extractor->failed_to_compile_.empty()) {
    return Err(Status(StatusCode::kUnprocessable, "search parameter " + extractor->failed_to_compile_.front()));
  }
  return std::shared_ptr<const IndexExtractor>(std::move(extractor));
}

Result<IndexEntries> IndexExtractor::Extract(const fhir::Resource& resource, const SearchZone& zone) const {
  CK_ASSIGN_OR_RETURN(IndexEntries out, ExtractWithContained(resource, zone, nullptr));
  out.full_text = ExtractFullText(resource);
  return out;
}

Result<IndexEntries> IndexExtractor::ExtractParameter(Param param, const fhir::Resource& resource, const SearchZone& zone) const {
  return ExtractWithContained(resource, zone, param);
}

Result<IndexEntries> IndexExtractor::ExtractWithContained(const fhir::Resource& resource, const SearchZone& zone, Param only) const {
  IndexEntries out;
  CK_RETURN_IF_ERROR(ExtractOwn(resource, zone, only, out));
  // Contained resources hold no resources of their own (R4 dom-2), so one level is all there is.
  if (const fhir::Property* contained = resource.root().Find("contained")) {
    for (std::size_t i = 0; i < contained->values.size(); ++i) {
      const fhir::Node& node = contained->values[i];
      if (node.type == nullptr || !node.type->IsResource() || node.type->is_abstract) continue;
      IndexEntries entries;
      CK_RETURN_IF_ERROR(ExtractOwn(fhir::Resource(node), zone, only, entries));
      out.contained.push_back({node.type->name, i, std::move(entries)});
    }
  }
  return out;
}

Status IndexExtractor::ExtractOwn(const fhir::Resource& resource, const SearchZone& zone, Param only, IndexEntries& out) const {
  if (base_ != nullptr && only == nullptr) CK_RETURN_IF_ERROR(base_->ExtractOwn(resource, zone, nullptr, out));
  auto it = by_type_.find(&resource.type());
  if (it == by_type_.end()) return Status::Ok();
  for (const Compiled& compiled : it->second) {
    if (only != nullptr && compiled.param != only) continue;
    auto values = compiled.expression.Evaluate(resource, definitions_);
    if (!values) {
      return Status::Internal("search parameter " + compiled.param->code + " could not be evaluated")
          .WithDetail(resource.type_name() + ": " + values.error().message());
    }
    if (!compiled.components.empty()) {
      CK_RETURN_IF_ERROR(ExtractComposite(compiled, resource, *values, zone, out));
      continue;
    }
    Extraction extraction(compiled.param, zone, out);
    for (const fhirpath::Value& value : *values) extraction.Add(value);
  }
  return Status::Ok();
}

std::vector<IndexExtractor::Component> IndexExtractor::CompileComponents(const fhir::SearchParameterDefinition& param,
                                                                         const fhir::TypeDefinition& type) {
  std::vector<Component> out;
  for (const fhir::SearchParameterDefinition::Component& component : param.components) {
    // A component is one of this extractor's own parameters (a custom one may pair custom ones)
    // or an R4 parameter.
    Param definition = nullptr;
    for (Param own : own_) {
      if (own->url == component.definition) definition = own;
    }
    if (definition == nullptr) definition = definitions_.FindSearchParameter(component.definition);
    // Components are evaluated on elements inside the resource, so compiled without a context type.
    auto expression = fhirpath::Expression::Compile(component.expression);
    if (definition == nullptr || !expression) {
      failed_to_compile_.push_back(param.code + " on " + type.name + ": component " + component.expression + " cannot be used");
      return {};
    }
    out.push_back({definition, std::move(*expression)});
  }
  // A token first; of three components (MolecularSequence's coordinates), two numbers after it.
  const bool supported = out.size() == 2 || (out.size() == 3 && out[1].param->type == SearchParamType::kNumber &&
                                             out[2].param->type == SearchParamType::kNumber);
  if (!supported || out[0].param->type != SearchParamType::kToken) {
    failed_to_compile_.push_back(param.code + " on " + type.name + ": components of kinds this server cannot pair");
    return {};
  }
  return out;
}

Status IndexExtractor::ExtractComposite(const Compiled& compiled, const fhir::Resource& resource, const fhirpath::Collection& values,
                                        const SearchZone& zone, IndexEntries& out) const {
  for (const fhirpath::Value& item : values) {
    if (!item.IsElement() || item.node == nullptr) continue;
    IndexEntries parts[3];
    for (std::size_t i = 0; i < compiled.components.size(); ++i) {
      const Component& component = compiled.components[i];
      auto found = component.expression.EvaluateAt(resource.root(), *item.node, definitions_);
      if (!found) {
        return Status::Internal("search parameter " + compiled.param->code + " could not be evaluated")
            .WithDetail(resource.type_name() + ", component " + component.param->code + ": " + found.error().message());
      }
      Extraction extraction(component.param, zone, parts[i]);
      for (const fhirpath::Value& value : *found) extraction.Add(value);
    }
    IndexEntries& second = parts[1];
    if (compiled.components[1].param->type == SearchParamType::kToken) second.strings.clear();  // no :text on composites
    if (compiled.components.size() == 3) {  // each start with each end of the element
      IndexEntries pairs;
      for (const NumberEntry& start : parts[1].numbers) {
        for (const NumberEntry& end : parts[2].numbers) pairs.number_pairs.push_back({compiled.param, start, end});
      }
      second = std::move(pairs);
    }
    if (second.size() == 0) continue;
    for (const TokenEntry& token : parts[0].tokens) {
      out.composites.push_back({compiled.param, token.system + "|" + token.code, second});
    }
  }
  return Status::Ok();
}

std::vector<Param> IndexExtractor::ParametersOf(const std::string& type) const {
  std::vector<Param> out = base_ != nullptr ? base_->ParametersOf(type) : std::vector<Param>();
  const fhir::TypeDefinition* definition = definitions_.FindResourceType(type);
  auto it = definition == nullptr ? by_type_.end() : by_type_.find(definition);
  if (it == by_type_.end()) return out;
  for (const Compiled& compiled : it->second) out.push_back(compiled.param);
  return out;
}

}  // namespace ck::search
