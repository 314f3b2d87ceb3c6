#include "fhir/narrative_xhtml.h"

#include <expat.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <unordered_set>

namespace ck::fhir {
namespace {

constexpr std::string_view kXhtmlNamespace = "http://www.w3.org/1999/xhtml";

// HTML 4.0 chapters 7 (div, span, headings, address), 8 (bdo), 9 without section 4 (phrase
// elements, quotations, sub/sup, paragraphs, line breaks, pre), 10 (lists), 11 (tables) and 15
// (font styles and rules, deprecated ones aside), plus links and images.
const std::unordered_set<std::string_view> kAllowedElements = {
    "div", "span", "h1", "h2", "h3", "h4", "h5", "h6", "address", "bdo",
    "em", "strong", "dfn", "code", "samp", "kbd", "var", "cite", "abbr", "acronym",
    "blockquote", "q", "sub", "sup", "p", "br", "pre",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tfoot", "tbody", "colgroup", "col", "tr", "th", "td",
    "tt", "i", "b", "big", "small", "hr", "a", "img"};

// Attributes allowed on every element: HTML 4.0's core and language attributes, the default
// namespace declaration, and the table cell attributes, which R4's txt-1 allows anywhere.
const std::unordered_set<std::string_view> kGlobalAttributes = {
    "id", "class", "style", "title", "lang", "xml:lang", "dir", "accesskey", "tabindex", "xmlns",
    "span", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope", "rowspan",
    "colspan"};

// Attributes allowed on one element only, as "element.attribute".
const std::unordered_set<std::string_view> kElementAttributes = {
    "a.href", "a.name",
    "img.src", "img.alt", "img.longdesc", "img.height", "img.width", "img.border",
    "blockquote.cite", "q.cite",
    "table.summary", "table.width", "table.border", "table.frame", "table.rules",
    "table.cellspacing", "table.cellpadding",
    "col.width", "colgroup.width", "th.width", "td.width", "td.nowrap"};

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsScriptUrl(std::string_view url) {
  while (!url.empty() && (IsXmlSpace(url.front()) || static_cast<unsigned char>(url.front()) < 0x20)) url.remove_prefix(1);
  constexpr std::string_view kScheme = "javascript:";
  if (url.size() < kScheme.size()) return false;
  return std::equal(kScheme.begin(), kScheme.end(), url.begin(),
                    [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); });
}

// One expat pass with the narrative rules in its callbacks. The first problem stops the parser.
class NarrativeChecker {
 public:
  explicit NarrativeChecker(std::size_t offset_shift) : offset_shift_(offset_shift) {
    XML_SetUserData(parser_.get(), this);
    XML_SetElementHandler(parser_.get(), &NarrativeChecker::OnStart, &NarrativeChecker::OnEnd);
    XML_SetCharacterDataHandler(parser_.get(), &NarrativeChecker::OnText);
    XML_SetProcessingInstructionHandler(parser_.get(), &NarrativeChecker::OnProcessingInstruction);
    XML_SetXmlDeclHandler(parser_.get(), &NarrativeChecker::OnXmlDeclaration);
    XML_SetStartDoctypeDeclHandler(parser_.get(), &NarrativeChecker::OnDoctype);
  }

  std::optional<std::string> Check(std::string_view text, NarrativeRules rules) {
    if (!parser_) return "out of memory for the XML parser";
    if (text.size() > INT_MAX) return "narrative too large";
    if (XML_Parse(parser_.get(), text.data(), static_cast<int>(text.size()), XML_TRUE) == XML_STATUS_ERROR && !problem_) {
      problem_ = std::string("not well-formed XML: ") + XML_ErrorString(XML_GetErrorCode(parser_.get())) + Where();
    }
    if (problem_) return problem_;
    if (!has_content_ && rules == NarrativeRules::kAll) return "the narrative has no content: it needs some text or an image (txt-2)";
    return std::nullopt;
  }

 private:
  struct ParserDeleter {
    void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
  };

  static NarrativeChecker& Self(void* data) { return *static_cast<NarrativeChecker*>(data); }

  std::string Where() const {
    XML_Index index = XML_GetCurrentByteIndex(parser_.get());
    if (index < 0) return "";
    std::size_t at = static_cast<std::size_t>(index);
    return " at byte " + std::to_string(at > offset_shift_ ? at - offset_shift_ : 0);
  }

