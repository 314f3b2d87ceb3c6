#pragma once
// The sign-in pages of /auth/authorize (access/authorization_flow.h does the work): small
// server-rendered HTML forms with no scripts and no styles from elsewhere, under a strict
// Content-Security-Policy (nothing may load, no framing), plus the CSRF cookie: each page sets
// `ck_csrf_<sign-in>` (HttpOnly, SameSite=Strict, Secure over HTTPS) to the token its form
// carries, and a posted form whose token differs from the cookie is refused before it reaches
// the flow, so another site cannot post a form into someone's browser session (login CSRF).
// Thread safety: safe from any thread.

#include "access/access_control.h"
#include "rest/auth_api.h"
#include "rest/http_message.h"

namespace ck::rest {

// GET /auth/authorize (the app's request in the query) or POST (a sign-in form). `secure`: the
// server is reached over HTTPS (cookies marked Secure).
HttpResponse AuthorizeResponse(access::AccessControl& access, const HttpRequest& request, bool secure, AuthEvent& event);

}  // namespace ck::rest
