#pragma once
// The OAuth2 / SMART endpoints beside the FHIR API (access/access_control.h does the work):
//   GET|POST /auth/authorize              the sign-in pages (rest/login_page.h)
//   POST /auth/token                      client_credentials, authorization_code, refresh_token (a form body; RFC 6749)
//   POST /auth/introspect                 RFC 7662
//   POST /auth/revoke                     RFC 7009
//   GET  /auth/jwks                       the public keys that sign access tokens
//   GET  /.well-known/smart-configuration what a SMART client discovers
// and the answer to a request without a valid token (401 with WWW-Authenticate, RFC 6750).
// Thread safety: safe from any thread.

#include "access/access_control.h"
#include "rest/http_message.h"

namespace ck::rest {

// What an OAuth2, sign-in or emergency-access request did, for the audit trail: each response
// below fills it, and the FHIR API records it.
struct AuthEvent {
  std::string subtype;  // token, introspect, revoke, login, password-change, totp-enroll, consent, break-glass; empty: nothing to record
  std::string user;
  std::string client;
  std::string detail;   // the grant type, the step
  std::string patient;  // break the glass: whose records
  std::string reason;   // break the glass: the reason given
  Status outcome;
};

// POST /auth/token. Never throws; errors are RFC 6749 JSON error responses.
HttpResponse TokenResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event);
HttpResponse IntrospectionResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event);
HttpResponse RevocationResponse(access::AccessControl& access, const HttpRequest& request, AuthEvent& event);
HttpResponse JwksResponse(access::AccessControl& access);
HttpResponse SmartConfigurationResponse(const access::AccessControl& access);
// 401 with an OperationOutcome and `WWW-Authenticate: Bearer ...` (error="invalid_token" when a
// token was sent).
HttpResponse UnauthorizedResponse(const Status& status, bool token_sent);

}  // namespace ck::rest