  void Fail(std::string message) {
    if (problem_) return;
    problem_ = std::move(message) + Where();
    XML_StopParser(parser_.get(), XML_FALSE);
  }

  static void OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
    Self(data).Start(name, attributes);
  }
  static void OnEnd(void* data, const XML_Char*) { --Self(data).depth_; }
  static void OnText(void* data, const XML_Char* text, int length) {
    NarrativeChecker& self = Self(data);
    if (self.has_content_) return;
    self.has_content_ = std::any_of(text, text + length, [](char c) { return !IsXmlSpace(c); });
  }
  static void OnProcessingInstruction(void* data, const XML_Char*, const XML_Char*) {
    Self(data).Fail("processing instructions are not allowed in a narrative");
  }
  static void OnXmlDeclaration(void* data, const XML_Char*, const XML_Char*, int) {
    Self(data).Fail("an XML declaration is not allowed in a narrative");
  }
  static void OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    Self(data).Fail("a DOCTYPE is not allowed in a narrative");
  }

  void Start(std::string_view name, const XML_Char** attributes) {
    if (depth_++ == 0 && name != "div") return Fail("the narrative's root element must be <div>, not <" + std::string(name) + ">");
    if (!kAllowedElements.contains(name)) return Fail("element <" + std::string(name) + "> is not allowed in a narrative (txt-1)");
    bool root_namespace = false;
    for (const XML_Char** a = attributes; *a != nullptr; a += 2) {
      std::string_view attribute = a[0];
      std::string_view value = a[1];
      if (!kGlobalAttributes.contains(attribute) &&
          !kElementAttributes.contains(std::string(name) + "." + std::string(attribute))) {
        return Fail("attribute " + std::string(attribute) + " is not allowed on <" + std::string(name) + "> in a narrative (txt-1)");
      }
      if (attribute == "xmlns") {
        if (value != kXhtmlNamespace) return Fail("the narrative's namespace must be " + std::string(kXhtmlNamespace));
        root_namespace = true;
      }
      if ((attribute == "href" || attribute == "src") && IsScriptUrl(value)) {
        return Fail("javascript: links are not allowed in a narrative");
      }
      if (attribute == "src" && name == "img") has_content_ = true;
    }
    if (depth_ == 1 && !root_namespace) {
      return Fail("the narrative's <div> must declare xmlns=\"" + std::string(kXhtmlNamespace) + "\"");
    }
  }

  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser_{XML_ParserCreate("UTF-8")};
  std::size_t offset_shift_;
  std::optional<std::string> problem_;
  int depth_ = 0;
  bool has_content_ = false;
};

// Collects character data, a space for each element boundary.
class TextCollector {
 public:
  std::string Collect(std::string_view xhtml) {
    XML_SetUserData(parser_.get(), this);
    XML_SetElementHandler(parser_.get(), &TextCollector::OnBoundary, &TextCollector::OnEnd);
    XML_SetCharacterDataHandler(parser_.get(), &TextCollector::OnText);
    if (xhtml.size() <= INT_MAX) XML_Parse(parser_.get(), xhtml.data(), static_cast<int>(xhtml.size()), XML_TRUE);
    return std::move(text_);
  }

 private:
  struct ParserDeleter {
    void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
  };
  static void OnBoundary(void* data, const XML_Char*, const XML_Char**) { static_cast<TextCollector*>(data)->text_ += ' '; }
  static void OnEnd(void* data, const XML_Char*) { static_cast<TextCollector*>(data)->text_ += ' '; }
  static void OnText(void* data, const XML_Char* text, int length) {
    static_cast<TextCollector*>(data)->text_.append(text, static_cast<std::size_t>(length));
  }

  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser_{XML_ParserCreate("UTF-8")};
  std::string text_;
};

}  // namespace

std::string NarrativeText(std::string_view xhtml) { return TextCollector().Collect(xhtml); }

std::optional<std::string> CheckNarrativeXhtml(std::string_view xhtml, NarrativeRules rules) {
  return NarrativeChecker(0).Check(xhtml, rules);
}

std::optional<std::string> CheckNarrativeContent(std::string_view content) {
  const std::string open = "<div xmlns=\"" + std::string(kXhtmlNamespace) + "\">";
  std::string document = open;
  document.append(content).append("</div>");
  return NarrativeChecker(open.size()).Check(document, NarrativeRules::kAll);
}

}  // namespace ck::fhir
