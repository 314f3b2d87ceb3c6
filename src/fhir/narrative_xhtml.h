#pragma once
// The rules FHIR R4 sets for narrative XHTML (the `xhtml` type of Narrative.div), checked with
// the expat XML parser:
//  - well-formed XML whose single root is a `div` declared in the XHTML namespace; no DOCTYPE,
//    XML declaration or processing instruction; no entities but XML's five (`&nbsp;` is refused,
//    as the R4 narrative page says: use the character or `&#160;`);
//  - invariant txt-1: only the basic formatting elements of HTML 4.0 chapters 7-11 (without
//    `ins`/`del`) and 15, `a` and `img`, with their attributes; so no scripts, forms, frames,
//    objects, styles sheets or event handlers; and no `javascript:` links;
//  - invariant txt-2: some non-whitespace content (text, or an image with a source).
// The JSON reader refuses a narrative that breaks any of these but txt-2, which validation checks
// as an invariant (an empty narrative is a flaw a lenient policy may store; malformed XHTML and
// txt-1's scripts never are); FHIRPath's htmlChecks() reports all of them as a boolean.
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace ck::fhir {

enum class NarrativeRules { kAll, kAllButTxt2 };

// Checks `xhtml` as the value of an `xhtml` element (`<div xmlns="...">...</div>`). Returns what
// is wrong (first problem found, with its byte offset where the parser gives one), or nullopt.
std::optional<std::string> CheckNarrativeXhtml(std::string_view xhtml, NarrativeRules rules = NarrativeRules::kAll);

// Checks `content` as the content of a narrative `div` (FHIRPath htmlChecks() on a string).
// Same rules and result as CheckNarrativeXhtml.
std::optional<std::string> CheckNarrativeContent(std::string_view content);

// The text a reader sees in `xhtml`: its character data, every entity and character reference
// decoded, a space where an element starts or ends (for full-text search). What follows a
// point where the XML is not well-formed is left out.
std::string NarrativeText(std::string_view xhtml);

}  // namespace ck::fhir
