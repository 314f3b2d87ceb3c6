// Full text (search/full_text.h): what `_text` and `_content` cover of a resource, folded as
// string search folds it; and how a text search becomes an FTS5 query, every term quoted, with
// the errors a malformed one gets.
#include "search/full_text.h"

#include <gtest/gtest.h>

#include "support/bound_resource.h"

namespace ck::search {
namespace {

FullText Of(std::string_view json) {
  auto resource = testing::BoundResource(json);
  EXPECT_TRUE(resource);
  return resource ? ExtractFullText(*resource) : FullText{};
}

TEST(FullTextTest, TheNarrativeAndEveryStringOfTheResourceFoldedWithItsContainedOnesAndTextAttachments) {
  const FullText text = Of(R"({"resourceType":"DocumentReference","status":"current",
      "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Suspected <b>Sépsis</b> &amp; shock in the caf&#233; &#x2014; cold</p></div>"},
      "description":"Discharge SUMMARY","contained":[{"resourceType":"Practitioner","id":"a","name":[{"family":"Müller"}],
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">contained narrative</div>"}}],
      "content":[{"attachment":{"contentType":"text/plain; charset=utf-8","data":"UGF0aWVudCByZXBvcnRzIGNoZXN0IHBhaW4="}},
                 {"attachment":{"contentType":"application/pdf","data":"JVBERi0xLjQKc2VjcmV0"}}]})");
  EXPECT_NE(text.narrative.find("suspected"), std::string::npos) << text.narrative;
  EXPECT_NE(text.narrative.find("sepsis"), std::string::npos);
  EXPECT_NE(text.narrative.find("& shock"), std::string::npos);
  EXPECT_NE(text.narrative.find("cafe"), std::string::npos);  // character references decoded, then folded
  EXPECT_EQ(text.narrative.find("contained narrative"), std::string::npos);  // the resource's own only
  EXPECT_EQ(text.narrative.find("<p>"), std::string::npos);
  EXPECT_NE(text.content.find("discharge summary"), std::string::npos) << text.content;
  EXPECT_NE(text.content.find("muller"), std::string::npos);
  EXPECT_NE(text.content.find("contained narrative"), std::string::npos);
  EXPECT_NE(text.content.find("patient reports chest pain"), std::string::npos);  // the text/plain attachment
  EXPECT_EQ(text.content.find("secret"), std::string::npos);                      // not the PDF
  EXPECT_NE(text.content.find("sepsis"), std::string::npos);
  EXPECT_EQ(text.content.find("current"), std::string::npos);  // codes are tokens, not text
}

TEST(FullTextTest, ABinaryOfTextIsContent) {
  EXPECT_NE(Of(R"({"resourceType":"Binary","contentType":"text/plain","data":"aGVsbG8gd29ybGQ="})").content.find("hello world"), std::string::npos);
  EXPECT_EQ(Of(R"({"resourceType":"Binary","contentType":"image/png","data":"aGVsbG8gd29ybGQ="})").content.find("hello"), std::string::npos);
}

TEST(FullTextTest, ATextSearchBecomesAnFts5QueryWithEveryTermQuoted) {
  EXPECT_EQ(*FullTextQuery("sepsis"), R"("sepsis")");
  EXPECT_EQ(*FullTextQuery("Sépsis shock"), R"("sepsis" AND "shock")");
  EXPECT_EQ(*FullTextQuery("sep*"), R"("sep" *)");
  EXPECT_EQ(*FullTextQuery(R"("septic shock" or fever)"), R"("septic shock" OR "fever")");
  EXPECT_EQ(*FullTextQuery("(bone OR liver) and metastases"), R"(("bone" OR "liver") AND "metastases")");
  EXPECT_EQ(*FullTextQuery("sepsis NOT shock"), R"("sepsis" NOT "shock")");
  EXPECT_EQ(*FullTextQuery(R"(NEAR("a" "b") col:x ^start)"), R"("near" AND ("a" AND "b") AND "col:x" AND "^start")");  // no FTS5 syntax of its own
}

TEST(FullTextTest, AMalformedTextSearchSaysWhatIsWrong) {
  EXPECT_TRUE(FullTextQuery(std::string(16, '(') + "a" + std::string(16, ')')));
  const std::string deep = std::string(3000, '(') + "a" + std::string(3000, ')');  // past FTS5's parser stack: refused before it
  for (const std::string& bad : {std::string(""), std::string(17, '(') + "a" + std::string(17, ')'), deep}) {
    EXPECT_FALSE(FullTextQuery(bad)) << bad.size();
  }
  for (const char* bad : {"", "   ", "\"open phrase", "(a OR b", "a OR b)", "AND a", "a OR", "NOT a", "()", "a (OR b)", "***", "\"\""}) {
    auto query = FullTextQuery(bad);
    EXPECT_FALSE(query) << bad << " became " << *query;
    if (!query) {
      EXPECT_EQ(query.error().code(), StatusCode::kInvalid);
    }
  }
}

}  // namespace
}  // namespace ck::search
