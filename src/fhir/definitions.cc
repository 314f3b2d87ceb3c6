#include "fhir/definitions.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "util/log.h"
#include "util/text.h"

namespace ck::fhir {

extern const char kDefinitionsTable[];

namespace {

std::string_view ParentPath(std::string_view path) { return path.substr(0, path.rfind('.')); }

JsonForm JsonFormOf(std::string_view primitive) {
  if (primitive == "boolean") return JsonForm::kBoolean;
  if (primitive == "integer" || primitive == "decimal" || primitive == "positiveInt" ||
      primitive == "unsignedInt") {
    return JsonForm::kNumber;
  }
  return JsonForm::kString;
}

// An element line as read, before type names and content references are resolved.
struct PendingElement {
  ElementDefinition* element;
  TypeDefinition* owner;
  std::string types;
};

}  // namespace

SearchParamType SearchParamTypeOf(std::string_view code) {
  static const std::pair<std::string_view, SearchParamType> kTypes[] = {
      {"number", SearchParamType::kNumber},       {"date", SearchParamType::kDate},
      {"string", SearchParamType::kString},       {"token", SearchParamType::kToken},
      {"reference", SearchParamType::kReference}, {"composite", SearchParamType::kComposite},
      {"quantity", SearchParamType::kQuantity},   {"uri", SearchParamType::kUri},
  };
  for (const auto& [name, type] : kTypes) {
    if (name == code) return type;
  }
  return SearchParamType::kSpecial;
}

const Definitions& Definitions::R4() {
  static const std::unique_ptr<Definitions> definitions = [] {
    auto parsed = Parse(kDefinitionsTable);
    if (!parsed) {
      CK_LOG_ERROR("built-in FHIR definitions are corrupt: {}", parsed.error().ToString());
      std::abort();
    }
    return std::move(*parsed);
  }();
  return *definitions;
}

Result<std::unique_ptr<Definitions>> Definitions::Parse(std::string_view table) {
  std::unique_ptr<Definitions> defs(new Definitions());
  std::vector<PendingElement> pending;
  std::vector<std::pair<TypeDefinition*, std::string>> bases;
  TypeDefinition* current = nullptr;
  std::size_t line_number = 0;
  for (std::string_view line : Split(table, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, '\t');
    auto bad = [&] { return Status::Internal("definitions table line " + std::to_string(line_number) + " is malformed"); };
    if (f[0] == "T" && f.size() == 5) {
      auto type = std::make_unique<TypeDefinition>();
      type->name = f[1];
      type->kind = f[2] == "P" ? TypeKind::kPrimitive : f[2] == "R" ? TypeKind::kResource : TypeKind::kComplex;
      type->is_abstract = f[3] == "1";
      type->json_form = JsonFormOf(f[1]);
      if (f[4] != "-") bases.emplace_back(type.get(), std::string(f[4]));
      current = type.get();
      defs->types_.emplace(type->name, std::move(type));
    } else if (f[0] == "E" && f.size() == 6 && current != nullptr) {
      auto element = std::make_unique<ElementDefinition>();
      element->path = f[1];
      std::string_view name = f[1].substr(f[1].rfind('.') + 1);
      element->is_choice = name.ends_with("[x]");
      if (element->is_choice) name.remove_suffix(3);
      element->name = name;
      element->is_summary = f[5] == "S";
      auto [end, error] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), element->min);
      if (error != std::errc()) return Err(bad());
      if (f[3] == "*") {
        element->max = ElementDefinition::kUnbounded;
      } else if (std::from_chars(f[3].data(), f[3].data() + f[3].size(), element->max).ec != std::errc()) {
        return Err(bad());
      }
      pending.push_back({element.get(), current, std::string(f[4])});
      defs->elements_.push_back(std::move(element));
    } else if (f[0] == "B" && f.size() == 3 && !defs->elements_.empty()) {
      ElementDefinition& element = *defs->elements_.back();
      element.binding_strength = f[1] == "required"     ? BindingStrength::kRequired
                                 : f[1] == "extensible" ? BindingStrength::kExtensible
                                                        : BindingStrength::kPreferred;
      element.value_set = f[2];
    } else if (f[0] == "C" && f.size() == 6) {
      defs->constraints_.push_back(
          {std::string(f[1]), std::string(f[2]), std::string(f[3]), std::string(f[4]), std::string(f[5])});
    } else if (f[0] == "M" && f.size() == 4) {
      std::vector<std::string>& params = defs->compartments_[std::string(f[1]) + "/" + std::string(f[2])];
      for (std::string_view param : Split(f[3], ',')) params.emplace_back(param);
    } else if (f[0] == "S" && f.size() >= 7 && f.size() % 2 == 1) {
      SearchParameterDefinition param{std::string(f[1]), SearchParamTypeOf(f[2]), {}, std::string(f[4]), std::string(f[5])};
      for (std::string_view base : Split(f[3], ',')) param.bases.emplace_back(base);
      if (!f[6].empty()) {
        for (std::string_view target : Split(f[6], ',')) param.targets.emplace_back(target);
      }
      for (std::size_t i = 7; i + 1 < f.size(); i += 2) param.components.push_back({std::string(f[i]), std::string(f[i + 1])});
      defs->search_parameters_.push_back(std::move(param));
    } else {
      return Err(bad());
    }
  }

  for (auto& [type, base] : bases) {
    type->base = defs->FindType(base);
    if (type->base == nullptr) return Err(Status::Internal("unknown base type " + base));
  }

  // Place each element in its parent's structure: the type itself, or an inline backbone.
  std::unordered_map<std::string_view, ElementDefinition*> by_path;
  for (const PendingElement& p : pending) by_path.emplace(p.element->path, p.element);
  for (const PendingElement& p : pending) {
    std::string_view parent = ParentPath(p.element->path);
    Structure* structure = &p.owner->structure;
    if (parent != p.owner->name) {
      auto it = by_path.find(parent);
      if (it == by_path.end()) return Err(Status::Internal("element without parent: " + p.element->path));
      if (it->second->inline_children == nullptr) {
        defs->inline_structures_.push_back(std::make_unique<Structure>());
        it->second->inline_children = defs->inline_structures_.back().get();
      }
      structure = const_cast<Structure*>(it->second->inline_children);
    }
    structure->elements.push_back(p.element);
  }

  // Resolve type names, then content references (which copy a resolved element's types).
  for (const PendingElement& p : pending) {
    if (p.types.starts_with('#')) continue;
    for (std::string_view name : Split(p.types, ',')) {
      const TypeDefinition* type = defs->FindType(name);
      if (type == nullptr) return Err(Status::Internal("unknown type " + std::string(name) + " at " + p.element->path));
      p.element->types.push_back(type);
    }
  }
  for (const PendingElement& p : pending) {
    if (!p.types.starts_with('#')) continue;
    auto it = by_path.find(std::string_view(p.types).substr(1));
    if (it == by_path.end()) return Err(Status::Internal("bad content reference " + p.types));
    p.element->inline_children = it->second->inline_children;
    p.element->types = it->second->types;
  }
  CK_RETURN_IF_ERROR(defs->Link());
  return defs;
}

