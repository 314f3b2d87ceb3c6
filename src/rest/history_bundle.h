#pragma once
// Builds a FHIR `history` Bundle from a page of stored versions, embedding the stored JSON as is
// (no re-serialization), with self, first, previous and next links that pin the snapshot and
// carry the cursor (_before/_after a version's sequence), so paging is stable while writes go on
// and a page costs the same however long the history.
// Thread safety: pure function.

#include <string>

#include "store/resource_store.h"

namespace ck::rest {

// `page_url`: the absolute URL of the history (e.g. ".../fhir/Patient/1/_history");
// `filters`: the query string of the request's filters (_since, _at, _total), "" or "a=b&c=d".
std::string HistoryBundleJson(const store::HistoryPage& page, const store::HistoryQuery& query,
                              const std::string& base_url, const std::string& page_url, const std::string& filters);

// Appends a Bundle.link object ({"relation":..., "url":...}); shared with search_bundle.h.
void AppendLink(std::string& out, std::string_view relation, const std::string& url);

// The weak ETag of a version: W/"3".
std::string VersionEtag(std::int64_t version);

}  // namespace ck::rest
