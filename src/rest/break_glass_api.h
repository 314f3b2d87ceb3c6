#pragma once
// Emergency access ("break the glass", HIPAA 164.312(a)(2)(ii)): POST /auth/break-glass with a
// signed-in user's bearer token and a form of `patient` (a Patient id) and `reason`. A user whose
// role may break the glass gets a token that reads and searches that patient's whole record for
// an hour (access/access_control.h), beyond what their app's scopes allow; before it is issued,
// an alert for the privacy officer is stored as a FHIR Flag on the patient (who, until when, why)
// and a warning without PHI is logged. Every request made with the token is marked in the log.
// Thread safety: safe from any thread.

#include "access/access_control.h"
#include "records/record_service.h"
#include "rest/auth_api.h"
#include "rest/http_message.h"

namespace ck::rest {

// `context`: the request's (its audit records, the caller's address), filled here with the
// caller once authenticated.
HttpResponse BreakGlassResponse(access::AccessControl& access, records::RecordService& records, const HttpRequest& request,
                                records::RequestContext context, AuthEvent& event);

}  // namespace ck::rest
