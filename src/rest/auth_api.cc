#include "rest/auth_api.h"

#include <algorithm>
#include <cctype>

#include "rest/operation_outcome.h"
#include "util/crypto.h"
#include "util/json_value.h"

namespace ck::rest {

namespace {

constexpr std::size_t kMaxTokenRequestBytes = 64 * 1024;

HttpResponse Json(int status, const JsonValue& body) {
  HttpResponse response;
  response.status = status;
  response.body = WriteJsonValue(body);
  response.With("Content-Type", "application/json").With("Cache-Control", "no-store").With("Pragma", "no-cache");
  return response;
}

HttpResponse OAuthErrorResponse(const access::OAuthError& error, bool basic) {
  JsonValue body = JsonObject();
  body.members.emplace_back("error", JsonString(error.error));
  body.members.emplace_back("error_description", JsonString(error.description));
  HttpResponse response = Json(error.http_status, body);
  if (error.http_status == 401) response.With("WWW-Authenticate", basic ? "Basic realm=\"chartkeeper\"" : "Bearer realm=\"chartkeeper\"");
  return response;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

// client_id:client_secret from "Basic <base64>", each form-urlencoded (RFC 6749 section 2.3.1).
std::optional<std::pair<std::string, std::string>> BasicCredentials(std::string_view header) {
  std::string encoded(header.substr(6));
  encoded.erase(0, encoded.find_first_not_of(' '));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  std::replace(encoded.begin(), encoded.end(), '+', '-');
  std::replace(encoded.begin(), encoded.end(), '/', '_');
  Result<std::string> decoded = Base64UrlDecode(encoded);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = ParseQuery("x=" + decoded->substr(0, colon));
  auto secret = ParseQuery("x=" + decoded->substr(colon + 1));
  if (!id || !secret || id->size() != 1 || secret->size() != 1) return std::nullopt;
  return std::pair((*id)[0].second, (*secret)[0].second);
}

// The form of a request to the token, introspection or revocation endpoint, with the client's
// Basic credentials; or the error answer.
tl::expected<access::TokenRequest, HttpResponse> ReadTokenForm(const HttpRequest& request) {
  const std::string_view authorization = request.Header("authorization");
  const bool basic = StartsWithNoCase(authorization, "basic ");
  auto fail = [&](std::string error, std::string description, int status = 400) {
    return tl::unexpected(OAuthErrorResponse({std::move(error), std::move(description), status}, basic));
  };
  if (request.method != "POST") {
    HttpResponse refused = OAuthErrorResponse({"invalid_request", "this endpoint takes POST", 405}, basic);
    refused.With("Allow", "POST");
    return tl::unexpected(std::move(refused));
  }
  if (!StartsWithNoCase(request.Header("content-type"), "application/x-www-form-urlencoded")) {
    return fail("invalid_request", "send the parameters as application/x-www-form-urlencoded");
  }
  if (request.body.size() > kMaxTokenRequestBytes) return fail("invalid_request", "the request is too large");
  if (!request.query.empty()) return fail("invalid_request", "send the parameters in the body, not the URL");
  std::optional<QueryParameters> form = ParseQuery(request.body);
  if (!form) return fail("invalid_request", "the form body is not well-formed");
  access::TokenRequest out;
  const FormField<access::TokenRequest> fields[] = {
      {"grant_type", &access::TokenRequest::grant_type},
      {"scope", &access::TokenRequest::scope},
      {"client_id", &access::TokenRequest::client_id},
      {"client_assertion_type", &access::TokenRequest::client_assertion_type},
      {"client_assertion", &access::TokenRequest::client_assertion},
      {"code", &access::TokenRequest::code},
      {"redirect_uri", &access::TokenRequest::redirect_uri},
      {"code_verifier", &access::TokenRequest::code_verifier},
      {"refresh_token", &access::TokenRequest::refresh_token},
      {"token", &access::TokenRequest::token},
      {"token_type_hint", &access::TokenRequest::token_type_hint},
  };
  if (auto twice = FillForm(*form, fields, out)) return fail("invalid_request", "parameter " + *twice + " given twice");
  for (const auto& parameter : *form) {
    if (parameter.first == "client_secret") {
      return fail("invalid_request", "send the client secret with HTTP Basic authentication, not in the body");
    }
  }
  if (basic) {
    auto credentials = BasicCredentials(authorization);
    if (!credentials) return fail("invalid_client", "the Basic credentials cannot be read", 401);
    out.basic_client_id = credentials->first;
    out.basic_secret = credentials->second;
  }
  return out;
}

bool SentBasic(const HttpRequest& request) { return StartsWithNoCase(request.Header("authorization"), "basic "); }

}  // namespace

namespace {

// The event of a token endpoint's request, once its form is read.
void Describe(AuthEvent& event, std::string subtype, const access::TokenRequest& form) {
  event.subtype = std::move(subtype);
  event.client = !form.client_id.empty() ? form.client_id : !form.basic_client_id.empty() ? form.basic_client_id : "";
  event.detail = form.grant_type.empty() ? form.token_type_hint : form.grant_type;
}

Status Refused(const access::OAuthError& error) {
  return Status(error.http_status == 401 ? StatusCode::kUnauthenticated : StatusCode::kInvalid, error.error + ": " + error.description);
}

}  // namespace

HttpResponse TokenResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event) {
  auto form = ReadTokenForm(request);
  if (!form) return std::move(form.error());
  Describe(event, "token", *form);
  auto issued = access.Token(*form);
  if (!issued) {
    event.outcome = Refused(issued.error());
    return OAuthErrorResponse(issued.error(), SentBasic(request));
  }
  event.patient = issued->patient;
  JsonValue body = JsonObject();
  body.members.emplace_back("access_token", JsonString(issued->access_token));
  body.members.emplace_back("token_type", JsonString("bearer"));
  body.members.emplace_back("expires_in", JsonNumber(issued->expires_in));
  body.members.emplace_back("scope", JsonString(issued->scope));
  if (!issued->refresh_token.empty()) body.members.emplace_back("refresh_token", JsonString(issued->refresh_token));
  if (!issued->id_token.empty()) body.members.emplace_back("id_token", JsonString(issued->id_token));
  if (!issued->patient.empty()) body.members.emplace_back("patient", JsonString(issued->patient));
  return Json(200, body);
}

HttpResponse IntrospectionResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event) {
  auto form = ReadTokenForm(request);
  if (!form) return std::move(form.error());
  Describe(event, "introspect", *form);
  auto answer = access.Introspect(*form);
  if (!answer) {
    event.outcome = Refused(answer.error());
    return OAuthErrorResponse(answer.error(), SentBasic(request));
  }
  return Json(200, *answer);
}

HttpResponse RevocationResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event) {
  auto form = ReadTokenForm(request);
  if (!form) return std::move(form.error());
  Describe(event, "revoke", *form);
  auto done = access.Revoke(*form);
  if (!done) {
    event.outcome = Refused(done.error());
    return OAuthErrorResponse(done.error(), SentBasic(request));
  }
  return Json(200, JsonObject());
}

HttpResponse JwksResponse(access::AccessControl& access) {
  HttpResponse response = Json(200, access.Jwks());
  response.headers.clear();
  response.With("Content-Type", "application/jwk-set+json").With("Cache-Control", "max-age=300");
  return response;
}

HttpResponse SmartConfigurationResponse(const access::AccessControl& access) {
  HttpResponse response;
  response.body = access.SmartConfiguration();
  response.With("Content-Type", "application/json");
  return response;
}

HttpResponse UnauthorizedResponse(const Status& status, bool token_sent) {
  HttpResponse response = ErrorResponse(status);
  response.With("WWW-Authenticate", token_sent ? "Bearer realm=\"chartkeeper\", error=\"invalid_token\"" : "Bearer realm=\"chartkeeper\"");
  return response;
}

}  // namespace ck::rest
