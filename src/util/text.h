#pragma once
// Text helpers: splitting table lines, and making untrusted bytes safe for the places they end
// up: JSON strings declared as UTF-8 and log lines (one event per line, nothing a client sends can
// start a line of its own).
// Thread safety: pure functions.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck {

// The parts of `text` between `separator`s (n separators give n + 1 parts, empty ones kept);
// views into `text`. For the generated tables' lines and fields.
std::vector<std::string_view> Split(std::string_view text, char separator);

// `text` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimSpaces(std::string_view text);
// `text` with ASCII letters lower-cased (header names, media types, codings).
std::string ToLowerAscii(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters (URLs, form values).
std::string PercentEncode(std::string_view text);
// Parameters as a query string: "name=value&..." with names and values percent-encoded.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& parameters);
// Whether `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoringCase(std::string_view a, std::string_view b);

// `text` with every byte sequence that is not valid UTF-8 replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

// Appends `text` to `out` with control characters (below 0x20, and 0x7F) and bytes that are not
// valid UTF-8 written as \xNN, and backslashes doubled, so the result is one printable line.
void AppendEscapedForLog(std::string& out, std::string_view text);

}  // namespace ck
