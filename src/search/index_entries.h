#pragma once
// The search index values of one resource, by kind of search parameter, as the FHIR R4 search
// page says each is matched. Computed from the resource alone (index_extractor.h), outside the
// store's writer, which only inserts them. Each entry names its parameter.
// Thread safety: plain values.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fhir/definitions.h"
#include "util/time.h"

namespace ck::search {

using Param = const fhir::SearchParameterDefinition*;

// The ends of an open interval (a Period without a start or an end).
inline constexpr Millis kOpenStart = std::numeric_limits<Millis>::min();
inline constexpr Millis kOpenEnd = std::numeric_limits<Millis>::max();

// A code: Coding, CodeableConcept (each coding), Identifier (system and value), ContactPoint
// (system and value), code, boolean, id, string and uri values. The display and text of a
// token (Coding.display, CodeableConcept.text), which :text searches, are string entries of the
// same parameter.
struct TokenEntry {
  Param param;
  std::string system;  // empty when the value has none
  std::string code;
};

// Identifier.type with the identifier's value (for :of-type).
struct IdentifierTypeEntry {
  Param param;
  std::string type_system;
  std::string type_code;
  std::string value;
};

// A string value, or one part of a HumanName or Address (or its whole text), or the text of a
// token.
struct StringEntry {
  Param param;
  std::string normalized;  // search_text.h: for the default match (starts with) and :contains
  std::string exact;       // as written, for :exact
};

// A date, dateTime, instant, Period or Timing event as the interval [start, end) it covers
// (a date-only value as a whole day in UTC; a Period without an end is open: end = kOpenEnd).
struct DateEntry {
  Param param;
  Millis start;
  Millis end;
};

// A number with the interval its written precision implies (1.5 covers [1.45, 1.55)).
struct NumberEntry {
  Param param;
  double value;
  double low;
  double high;
};

// Two numbers of the same element: the second and third components of a composite of three
// (MolecularSequence's coordinates: a variant's or window's start and end), kept together.
struct NumberPairEntry {
  Param param;
  NumberEntry first;
  NumberEntry second;
};

// A Quantity (or Age, Duration, Money...): value with its precision interval, system, code and
// unit; if the unit is UCUM, also in UCUM base units with a key shared by commensurable units.
struct QuantityEntry {
  Param param;
  double value;
  double low;
  double high;
  std::string system;
  std::string code;
  std::string unit;
  bool has_canonical = false;
  double canonical_low = 0;
  double canonical_high = 0;
  std::string canonical_unit;  // terminology::UcumCanonicalKey
};

// A reference to another resource: local (type and id, maybe a version), or by URL (an absolute
// reference to another server, a canonical with its version, a urn:uuid).
struct ReferenceEntry {
  Param param;
  std::string type;     // local references
  std::string id;
  std::string version;  // "_history/n" of a local reference, or "|version" of a canonical
  std::string url;      // non-local references and canonicals, without "|version"
};

struct UriEntry {
  Param param;
  std::string uri;
};

struct CompositeEntry;
struct ContainedEntries;

// The text `_text` and `_content` search (full_text.h), folded as string search folds it.
struct FullText {
  std::string narrative;  // empty when the resource has none
  std::string content;    // values separated by newlines
};

struct IndexEntries {
  std::vector<TokenEntry> tokens;
  std::vector<IdentifierTypeEntry> identifier_types;
  std::vector<StringEntry> strings;
  std::vector<DateEntry> dates;
  std::vector<NumberEntry> numbers;
  std::vector<NumberPairEntry> number_pairs;  // composites of three components only
  std::vector<QuantityEntry> quantities;
  std::vector<ReferenceEntry> references;
  std::vector<UriEntry> uris;
  std::vector<CompositeEntry> composites;
  std::vector<ContainedEntries> contained;  // of the resources in `contained`, for _contained
  FullText full_text;  // of the resource with its contained ones

  std::size_t size() const;
};

// A value of a composite parameter (code-value-quantity...): the entries of its second component
// (of a composite of three, number pairs of its second and third), paired with one value of its
// first (a token) by `key`, "system|code" ("|code" without a
// system). The store keeps them as the second component's kind of rows under a parameter of
// their own, the composite's URL with "$" and the key, so a search for both components is one
// search on that parameter (docs/design/search.md).
struct CompositeEntry {
  Param param;
  std::string key;
  IndexEntries values;
};

// The entries of a contained resource, indexed as a resource of its own type (R4 search,
// "Contained Resources"), found again by its `position` in the container's `contained`.
struct ContainedEntries {
  std::string type;
  std::size_t position = 0;
  IndexEntries entries;
};

inline std::size_t IndexEntries::size() const {
  std::size_t nested_rows = 0;
  for (const CompositeEntry& composite : composites) nested_rows += composite.values.size();
  for (const ContainedEntries& resource : contained) nested_rows += resource.entries.size();
  return tokens.size() + identifier_types.size() + strings.size() + dates.size() + numbers.size() + number_pairs.size() + quantities.size() +
         references.size() + uris.size() + nested_rows;
}

}  // namespace ck::search
