#include "fhirpath/parser.h"

#include <cctype>
#include <cstdlib>

namespace ck::fhirpath {
namespace {

enum class TokenKind { kEnd, kIdentifier, kDelimitedIdentifier, kString, kNumber, kDate, kDateTime, kTime, kSymbol, kVariable, kExternal };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::size_t position = 0;
};

constexpr std::string_view kSymbols[] = {"<=", ">=", "!=", "!~", "(", ")", "[", "]", "{", "}", ".", ",", "+", "-", "*",
                                         "/", "&", "|", "=", "~", "<", ">"};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      CK_RETURN_IF_ERROR(SkipSpaceAndComments());
      Token token;
      token.position = pos_;
      if (pos_ >= text_.size()) {
        tokens.push_back(token);
        return tokens;
      }
      char c = text_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        token.kind = TokenKind::kIdentifier;
        token.text = TakeWhile([](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
      } else if (c == '`') {
        token.kind = TokenKind::kDelimitedIdentifier;
        CK_ASSIGN_OR_RETURN(token.text, Quoted('`'));
      } else if (c == '\'') {
        token.kind = TokenKind::kString;
        CK_ASSIGN_OR_RETURN(token.text, Quoted('\''));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        token.kind = TokenKind::kNumber;
        token.text = TakeWhile([](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; });
        if (pos_ + 1 < text_.size() && text_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
          ++pos_;
          token.text += "." + TakeWhile([](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; });
        }
      } else if (c == '@') {
        ++pos_;
        // A '.' belongs to the literal only as the fraction of seconds (before a digit).
        std::size_t start = pos_;
        while (pos_ < text_.size()) {
          char ch = text_[pos_];
          bool fraction = ch == '.' && pos_ + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + 1]));
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == ':' || ch == '+' || fraction)) break;
          ++pos_;
        }
        std::string body(text_.substr(start, pos_ - start));
        if (body.starts_with("T")) {
          token.kind = TokenKind::kTime;
          token.text = body.substr(1);
        } else {
          token.kind = body.find('T') != std::string::npos ? TokenKind::kDateTime : TokenKind::kDate;
          token.text = body;
        }
      } else if (c == '$') {
        ++pos_;
        token.kind = TokenKind::kVariable;
        token.text = TakeWhile([](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; });
      } else if (c == '%') {
        ++pos_;
        token.kind = TokenKind::kExternal;
        if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '`')) {
          CK_ASSIGN_OR_RETURN(token.text, Quoted(text_[pos_]));
        } else {
          token.text = TakeWhile([](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'; });
        }
      } else {
        token.kind = TokenKind::kSymbol;
        for (std::string_view symbol : kSymbols) {
          if (text_.substr(pos_, symbol.size()) == symbol) {
            token.text = symbol;
            break;
          }
        }
        if (token.text.empty()) return Err(Error("unexpected character '" + std::string(1, c) + "'"));
        pos_ += token.text.size();
      }
      tokens.push_back(std::move(token));
    }
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Invalid("FHIRPath syntax error at " + std::to_string(pos_) + ": " + what);
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_, 2) == "/*") {
        std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return Error("unterminated comment");
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  template <typename Predicate>
  std::string TakeWhile(Predicate predicate) {
    std::size_t start = pos_;
    while (pos_ < text_.size() && predicate(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // A quoted string or identifier with FHIRPath escapes.
  Result<std::string> Quoted(char quote) {
    std::size_t start = pos_++;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return Err(Error("bad \\u escape"));
          unsigned code = static_cast<unsigned>(std::strtoul(std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16));
          pos_ += 4;
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: out += e;  // \' \" \` \\ \/
      }
    }
    if (pos_ >= text_.size()) {
      pos_ = start;
      return Err(Error("unterminated quoted text"));
    }
    ++pos_;
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Binding powers, lowest first.
int InfixPower(const Token& t) {
  if (t.kind == TokenKind::kIdentifier) {
    if (t.text == "implies") return 1;
    if (t.text == "or" || t.text == "xor") return 2;
    if (t.text == "and") return 3;
    if (t.text == "in" || t.text == "contains") return 4;
    if (t.text == "is" || t.text == "as") return 8;
    if (t.text == "div" || t.text == "mod") return 10;
    return 0;
  }
  if (t.kind != TokenKind::kSymbol) return 0;
  const std::string& s = t.text;
  if (s == "=" || s == "~" || s == "!=" || s == "!~") return 5;
  if (s == "<" || s == ">" || s == "<=" || s == ">=") return 6;
  if (s == "|") return 7;
  if (s == "+" || s == "-" || s == "&") return 9;
  if (s == "*" || s == "/") return 10;
  if (s == "." || s == "[") return 12;
  return 0;
}

constexpr int kUnaryPower = 11;
// Deepest nesting of sub-expressions accepted: the parser, type checker and evaluator recurse
// over the tree, so this bounds their stack use on hostile input.
constexpr int kMaxDepth = 200;

bool IsCalendarUnit(std::string_view word) {
  static constexpr std::string_view kUnits[] = {"year", "years", "month", "months", "week", "weeks", "day", "days",
                                                "hour", "hours", "minute", "minutes", "second", "seconds",
                                                "millisecond", "milliseconds"};
  for (std::string_view u : kUnits) {
    if (u == word) return true;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    CK_ASSIGN_OR_RETURN(auto expr, ParseExpression(0));
    if (Peek().kind != TokenKind::kEnd) return Err(ErrorAt(Peek(), "expected an operator or the end, found '" + Peek().text + "'"));
    return expr;
  }

 private:
  const Token& Peek(std::size_t ahead = 0) const { return tokens_[std::min(index_ + ahead, tokens_.size() - 1)]; }
  Token Next() { return tokens_[std::min(index_++, tokens_.size() - 1)]; }
  bool IsSymbol(const Token& t, std::string_view s) const { return t.kind == TokenKind::kSymbol && t.text == s; }
  Status ErrorAt(const Token& t, const std::string& what) const {
    return Status::Invalid("FHIRPath syntax error at " + std::to_string(t.position) + ": " + what);
  }
  Status Expect(std::string_view symbol) {
    if (!IsSymbol(Peek(), symbol)) {
      return ErrorAt(Peek(), "expected '" + std::string(symbol) + "'" + (Peek().kind == TokenKind::kEnd ? " before the end" : ""));
    }
    ++index_;
    return Status::Ok();
  }

  Result<std::unique_ptr<Expr>> ParseExpression(int min_power) {
    struct DepthGuard {
      int& depth;
      ~DepthGuard() { --depth; }
    } guard{++depth_};
    if (depth_ > kMaxDepth) return Err(ErrorAt(Peek(), "expression nested deeper than " + std::to_string(kMaxDepth) + " levels"));
    CK_ASSIGN_OR_RETURN(auto left, ParsePrefix());
    while (true) {
      const Token& op = Peek();
      int power = InfixPower(op);
      if (power == 0 || power <= min_power) break;
      Token token = Next();
      if (IsSymbol(token, ".")) {
        CK_ASSIGN_OR_RETURN(auto invocation, ParseInvocation(std::move(left)));
        left = std::move(invocation);
        continue;
      }
      if (IsSymbol(token, "[")) {
        auto index = std::make_unique<Expr>();
        index->kind = Expr::Kind::kIndex;
        index->position = token.position;
        CK_ASSIGN_OR_RETURN(auto inner, ParseExpression(0));
        CK_RETURN_IF_ERROR(Expect("]"));
        index->children.push_back(std::move(left));
        index->children.push_back(std::move(inner));
        left = std::move(index);
        continue;
      }
      if (token.text == "is" || token.text == "as") {
        auto type = std::make_unique<Expr>();
        type->kind = Expr::Kind::kType;
        type->name = token.text;
        type->position = token.position;
        CK_ASSIGN_OR_RETURN(type->type_name, ParseTypeSpecifier());
        type->children.push_back(std::move(left));
        left = std::move(type);
        continue;
      }
      auto binary = std::make_unique<Expr>();
      binary->kind = Expr::Kind::kBinary;
      binary->name = token.text;
      binary->position = token.position;
      // `implies` (power 1) is right-associative: its right side may hold another implies.
      CK_ASSIGN_OR_RETURN(auto right, ParseExpression(power == 1 ? power - 1 : power));
      binary->children.push_back(std::move(left));
      binary->children.push_back(std::move(right));
      left = std::move(binary);
    }
    return left;
  }

  Result<std::string> ParseTypeSpecifier() {
    std::string name;
    while (true) {
      Token t = Next();
      if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kDelimitedIdentifier) {
        return Err(ErrorAt(t, "expected a type name"));
      }
      name += t.text;
      if (!IsSymbol(Peek(), ".") || (Peek(1).kind != TokenKind::kIdentifier && Peek(1).kind != TokenKind::kDelimitedIdentifier)) break;
      ++index_;
      name += ".";
    }
    return name;
  }

  Result<std::unique_ptr<Expr>> ParsePrefix() {
    Token t = Next();
    auto expr = std::make_unique<Expr>();
    expr->position = t.position;
    switch (t.kind) {
      case TokenKind::kEnd: return Err(ErrorAt(t, "expected an expression before the end"));
      case TokenKind::kString:
        expr->kind = Expr::Kind::kLiteral;
        expr->literal = Value::String(t.text);
        return expr;
      case TokenKind::kNumber: return ParseNumber(t, std::move(expr));
      case TokenKind::kDate:
      case TokenKind::kDateTime:
      case TokenKind::kTime: {
        std::optional<Temporal> temporal = t.kind == TokenKind::kDate ? ParseDate(t.text)
                                           : t.kind == TokenKind::kTime ? ParseTime(t.text)
                                                                        : ParseDateTime(t.text.ends_with("T") ? t.text.substr(0, t.text.size() - 1) : t.text);
        if (!temporal) return Err(ErrorAt(t, "malformed date/time literal '@" + t.text + "'"));
        expr->kind = Expr::Kind::kLiteral;
        expr->literal.kind = t.kind == TokenKind::kDate ? ValueKind::kDate : t.kind == TokenKind::kTime ? ValueKind::kTime : ValueKind::kDateTime;
        expr->literal.temporal = *temporal;
        expr->literal.text = t.kind == TokenKind::kDateTime && t.text.ends_with("T") ? t.text.substr(0, t.text.size() - 1) : t.text;
        return expr;
      }
      case TokenKind::kVariable:
        if (t.text == "this") expr->kind = Expr::Kind::kThis;
        else if (t.text == "index") expr->kind = Expr::Kind::kIndexVariable;
        else if (t.text == "total") expr->kind = Expr::Kind::kTotal;
        else return Err(ErrorAt(t, "unknown variable $" + t.text));
        return expr;
      case TokenKind::kExternal:
        expr->kind = Expr::Kind::kExternal;
        expr->name = t.text;
        return expr;
      case TokenKind::kSymbol:
        if (t.text == "(") {
          CK_ASSIGN_OR_RETURN(auto inner, ParseExpression(0));
          CK_RETURN_IF_ERROR(Expect(")"));
          return inner;
        }
        if (t.text == "{") {
          CK_RETURN_IF_ERROR(Expect("}"));
          expr->kind = Expr::Kind::kEmpty;
          return expr;
        }
        if (t.text == "-" || t.text == "+") {
          expr->kind = Expr::Kind::kUnary;
          expr->name = t.text;
          CK_ASSIGN_OR_RETURN(auto operand, ParseExpression(kUnaryPower));
          expr->children.push_back(std::move(operand));
          return expr;
        }
        return Err(ErrorAt(t, "expected an expression, found '" + t.text + "'"));
      case TokenKind::kIdentifier:
        if (t.text == "true" || t.text == "false") {
          expr->kind = Expr::Kind::kLiteral;
          expr->literal = Value::Boolean(t.text == "true");
          return expr;
        }
        [[fallthrough]];
      case TokenKind::kDelimitedIdentifier:
        --index_;
        return ParseInvocation(nullptr);
    }
    return Err(ErrorAt(t, "expected an expression"));
  }

  Result<std::unique_ptr<Expr>> ParseNumber(const Token& t, std::unique_ptr<Expr> expr) {
    expr->kind = Expr::Kind::kLiteral;
    bool is_decimal = t.text.find('.') != std::string::npos;
    int places = is_decimal ? static_cast<int>(t.text.size() - t.text.find('.') - 1) : 0;
    std::optional<double> number = ToDouble(t.text);
    if (!number) return Err(ErrorAt(t, "number out of range"));
    const Token& unit = Peek();
    if (unit.kind == TokenKind::kString || (unit.kind == TokenKind::kIdentifier && IsCalendarUnit(unit.text))) {
      ++index_;
      expr->literal = Value::Quantity(*number, places, unit.text);
      return expr;
    }
    if (is_decimal) {
      expr->literal = Value::Decimal(*number, places);
    } else {
      errno = 0;
      long long value = std::strtoll(t.text.c_str(), nullptr, 10);
      if (errno == ERANGE || value > INT32_MAX) return Err(ErrorAt(t, "integer literal out of range"));
      expr->literal = Value::Integer(value);
    }
    return expr;
  }

  // identifier | identifier '(' params ')' after an optional target.
  Result<std::unique_ptr<Expr>> ParseInvocation(std::unique_ptr<Expr> target) {
    Token t = Next();
    auto expr = std::make_unique<Expr>();
    expr->position = t.position;
    if (t.kind == TokenKind::kVariable && target == nullptr) {
      --index_;
      return ParsePrefix();
    }
    if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kDelimitedIdentifier) {
      return Err(ErrorAt(t, "expected a name or a function after '.'"));
    }
    expr->name = t.text;
    expr->has_target = target != nullptr;
    if (target) expr->children.push_back(std::move(target));
    if (t.kind == TokenKind::kIdentifier && IsSymbol(Peek(), "(")) {
      ++index_;
      expr->kind = Expr::Kind::kFunction;
      if (!IsSymbol(Peek(), ")")) {
        while (true) {
          CK_ASSIGN_OR_RETURN(auto argument, ParseExpression(0));
          expr->children.push_back(std::move(argument));
          if (!IsSymbol(Peek(), ",")) break;
          ++index_;
        }
      }
      CK_RETURN_IF_ERROR(Expect(")"));
      return expr;
    }
    expr->kind = Expr::Kind::kMember;
    return expr;
  }

  std::vector<Token> tokens_;
  std::size_t index_ = 0;
  int depth_ = 0;
};

// The depth of the tree, measured without recursion (left-associative chains such as
// `1+1+1+...` are parsed by a loop but still make deep trees).
std::size_t TreeDepth(const Expr& root) {
  std::size_t deepest = 0;
  std::vector<std::pair<const Expr*, std::size_t>> pending{{&root, 1}};
  while (!pending.empty()) {
    auto [expr, depth] = pending.back();
    pending.pop_back();
    deepest = std::max(deepest, depth);
    for (const auto& child : expr->children) pending.emplace_back(child.get(), depth + 1);
  }
  return deepest;
}

}  // namespace

Result<std::unique_ptr<Expr>> Parse(std::string_view text) {
  CK_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text).Run());
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Expr> root, Parser(std::move(tokens)).ParseAll());
  if (TreeDepth(*root) > static_cast<std::size_t>(kMaxDepth)) {
    return Err(Status::Invalid("FHIRPath syntax error at 0: expression nested deeper than " + std::to_string(kMaxDepth) + " levels"));
  }
  return root;
}

}  // namespace ck::fhirpath
