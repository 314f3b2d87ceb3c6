#include "access/jwt.h"

#include <cmath>
#include <optional>

#include "util/crypto.h"

namespace ck::access {

namespace {

constexpr unsigned kMaxJsonDepth = 8;

Status Refused(const std::string& why) { return Status(StatusCode::kUnauthenticated, "invalid token: " + why); }

JsonValue Text(std::string_view text) { return {JsonValue::Kind::kString, std::string(text), {}, {}}; }

Result<JsonValue> DecodeObject(std::string_view part, std::string_view what) {
  Result<std::string> json = Base64UrlDecode(part);
  if (!json) return Err(Refused(std::string(what) + " is not base64url"));
  Result<JsonValue> value = ParseJsonValue(*json, kMaxJsonDepth);
  if (!value || !value->is_object()) return Err(Refused(std::string(what) + " is not a JSON object"));
  return value;
}

const std::string* StringClaim(const JsonValue& object, std::string_view name) {
  const JsonValue* value = object.Find(name);
  return value && value->kind == JsonValue::Kind::kString ? &value->text : nullptr;
}

}  // namespace

std::optional<std::int64_t> NumericClaim(const JsonValue& claims, std::string_view name) {
  const JsonValue* value = claims.Find(name);
  if (!value || value->kind != JsonValue::Kind::kNumber) return std::nullopt;
  try {
    const double seconds = std::stod(value->text);
    if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15) return std::nullopt;
    return static_cast<std::int64_t>(std::floor(seconds));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Result<std::string> SignJwt(const JoseKey& key, const JsonValue& claims) {
  JsonValue header{JsonValue::Kind::kObject, {}, {}, {}};
  header.members.emplace_back("alg", Text(JoseAlgorithmName(key.algorithm())));
  header.members.emplace_back("typ", Text("JWT"));
  header.members.emplace_back("kid", Text(key.kid()));
  const std::string signing_input = Base64UrlEncode(WriteJsonValue(header)) + "." + Base64UrlEncode(WriteJsonValue(claims));
  CK_ASSIGN_OR_RETURN(std::string signature, key.Sign(signing_input));
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<JsonValue> VerifyJwt(std::string_view token, const JwtKeyLookup& keys, const JwtCheck& check) {
  if (token.size() > kMaxJwtBytes) return Err(Refused("too long"));
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Err(Refused("not a signed JWT (three parts)"));
  }
  CK_ASSIGN_OR_RETURN(JsonValue header, DecodeObject(token.substr(0, first), "the header"));
  const std::string* alg = StringClaim(header, "alg");
  if (!alg) return Err(Refused("the header names no algorithm"));
  if (header.Find("crit")) return Err(Refused("critical header extensions are not supported"));
  const std::string* kid = StringClaim(header, "kid");
  const JoseKey* key = keys(kid ? std::string_view(*kid) : std::string_view());
  if (!key) return Err(Refused("signed with a key this server does not know"));
  // The key decides the algorithm; a header naming another (none, HS256...) is refused.
  if (*alg != JoseAlgorithmName(key->algorithm())) return Err(Refused("algorithm " + *alg + " is not accepted for this key"));
  Result<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!signature || !key->Verify(token.substr(0, second), *signature)) return Err(Refused("the signature does not match"));
  CK_ASSIGN_OR_RETURN(JsonValue claims, DecodeObject(token.substr(first + 1, second - first - 1), "the payload"));

  const std::int64_t now = check.now / 1000;
  const std::optional<std::int64_t> exp = NumericClaim(claims, "exp");
  if (!exp) return Err(Refused("no expiry (exp)"));
  if (now - check.leeway_seconds >= *exp) return Err(Refused("expired"));
  if (check.max_lifetime_seconds > 0 && *exp - now > check.max_lifetime_seconds + check.leeway_seconds) {
    return Err(Refused("expires too far in the future"));
  }
  if (claims.Find("nbf")) {
    const std::optional<std::int64_t> nbf = NumericClaim(claims, "nbf");
    if (!nbf || *nbf > now + check.leeway_seconds) return Err(Refused("not yet valid"));
  }
  if (claims.Find("iat")) {
    const std::optional<std::int64_t> iat = NumericClaim(claims, "iat");
    if (!iat || *iat > now + check.leeway_seconds) return Err(Refused("issued in the future"));
  }
  if (!check.issuer.empty()) {
    const std::string* iss = StringClaim(claims, "iss");
    if (!iss || *iss != check.issuer) return Err(Refused("issued by someone else"));
  }
  if (!check.audience.empty()) {
    const JsonValue* aud = claims.Find("aud");
    auto ours = [&](const JsonValue& value) {
      return value.kind == JsonValue::Kind::kString &&
             (value.text == check.audience || (!check.other_audience.empty() && value.text == check.other_audience));
    };
    bool found = aud && ours(*aud);
    if (aud && aud->is_array()) {
      for (const JsonValue& item : aud->items) found = found || ours(item);
    }
    if (!found) return Err(Refused("meant for another audience"));
  }
  return claims;
}

}  // namespace ck::access
