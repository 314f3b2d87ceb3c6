#pragma once
// Walking a search's pages for tests: follow `next` (or `previous`) links from a first request,
// collecting the ids of the matches of each page.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/json.h"

namespace ck::testing {

// The link of `relation` in a Bundle, as a path from "/fhir" on; "" when it has none.
inline std::string BundleLink(const rapidjson::Document& bundle, const std::string& relation) {
  if (!bundle.HasMember("link")) return "";
  for (const auto& link : bundle["link"].GetArray()) {
    if (relation != link["relation"].GetString()) continue;
    std::string url = link["url"].GetString();
    return url.substr(url.find("/fhir"));
  }
  return "";
}

struct SearchPages {
  std::vector<std::vector<std::string>> pages;  // ids of the matches, page by page, in walk order
  std::string last;                             // the path of the last page fetched
};

// Fetches `path` and follows `relation` links until there is none (at most `max_pages`); a
// status other than 200 is a test failure and ends the walk.
inline SearchPages WalkPages(HttpClient& client, std::string path, const std::string& relation = "next",
                             std::size_t max_pages = 100000) {
  SearchPages out;
  while (!path.empty() && out.pages.size() < max_pages) {
    HttpResult result = client.Get(path);
    EXPECT_EQ(result.status, 200) << path << ": " << result.body;
    if (result.status != 200) break;
    out.last = path;
    auto bundle = ParseJson(result.body);
    std::vector<std::string>& ids = out.pages.emplace_back();
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) {
        if (std::string(entry["search"]["mode"].GetString()) == "match") ids.push_back(entry["resource"]["id"].GetString());
      }
    }
    path = BundleLink(bundle, relation);
  }
  return out;
}

// The ids of every page in order.
inline std::vector<std::string> Flatten(const std::vector<std::vector<std::string>>& pages) {
  std::vector<std::string> out;
  for (const auto& page : pages) out.insert(out.end(), page.begin(), page.end());
  return out;
}

}  // namespace ck::testing
