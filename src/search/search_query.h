#pragma once
// A type-level search as the store runs it: conditions on indexed values, all of which a
// resource must meet (AND; a repeated parameter is several conditions), each met by any of its
// values (OR; the parameter's comma-separated values). Built from the request by
// query_parser.h, which has already checked every value, so the store only translates it into
// its query language with every value a bound parameter.
// Thread safety: plain values.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "search/index_entries.h"

namespace ck::search {

// How a value's interval compares with the searched interval (FHIR R4 search, prefixes).
enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

// token: `system|code`, `|code` (system must be absent: empty), `code` (any system), `system|`.
struct TokenMatch {
  std::optional<std::string> system;
  std::optional<std::string> code;
};
// token :of-type: `typeSystem|typeCode|value`.
struct IdentifierTypeMatch {
  std::string type_system;
  std::string type_code;
  std::string value;
};
// string (and token :text on the token's texts): normalized prefix, substring, or exact text.
struct StringMatch {
  enum class Mode { kStartsWith, kContains, kExact };
  Mode mode = Mode::kStartsWith;
  std::string value;       // normalized unless kExact
  std::string normalized;  // kExact: the value normalized (the index keeps both forms)
};
// date: the search value's interval [low, high).
struct DateMatch {
  Prefix prefix = Prefix::kEq;
  Millis low = 0;
  Millis high = 0;
};
// number, and quantity values: the search value with its precision interval [low, high).
struct NumberMatch {
  Prefix prefix = Prefix::kEq;
  double value = 0;
  double low = 0;
  double high = 0;
};
// quantity: a number, with the unit as given (system and code) or, for UCUM units, compared in
// base units (`canonical_unit` set, the interval converted).
struct QuantityMatch {
  NumberMatch number;
  std::optional<std::string> system;
  std::optional<std::string> code;
  std::optional<std::string> canonical_unit;
};
// reference: a local target (type may be empty: any), or a URL.
struct ReferenceMatch {
  std::string type;
  std::string id;
  std::string url;
};
// uri: equal, or (`below`) starting with the value, or (`above`) a prefix of it.
struct UriMatch {
  enum class Mode { kEqual, kBelow, kAbove };
  Mode mode = Mode::kEqual;
  std::string value;
};

using Match = std::variant<TokenMatch, IdentifierTypeMatch, StringMatch, DateMatch, NumberMatch, QuantityMatch,
                           ReferenceMatch, UriMatch>;

// composite (`code-value-quantity=http://loinc.org|8480-6$gt100`): a value of the second
// component paired with a code of the first in the same element; of three components
// (`chromosome-variant-coordinate=1$ge100$lt200`), numbers of the second and third together.
struct CompositeMatch {
  TokenMatch first;
  Match second;
  std::optional<NumberMatch> third;
};

struct Condition;

// A chained parameter (`subject:Patient.name=peter`) or a reverse chain
// (`_has:Observation:patient:code=1234-5`), in place of the condition's own matches.
//   chain: the condition's `param` is a reference parameter of the searched type; a resource
//     matches when it points through it to a resource of one of `types` meeting the `inner`
//     condition of that type (the same index: `inner[i]` is for `types[i]`).
//   reverse: the condition's `param` is a reference parameter of `types[0]` (the only type);
//     a resource matches when a resource of that type meeting `inner[0]` points to it through it.
// Inner conditions may chain further. Deleted resources have no index values, so a chain never
// passes through one.
struct Chain {
  bool reverse = false;
  std::vector<std::string> types;
  std::vector<Condition> inner;
  // Per type of `types` (forward), or for the searched type (reverse): its `url` parameter (or
  // null), through which a canonical reference (by url, any version) links too (R4:
  // QuestionnaireResponse.questionnaire, say).
  std::vector<Param> canonical;
};

struct Condition {
  Param param;
  // Set for a chained or reverse chained parameter; then no other member is.
  std::shared_ptr<const Chain> chain;
  // _text or _content: the FTS5 query over the resource's narrative or all its text
  // (full_text.h), restricted to the column; then no other member is set.
  std::string full_text;
  // :missing=true (no value indexed) or false (some value); when set, `any_of` is empty.
  std::optional<bool> missing;
  bool negated = false;  // :not (token): resources with no value matching any of `any_of`
  std::vector<Match> any_of;
  std::vector<CompositeMatch> any_composite;  // instead of `any_of` for a composite parameter
};

// _include (resources the matches point to) and _revinclude (resources that point to the matches)
// of `source_type:param[:target_type]`; `param` null for `*` (every reference parameter; for
// _revinclude of every type: `source_type` empty).
struct Include {
  std::string source_type;
  Param param = nullptr;
  std::string target_type;  // empty: any
  bool iterate = false;     // :iterate: also from the resources included
};

// A compartment search (`Patient/123/Observation`): resources that point to the compartment's
// resource through any of `params`, or (`itself`) that resource. With `id` empty, the members
// of every compartment of the type (`Patient/$everything`).
struct CompartmentFilter {
  std::string type;  // "Patient"
  std::string id;
  std::vector<Param> params;
  bool itself = false;
  // $everything: instead of the members, the resources of the searched type that members refer
  // to (the compartment's own resource, and the members of each type listed, found through its
  // parameters as `params` finds them). `params` and `itself` are then unused.
  struct Members {
    std::string type;
    std::vector<Param> params;
  };
  std::vector<Members> referenced_by;
};

// The most resources included with one page; past it the Bundle says some were left out.
inline constexpr std::size_t kMaxIncluded = 1000;

// A _sort key: by a parameter's values (the least for ascending, the greatest for descending;
// resources without a value last). `_score` (not R4: this server's, as some others name it) is
// the relevance of the search's first _text or _content condition (FTS5's bm25, better first;
// `-_score` worse first).
struct SortKey {
  Param param = nullptr;  // never null once parsed; ScoreParameter() for _score
  bool descending = false;
  std::string full_text;  // _score: the FTS5 query (Condition::full_text) it ranks by
};

// The parameter `_sort=_score` names.
Param ScoreParameter();

// _contained (R4 search, "Contained Resources"): whether the matches are resources (R4's
// default), resources contained in others, or both.
enum class ContainedMode { kNo, kOnly, kBoth };

struct SearchQuery {
  std::string type;
  std::vector<Condition> all_of;
  std::vector<SortKey> sort;  // then by id, which makes the order total
  std::string cursor;         // where the page starts: the store's own next_cursor of the page before
  std::uint32_t count = 50;  // page size
  bool want_total = false;   // count every match (_total=accurate, _summary=count)
  bool total_only = false;   // _summary=count: no resources
  std::vector<Include> includes;
  std::vector<Include> revincludes;
  std::optional<CompartmentFilter> compartment;
  ContainedMode contained = ContainedMode::kNo;
  // _containedType=contained: a contained match is answered alone, not with its container (the
  // default, each container once).
  bool contained_alone = false;
  // _explain=true: the store also says how it ran the search (store::SearchPage::explanation).
  bool explain = false;
};

}  // namespace ck::search
