// The FHIR R4 narrative rules: well-formed XHTML in a namespaced <div>, txt-1 and txt-2.
#include "fhir/narrative_xhtml.h"

#include <gtest/gtest.h>

namespace ck::fhir {
namespace {

std::string Div(std::string_view content) {
  return "<div xmlns=\"http://www.w3.org/1999/xhtml\">" + std::string(content) + "</div>";
}

struct Case {
  std::string_view content;  // what goes inside the root div
  std::string_view problem;  // empty when valid; otherwise a part of the message
};

const Case kContentCases[] = {
    {"Peter James <b>Chalmers</b>", ""},
    {"<p>a</p><ul><li>one</li></ul><table class=\"grid\"><tbody><tr><td colspan=\"2\">x</td></tr></tbody></table>", ""},
    {"<a href=\"http://example.org\">link</a> <a name=\"top\">anchor</a>", ""},
    {"<img src=\"#photo\" alt=\"photo\"/>", ""},  // an image is content
    {"<h3 lang=\"en\" xml:lang=\"en\" dir=\"ltr\">t</h3><br/><hr/><pre>x</pre><blockquote cite=\"x\">q</blockquote>", ""},
    {"x &amp; y &lt; &#160; &#x00A0;", ""},
    {"<!-- a comment --><span>text</span>", ""},
    {"<div xmlns=\"http://www.w3.org/1999/xhtml\">nested</div>", ""},
    {"", "no content"},
    {"  \n\t ", "no content"},
    {"<p> </p><br/>", "no content"},
    {"<img alt=\"no source\"/>", "no content"},
    {"<script>alert(1)</script>", "element <script> is not allowed"},
    {"<form><input/></form>", "element <form> is not allowed"},
    {"<iframe src=\"x\"></iframe>", "element <iframe> is not allowed"},
    {"<object data=\"x\">o</object>", "element <object> is not allowed"},
    {"<font>old</font>", "element <font> is not allowed"},
    {"<ins>changed</ins>", "element <ins> is not allowed"},
    {"<b onclick=\"alert(1)\">x</b>", "attribute onclick is not allowed"},
    {"<p href=\"x\">x</p>", "attribute href is not allowed on <p>"},
    {"<a xlink:href=\"x\">x</a>", "attribute xlink:href is not allowed"},
    {"<a href=\" JavaScript:alert(1)\">x</a>", "javascript: links"},
    {"<img src=\"javascript:alert(1)\"/>", "javascript: links"},
    {"<p xmlns=\"http://example.org\">x</p>", "namespace must be"},
    {"x &nbsp; y", "not well-formed XML: undefined entity"},
    {"<p>unclosed", "not well-formed XML"},
    {"<b><i>x</b></i>", "not well-formed XML: mismatched tag"},
    {"<p class=unquoted>x</p>", "not well-formed XML"},
    {"<?php echo 1 ?>x", "processing instructions"},
};

TEST(NarrativeXhtmlTest, AppliesTheR4NarrativeRules) {
  for (const Case& c : kContentCases) {
    SCOPED_TRACE(c.content);
    std::optional<std::string> problem = CheckNarrativeXhtml(Div(c.content));
    if (c.problem.empty()) {
      EXPECT_FALSE(problem) << *problem;
    } else {
      ASSERT_TRUE(problem);
      EXPECT_NE(problem->find(c.problem), std::string::npos) << *problem;
    }
    EXPECT_EQ(CheckNarrativeContent(c.content).has_value(), problem.has_value());
    // What the reader checks: everything but txt-2, which validation reports as an invariant.
    std::optional<std::string> read = CheckNarrativeXhtml(Div(c.content), NarrativeRules::kAllButTxt2);
    EXPECT_EQ(read.has_value(), problem.has_value() && c.problem != "no content") << read.value_or("");
  }
}

TEST(NarrativeXhtmlTest, RequiresANamespacedDivAtTheRoot) {
  EXPECT_NE(CheckNarrativeXhtml("<div>text</div>")->find("must declare xmlns"), std::string::npos);
  EXPECT_NE(CheckNarrativeXhtml("<p xmlns=\"http://www.w3.org/1999/xhtml\">x</p>")->find("root element must be <div>"),
            std::string::npos);
  EXPECT_NE(CheckNarrativeXhtml(Div("a") + Div("b"))->find("junk after document element"), std::string::npos);
  EXPECT_NE(CheckNarrativeXhtml("text only")->find("not well-formed"), std::string::npos);
  EXPECT_TRUE(CheckNarrativeXhtml(""));
}

TEST(NarrativeXhtmlTest, RefusesDoctypesSoNoEntityCanExpand) {
  const std::string laughs =
      "<!DOCTYPE div [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>" + Div("&b;");
  EXPECT_NE(CheckNarrativeXhtml(laughs)->find("DOCTYPE"), std::string::npos);
  EXPECT_NE(CheckNarrativeXhtml("<?xml version=\"1.0\"?>" + Div("x"))->find("XML declaration"), std::string::npos);
}

TEST(NarrativeXhtmlTest, ContentCannotEscapeItsDiv) {
  EXPECT_TRUE(CheckNarrativeContent("x</div><div xmlns=\"http://www.w3.org/1999/xhtml\">y"));
  EXPECT_TRUE(CheckNarrativeContent("x</div>"));
}

TEST(NarrativeXhtmlTest, SaysWhereTheProblemIs) {
  std::optional<std::string> problem = CheckNarrativeContent("ok <script/>");
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("at byte 3"), std::string::npos) << *problem;
}

TEST(NarrativeXhtmlTest, RefusesInvalidUtf8) {
  EXPECT_TRUE(CheckNarrativeContent("bad \xC3\x28 byte"));
  EXPECT_FALSE(CheckNarrativeContent("caf\xC3\xA9"));
}

TEST(NarrativeXhtmlTest, HandlesDeepNestingWithoutRecursion) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<span>";
  deep += "x";
  for (int i = 0; i < 100000; ++i) deep += "</span>";
  EXPECT_FALSE(CheckNarrativeContent(deep));
}

}  // namespace
}  // namespace ck::fhir
