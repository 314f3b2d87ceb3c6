#pragma once
// Text as FHIR string search compares it: "Müller", "MULLER" and "muller" are one. Accents are
// removed (canonical decomposition, then the combining marks dropped), case is folded fully
// ("Straße" -> "strasse"), and compatibility forms are unified ("ｆｕｌｌ" -> "full"), with ICU.
// The same function serves the index (on write) and the search values (on read), so both sides
// always agree.
// Thread safety: a pure function.

#include <string>
#include <string_view>

namespace ck::search {

// REQUIRES: valid UTF-8 (every stored resource and decoded URL is checked for it).
std::string NormalizeForSearch(std::string_view text);

}  // namespace ck::search
