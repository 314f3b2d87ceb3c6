#include "access/totp.h"

#include <cctype>

namespace ck::access {

namespace {
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kSecretBytes = 20;
constexpr int kRecoveryCodes = 10;

// Percent-encoding of a URI component (RFC 3986 unreserved characters stay).
std::string EncodeComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}
}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int value = upper >= 'A' && upper <= 'Z' ? upper - 'A' : upper >= '2' && upper <= '7' ? upper - '2' + 26 : -1;
    if (value < 0) return Err(Status::Invalid("not base32: a character outside A-Z and 2-7"));
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string Hotp(std::string_view key, std::uint64_t counter, int digits, HmacDigest digest) {
  std::string message(8, '\0');
  for (int i = 7; i >= 0; --i, counter >>= 8) message[static_cast<std::size_t>(i)] = static_cast<char>(counter & 0xFF);
  const std::string mac = Hmac(digest, key, message);
  // Dynamic truncation (RFC 4226 section 5.3).
  const std::size_t offset = static_cast<unsigned char>(mac.back()) & 0xF;
  const std::uint32_t binary = ((static_cast<unsigned char>(mac[offset]) & 0x7F) << 24) |
                               (static_cast<unsigned char>(mac[offset + 1]) << 16) |
                               (static_cast<unsigned char>(mac[offset + 2]) << 8) | static_cast<unsigned char>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::int64_t TotpStep(Millis now) {
  const std::int64_t seconds = now >= 0 ? now / 1000 : (now - 999) / 1000;
  return seconds >= 0 ? seconds / kTotpStepSeconds : (seconds - kTotpStepSeconds + 1) / kTotpStepSeconds;
}

std::optional<std::int64_t> MatchTotp(std::string_view key, std::string_view code, Millis now, std::int64_t last_used_step) {
  if (code.size() != kTotpDigits) return std::nullopt;
  const std::int64_t current = TotpStep(now);
  for (std::int64_t step : {current - 1, current, current + 1}) {
    if (step <= last_used_step || step < 0) continue;
    if (ConstantTimeEquals(Hotp(key, static_cast<std::uint64_t>(step)), code)) return step;
  }
  return std::nullopt;
}

Result<std::string> NewTotpSecret() { return RandomBytes(kSecretBytes); }

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view key) {
  return "otpauth://totp/" + EncodeComponent(issuer) + ":" + EncodeComponent(account) + "?secret=" + Base32Encode(key) +
         "&issuer=" + EncodeComponent(issuer) + "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpStepSeconds);
}

Result<std::vector<std::string>> NewRecoveryCodes() {
  std::vector<std::string> codes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    CK_ASSIGN_OR_RETURN(std::string code, RandomString(10, "abcdefghijkmnpqrstuvwxyz23456789"));
    codes.push_back(code.substr(0, 5) + "-" + code.substr(5));
  }
  return codes;
}

std::string RecoveryCodeHash(std::string_view code) {
  std::string canonical;
  for (char c : code) {
    if (c != '-' && c != ' ') canonical.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return Sha256Hex(canonical);
}

}  // namespace ck::access
