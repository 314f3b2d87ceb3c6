#pragma once
// Where a walk over a resource tree is, as a chain of segments on the stack, rendered to a
// FHIRPath location ("Patient.contact[0].name") only when a problem is reported, so valid input
// pays nothing for locations. Indexes are 0-based, as FHIRPath counts.
// Thread safety: plain values; a chain lives on the walker's stack.

#include <cstddef>
#include <string>
#include <string_view>

namespace ck::fhir {

struct ElementPath {
  // Names taken from the input appear at most this long, so locations stay small.
  static constexpr std::size_t kMaxNameLength = 64;

  const ElementPath* parent = nullptr;
  std::string_view name;
  std::ptrdiff_t index = -1;  // array position, or -1

  std::string Render() const {
    std::string out = parent != nullptr ? parent->Render() : std::string();
    if (!name.empty()) {
      if (!out.empty()) out += '.';
      out += name.substr(0, kMaxNameLength);
    }
    if (index >= 0) out += "[" + std::to_string(index) + "]";
    return out;
  }
  std::string Child(std::string_view child) const { return ElementPath{this, child}.Render(); }
};

}  // namespace ck::fhir