// Builds every structure's index by JSON property name, expanding choice types
// (value[x] -> valueQuantity, valueString, _valueString, ...).
Status Definitions::Link() {
  auto index = [](Structure& structure) {
    for (const ElementDefinition* element : structure.elements) {
      for (const TypeDefinition* type : element->types) {
        std::string key = element->name;
        if (element->is_choice) {
          std::string suffix = type->name;
          suffix[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
          key += suffix;
        }
        structure.by_json_name.try_emplace(key, ChildSlot{element, type, false});
        if (type->IsPrimitive()) structure.by_json_name.try_emplace("_" + key, ChildSlot{element, type, true});
        if (!element->is_choice) break;
      }
    }
  };
  for (auto& [name, type] : types_) index(type->structure);
  for (auto& structure : inline_structures_) index(*structure);
  for (auto& [name, type] : types_) {
    if (type->IsResource() && !type->is_abstract) resource_types_.push_back(type.get());
  }
  std::sort(resource_types_.begin(), resource_types_.end(),
            [](const TypeDefinition* a, const TypeDefinition* b) { return a->name < b->name; });
  for (const SearchParameterDefinition& param : search_parameters_) search_parameter_by_url_.emplace(param.url, &param);
  RepairCompositeComponents();
  return Status::Ok();
}

const SearchParameterDefinition* Definitions::FindSearchParameter(std::string_view url) const {
  auto it = search_parameter_by_url_.find(url);
  return it == search_parameter_by_url_.end() ? nullptr : it->second;
}

// R4 errata in composites. DocumentReference-relationship gives each of its two components the
// other's definition (the `code` component points at relatesto, `target` at relation): a pair
// whose definitions' expressions each end with the other component's expression is swapped
// back. code-value-date's component reads `value.ofType(DateTime)`, the FHIRPath system type,
// which no FHIR `dateTime` element is: it means the FHIR type, as value-date's own expression says.
void Definitions::RepairCompositeComponents() {
  for (SearchParameterDefinition& param : search_parameters_) {
    for (SearchParameterDefinition::Component& component : param.components) {
      for (std::size_t at = component.expression.find("ofType(DateTime)"); at != std::string::npos;
           at = component.expression.find("ofType(DateTime)", at)) {
        component.expression.replace(at, 16, "ofType(dateTime)");
      }
    }
  }
  auto defines = [&](const SearchParameterDefinition::Component& component, std::string_view expression) {
    const SearchParameterDefinition* definition = FindSearchParameter(component.definition);
    return definition != nullptr && definition->expression.ends_with("." + std::string(expression));
  };
  for (SearchParameterDefinition& param : search_parameters_) {
    if (param.components.size() != 2) continue;
    auto& a = param.components[0];
    auto& b = param.components[1];
    if (!defines(a, a.expression) && !defines(b, b.expression) && defines(a, b.expression) && defines(b, a.expression)) {
      std::swap(a.definition, b.definition);
    }
  }
}

const TypeDefinition* Definitions::FindType(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

const std::vector<std::string>* Definitions::CompartmentParameters(std::string_view compartment, std::string_view type) const {
  auto it = compartments_.find(std::string(compartment) + "/" + std::string(type));
  return it == compartments_.end() ? nullptr : &it->second;
}

const TypeDefinition* Definitions::FindResourceType(std::string_view name) const {
  const TypeDefinition* type = FindType(name);
  return type != nullptr && type->IsResource() && !type->is_abstract ? type : nullptr;
}

const ElementDefinition* Definitions::FindElement(std::string_view path) const {
  std::vector<std::string_view> names = Split(path, '.');
  const TypeDefinition* type = FindType(names[0]);
  if (type == nullptr) return nullptr;
  const Structure* structure = &type->structure;
  const ElementDefinition* element = nullptr;
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (structure == nullptr) return nullptr;
    std::string_view name = names[i];
    if (name.ends_with("[x]")) name.remove_suffix(3);
    element = nullptr;
    for (const ElementDefinition* child : structure->elements) {
      if (child->name == name) element = child;
    }
    if (element == nullptr) return nullptr;
    structure = element->inline_children != nullptr ? element->inline_children
                                                    : (element->types.size() == 1 ? &element->types[0]->structure : nullptr);
  }
  return element;
}

}  // namespace ck::fhir
