#pragma once
// Full-text search (R4 search, "Text Search Parameters"): `_text` searches a resource's
// narrative, `_content` all of its text (narrative, every string and markdown value but a
// reference's target, its contained resources', and the decoded text of attachments and Binary
// data whose content type is text/*). The text is folded as string search folds it (search_text.h), so "Sépsis" finds
// "sepsis"; the store keeps it in an SQLite FTS5 table, in the write's own transaction.
//
// A search's value is read as R4 describes: words, "quoted phrases", `word*` prefixes, AND, OR
// and NOT (any case; a space between two terms is AND; NOT needs a term before it, "a NOT b"),
// and parentheses (nested at most 16 deep). It becomes an FTS5 query in which every word and phrase is a quoted string,
// so nothing a client writes is taken as FTS5 syntax of its own.
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "fhir/resource.h"
#include "search/index_entries.h"
#include "util/status.h"

namespace ck::search {

FullText ExtractFullText(const fhir::Resource& resource);

// The FTS5 query for a `_text`/`_content` value. Errors: kInvalid saying what is wrong (an
// unclosed quote or parenthesis, parentheses nested too deep, an operator without a term on
// either side, nothing to search).
Result<std::string> FullTextQuery(std::string_view text);

}  // namespace ck::search
