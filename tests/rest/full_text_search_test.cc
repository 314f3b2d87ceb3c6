// `_text` (the narrative) and `_content` (all the text of a resource) over HTTP, on hand-made
// notes with known words: words, prefixes, "phrases", AND/OR/NOT and parentheses, accents and
// case folded as string search folds them, the text of a text/plain attachment, an update that
// replaces the text and a delete that removes it, AND with other parameters, across types; a
// malformed text search is 400 naming the parameter.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/json.h"
#include "support/put_resource.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace ck {
namespace {

using testing::HttpClient;
using testing::HttpResult;
using testing::ParseJson;
using Ids_ = std::vector<std::string>;

std::string Narrative(const std::string& text) {
  return R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" + text + R"(</div>"})";
}

class FullTextSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string resources[] = {
        R"({"resourceType":"Patient","id":"p1",)" + Narrative("Peter <b>Jones</b>") + "}",
        R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},)" + Narrative("Septic shock suspected") +
            R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":"76571007"}]}})",
        R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},)" + Narrative("Fracture of the left femur") +
            R"(,"note":[{"text":"Fall from a ladder; no shock"}]})",
        R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Temperature"},"note":[{"text":"Fièvre ÉLEVÉE la nuit"}]})",
        R"({"resourceType":"DocumentReference","id":"d1","status":"current","description":"Discharge summary",
            "content":[{"attachment":{"contentType":"text/plain","data":"UGF0aWVudCBzaG93cyBzaWducyBvZiBzZXBzaXMu"}}]})",  // "Patient shows signs of sepsis."
    };
    HttpClient client(server_.port());
    for (const std::string& body : resources) {
      HttpResult put = testing::PutResource(client, body);
      ASSERT_LT(put.status, 300) << put.body;
    }
  }

  Ids_ Ids(const std::string& query) {
    HttpResult result = HttpClient(server_.port()).Get("/fhir" + query);
    if (result.status != 200) return {"status " + std::to_string(result.status)};
    auto bundle = ParseJson(result.body);
    Ids_ ids;
    if (bundle.HasMember("entry")) {
      for (const auto& entry : bundle["entry"].GetArray()) {
        if (std::string(entry["search"]["mode"].GetString()) == "match") ids.push_back(entry["resource"]["id"].GetString());
      }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  testing::TempDir dir_;
  testing::ServerProcess server_{dir_.path()};
};

TEST_F(FullTextSearchTest, WordsPrefixesPhrasesAndOperators) {
  EXPECT_EQ(Ids("/Condition?_text=septic"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_text=SEPTIC"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_text=sep*"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_text=sept"), (Ids_{}));  // a word, not a prefix
  EXPECT_EQ(Ids("/Condition?_text=%22septic%20shock%22"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_text=%22shock%20septic%22"), (Ids_{}));
  EXPECT_EQ(Ids("/Condition?_text=shock"), (Ids_{"c1"}));         // c2's "shock" is in a note, not its narrative
  EXPECT_EQ(Ids("/Condition?_content=shock"), (Ids_{"c1", "c2"}));  // all its text
  EXPECT_EQ(Ids("/Condition?_content=shock%20AND%20ladder"), (Ids_{"c2"}));
  EXPECT_EQ(Ids("/Condition?_content=shock%20NOT%20ladder"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_content=femur%20or%20septic"), (Ids_{"c1", "c2"}));
  EXPECT_EQ(Ids("/Condition?_content=(femur%20OR%20septic)%20and%20suspected"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_content=femur,septic"), (Ids_{"c1", "c2"}));  // comma: OR, as for every parameter
  EXPECT_EQ(Ids("/Condition?_content=shock&code=76571007"), (Ids_{"c1"}));
  EXPECT_EQ(Ids("/Condition?_content=shock&_text=fracture"), (Ids_{"c2"}));
}

TEST_F(FullTextSearchTest, AccentsAndCaseAreFoldedAndTextAttachmentsAreContent) {
  EXPECT_EQ(Ids("/Observation?_content=fievre"), (Ids_{"o1"}));
  EXPECT_EQ(Ids("/Observation?_content=FI%C3%88VRE%20%C3%A9lev%C3%A9e"), (Ids_{"o1"}));  // FIÈVRE élevée
  EXPECT_EQ(Ids("/DocumentReference?_content=sepsis"), (Ids_{"d1"}));
  EXPECT_EQ(Ids("/DocumentReference?_text=sepsis"), (Ids_{}));  // no narrative
  EXPECT_EQ(Ids("/Patient?_text=jones"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("?_type=Condition,DocumentReference&_content=seps*,septic"), (Ids_{"c1", "d1"}));
}

TEST_F(FullTextSearchTest, FullTextEndsChainsAndReverseChains) {
  EXPECT_EQ(Ids("/Patient?_has:Condition:subject:_content=ladder"), (Ids_{"p1"}));
  EXPECT_EQ(Ids("/Patient?_has:Condition:subject:_text=ladder"), (Ids_{}));  // in a note, not a narrative
  EXPECT_EQ(Ids("/Condition?subject:Patient._text=jones"), (Ids_{"c1", "c2"}));
  EXPECT_EQ(Ids("/Condition?subject:Patient._text=smith"), (Ids_{}));
  EXPECT_EQ(Ids("/Condition?subject:Patient._text:exact=jones"), (Ids_{"status 400"}));
}

TEST_F(FullTextSearchTest, AnUpdateReplacesTheTextAndADeleteRemovesIt) {
  HttpClient client(server_.port());
  ASSERT_EQ(client.Put("/fhir/Condition/c1", R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},)" +
                                                   Narrative("Resolved without complications") + "}")
                .status,
            200);
  EXPECT_EQ(Ids("/Condition?_text=septic"), (Ids_{}));
  EXPECT_EQ(Ids("/Condition?_text=complications"), (Ids_{"c1"}));
  ASSERT_EQ(client.Request("DELETE", "/fhir/Observation/o1").status / 100, 2);
  EXPECT_EQ(Ids("/Observation?_content=fievre"), (Ids_{}));
}

TEST_F(FullTextSearchTest, AMalformedTextSearchIsRefusedNamingTheParameter) {
  const std::string deep = "/Condition?_content=" + std::string(3000, '(') + "a" + std::string(3000, ')');  // not a database error
  for (const std::string& bad : {std::string("/Condition?_text=%22open"), std::string("/Condition?_content=(a"), std::string("/Condition?_content=AND%20a"),
                                 std::string("/Condition?_content="), std::string("/Condition?_text:exact=septic"), std::string("/Condition?_content=***"), deep}) {
    HttpResult result = HttpClient(server_.port()).Get("/fhir" + bad);
    EXPECT_EQ(result.status, 400) << bad << ": " << result.body;
    EXPECT_NE(result.body.find("_"), std::string::npos) << result.body;
  }
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

// `_sort=_score` (this server's, not R4): the most relevant first (bm25: more occurrences in a
// shorter text), `-_score` the least; paged like any sort; refused without a text search.
TEST_F(FullTextSearchTest, ScoreSortsByRelevance) {
  HttpClient client(server_.port());
  const std::pair<const char*, const char*> notes[] = {
      {"n1", "shock once in a long note about many other things: fever, cough, rash, pain, fatigue and more"},
      {"n2", "shock shock shock"},
      {"n3", "shock and shock again"},
  };
  for (const auto& [id, text] : notes) {
    const std::string body = std::string(R"({"resourceType":"Observation","id":")") + id + R"(","status":"final","code":{"text":"note"},"note":[{"text":")" +
                             text + R"("}]})";
    ASSERT_LT(client.Put(std::string("/fhir/Observation/") + id, body).status, 300);
  }
  auto ordered = [&](const std::string& query) {
    std::vector<std::string> ids;
    std::string path = "/fhir/Observation?" + query;
    while (!path.empty()) {
      auto bundle = ParseJson(client.Get(path).body);
      for (const auto& entry : bundle["entry"].GetArray()) ids.push_back(entry["resource"]["id"].GetString());
      path.clear();
      for (const auto& link : bundle["link"].GetArray()) {
        if (std::string(link["relation"].GetString()) == "next") path = std::string(link["url"].GetString()).substr(std::string(link["url"].GetString()).find("/fhir"));
      }
    }
    return ids;
  };
  EXPECT_EQ(ordered("_content=shock&_sort=_score"), (Ids_{"n2", "n3", "n1"}));
  EXPECT_EQ(ordered("_content=shock&_sort=_score&_count=1"), (Ids_{"n2", "n3", "n1"}));
  EXPECT_EQ(ordered("_content=shock&_sort=-_score"), (Ids_{"n1", "n3", "n2"}));
  EXPECT_EQ(client.Get("/fhir/Observation?code:text=note&_sort=_score").status, 400);
}

}  // namespace
}  // namespace ck
