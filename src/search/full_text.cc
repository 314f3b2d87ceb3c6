#include "search/full_text.h"

#include <cctype>
#include <vector>

#include "fhir/narrative_xhtml.h"
#include "search/search_text.h"
#include "util/crypto.h"
#include "util/text.h"

namespace ck::search {
namespace {

bool IsText(std::string_view content_type) {
  std::string lower;
  for (char c : content_type.substr(0, 5)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "text/";
}

// Decoded base64 `data` of an Attachment or a Binary whose contentType is text/*.
void AddAttachmentText(const fhir::Node& node, std::string& content) {
  if (!IsText(node.TextOf("contentType"))) return;
  auto decoded = Base64Decode(node.TextOf("data"));
  if (!decoded) return;
  content += NormalizeForSearch(ToValidUtf8(*decoded));
  content += '\n';
}

class Collector {
 public:
  explicit Collector(FullText& out) : out_(out) {}

  void Visit(const fhir::Node& node) {
    const std::string_view type = node.type == nullptr ? std::string_view() : std::string_view(node.type->name);
    if (node.kind == fhir::JsonKind::kString) {
      if (type == "xhtml") {
        const std::string text = NormalizeForSearch(fhir::NarrativeText(node.text));
        out_.content += text + '\n';
        if (depth_ == 2) out_.narrative += text + '\n';  // the resource's own text.div, not a contained one's
      } else if (type == "string" || type == "markdown") {
        out_.content += NormalizeForSearch(node.text) + '\n';
      }
      return;
    }
    if (type == "Attachment" || type == "Binary") AddAttachmentText(node, out_.content);
    ++depth_;
    for (const fhir::Property& property : node.properties) {
      // A reference's target ("Patient/123") is no text: the reference parameters search it.
      if (type == "Reference" && property.name == "reference") continue;
      for (const fhir::Node& value : property.values) Visit(value);
    }
    --depth_;
  }

 private:
  FullText& out_;
  int depth_ = 0;  // 0: the resource, 1: its elements (text), 2: theirs (text.div)
};

// A term or an operator of a text search, as written.
struct Piece {
  enum Kind { kWord, kPhrase, kAnd, kOr, kNot, kOpen, kClose } kind;
  std::string text;
  bool prefix = false;  // a word ending in '*'
};

Result<std::vector<Piece>> Split(std::string_view text) {
  std::vector<Piece> pieces;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')') {
      pieces.push_back({c == '(' ? Piece::kOpen : Piece::kClose, "", false});
      ++i;
    } else if (c == '"') {
      const std::size_t end = text.find('"', i + 1);
      if (end == std::string_view::npos) return Err(Status::Invalid("a quoted phrase is not closed"));
      pieces.push_back({Piece::kPhrase, std::string(text.substr(i + 1, end - i - 1)), false});
      i = end + 1;
    } else {
      std::size_t end = i;
      while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '(' && text[end] != ')' && text[end] != '"') ++end;
      std::string word(text.substr(i, end - i));
      i = end;
      std::string upper;
      for (char w : word) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(w)));
      if (upper == "AND" || upper == "OR" || upper == "NOT") {
        pieces.push_back({upper == "AND" ? Piece::kAnd : upper == "OR" ? Piece::kOr : Piece::kNot, "", false});
        continue;
      }
      Piece piece{Piece::kWord, std::move(word), false};
      while (!piece.text.empty() && piece.text.back() == '*') {
        piece.text.pop_back();
        piece.prefix = true;
      }
      pieces.push_back(std::move(piece));
    }
  }
  return pieces;
}

// An FTS5 string: double quotes doubled inside.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

// Whether folded text holds something the tokenizer keeps (a letter or a digit).
bool HasTerm(std::string_view folded) {
  for (unsigned char c : folded) {
    if (std::isalnum(c) || c >= 0x80) return true;
  }
  return false;
}

}  // namespace

FullText ExtractFullText(const fhir::Resource& resource) {
  FullText out;
  Collector(out).Visit(resource.root());
  return out;
}

Result<std::string> FullTextQuery(std::string_view text) {
  constexpr int kMaxNesting = 16;  // FTS5's parser has a bounded stack
  CK_ASSIGN_OR_RETURN(std::vector<Piece> pieces, Split(text));
  std::string query;
  int open = 0;
  bool after_term = false;  // the last piece ends a term (a word, a phrase, a closing parenthesis)
  for (const Piece& piece : pieces) {
    switch (piece.kind) {
      case Piece::kWord:
      case Piece::kPhrase: {
        const std::string folded = NormalizeForSearch(piece.text);
        if (!HasTerm(folded)) return Err(Status::Invalid("'" + piece.text + "' has no letter or digit to search for"));
        if (after_term) query += " AND ";
        query += Quoted(folded);
        if (piece.prefix) query += " *";
        after_term = true;
        break;
      }
      case Piece::kAnd:
      case Piece::kOr:
      case Piece::kNot:
        if (!after_term) return Err(Status::Invalid("AND, OR and NOT need a term before them (NOT as in: sepsis NOT shock)"));
        query += piece.kind == Piece::kAnd ? " AND " : piece.kind == Piece::kOr ? " OR " : " NOT ";
        after_term = false;
        break;
      case Piece::kOpen:
        if (after_term) query += " AND ";
        query += "(";
        if (++open > kMaxNesting) return Err(Status::Invalid("parentheses nested more than " + std::to_string(kMaxNesting) + " deep"));
        after_term = false;
        break;
      case Piece::kClose:
        if (open == 0 || !after_term) return Err(Status::Invalid("a parenthesis is closed that was not opened, or closes nothing"));
        query += ")";
        --open;
        after_term = true;
        break;
    }
  }
  if (query.empty()) return Err(Status::Invalid("nothing to search for"));
  if (!after_term || open != 0) return Err(Status::Invalid("the search ends inside a parenthesis or after an operator"));
  return query;
}

}  // namespace ck::search
