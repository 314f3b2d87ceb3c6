#include "rest/login_page.h"

#include "util/crypto.h"
#include "util/text.h"

namespace ck::rest {

namespace {

constexpr std::size_t kMaxFormBytes = 16 * 1024;
constexpr char kCookiePrefix[] = "ck_csrf_";

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// What a scope lets the app do, in words.
std::string Explain(std::string_view scope) {
  if (scope == "openid") return "know who you are";
  if (scope == "fhirUser") return "know which FHIR resource you are (your Practitioner or Patient record)";
  if (scope == "launch/patient") return "work with one patient's record, chosen below";
  if (scope == "offline_access") return "keep access while you are away (until you revoke it)";
  if (scope == "online_access") return "keep access while you use it";
  std::string out;
  const std::size_t slash = scope.find('/');
  const std::size_t dot = scope.find('.', slash);
  if (slash == std::string_view::npos || dot == std::string_view::npos) return std::string(scope);
  const std::string_view context = scope.substr(0, slash);
  const std::string_view type = scope.substr(slash + 1, dot - slash - 1);
  const std::string_view letters = scope.substr(dot + 1, scope.find('?') == std::string_view::npos ? std::string_view::npos
                                                                                                  : scope.find('?') - dot - 1);
  const std::pair<char, const char*> verbs[] = {{'c', "create"}, {'r', "read"}, {'u', "update"}, {'d', "delete"}, {'s', "search"}};
  for (const auto& [letter, verb] : verbs) {
    if (letters.find(letter) != std::string_view::npos) out += (out.empty() ? "" : ", ") + std::string(verb);
  }
  out += type == "*" ? " all kinds of records" : " " + std::string(type) + " records";
  out += context == "patient" ? " of the chosen patient" : " you may see";
  if (scope.find('?') != std::string_view::npos) out += " (only those matching " + std::string(scope.substr(scope.find('?') + 1)) + ")";
  return out;
}

std::string Hidden(const access::LoginStep& step, std::string_view name) {
  return "<input type=\"hidden\" name=\"login\" value=\"" + Escape(step.login) + "\">" + "<input type=\"hidden\" name=\"csrf\" value=\"" +
         Escape(step.csrf) + "\">" + "<input type=\"hidden\" name=\"step\" value=\"" + std::string(name) + "\">";
}

std::string Body(const access::LoginStep& step) {
  using Kind = access::LoginStep::Kind;
  std::string html;
  if (!step.client_name.empty()) html += "<p><strong>" + Escape(step.client_name) + "</strong> asks you to sign in.</p>";
  if (!step.message.empty()) html += "<p role=\"alert\">" + Escape(step.message) + "</p>";
  switch (step.kind) {
    case Kind::kSignIn:
      html += "<form method=\"post\" action=\"/auth/authorize\">" + Hidden(step, "sign-in") +
              "<p><label>User name <input name=\"user\" autocomplete=\"username\" required autofocus></label></p>"
              "<p><label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>"
              "<p><label>One-time code (if you use two-factor) <input name=\"code\" autocomplete=\"one-time-code\" "
              "inputmode=\"numeric\"></label></p>"
              "<p><button type=\"submit\">Sign in</button></p></form>";
      break;
    case Kind::kChangePassword:
      html += "<form method=\"post\" action=\"/auth/authorize\">" + Hidden(step, "password") +
              "<p><label>New password <input name=\"new_password\" type=\"password\" autocomplete=\"new-password\" required "
              "minlength=\"12\"></label></p>"
              "<p><label>Again <input name=\"new_password_again\" type=\"password\" autocomplete=\"new-password\" required></label></p>"
              "<p><button type=\"submit\">Change password</button></p></form>";
      break;
    case Kind::kEnrollTotp:
      html += "<p>Add this key to your authenticator app, then enter the code it shows.</p>"
              "<p>Key: <code>" + Escape(step.totp_secret) + "</code></p>"
              "<p>Or open: <code>" + Escape(step.otpauth_uri) + "</code></p>"
              "<p>Recovery codes (each works once if you lose the app; keep them safe, they are shown only now):</p><ul>";
      for (const std::string& code : step.recovery_codes) html += "<li><code>" + Escape(code) + "</code></li>";
      html += "</ul><form method=\"post\" action=\"/auth/authorize\">" + Hidden(step, "totp") +
              "<p><label>Code <input name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required></label></p>"
              "<p><button type=\"submit\">Confirm</button></p></form>";
      break;
    case Kind::kConsent:
      html += "<p>Signed in as <strong>" + Escape(step.user) + "</strong>. The app will be able to:</p><ul>";
      for (const std::string& scope : step.scopes) html += "<li>" + Escape(Explain(scope)) + " <code>" + Escape(scope) + "</code></li>";
      html += "</ul><form method=\"post\" action=\"/auth/authorize\">" + Hidden(step, "consent");
      if (step.ask_patient) html += "<p><label>Patient id <input name=\"patient\" required></label></p>";
      html += "<p><button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button> "
              "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p></form>";
      break;
    default:
      break;
  }
  return html;
}

HttpResponse Page(const access::LoginStep& step, bool secure) {
  HttpResponse response;
  response.status = step.http_status;
  response.body = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chartkeeper sign-in</title>"
                  "<meta name=\"viewport\" content=\"width=device-width\"></head><body><h1>Chartkeeper</h1>" +
                  Body(step) + "</body></html>\n";
  response.With("Content-Type", "text/html; charset=utf-8")
      .With("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
      .With("X-Frame-Options", "DENY")
      .With("Referrer-Policy", "no-referrer");
  if (!step.login.empty()) {
    response.With("Set-Cookie", kCookiePrefix + step.login.substr(0, 16) + "=" + step.csrf +
                                    "; Path=/auth/authorize; Max-Age=600; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : ""));
  }
  return response;
}

access::LoginStep ErrorStep(int status, std::string message) {
  access::LoginStep step;
  step.http_status = status;
  step.message = std::move(message);
  return step;
}

// The value of cookie `name` in a Cookie header, or empty.
std::string CookieValue(std::string_view header, std::string_view name) {
  for (std::string_view pair : Split(header, ';')) {
    pair = TrimSpaces(pair);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
  }
  return "";
}

}  // namespace

HttpResponse AuthorizeResponse(access::AccessControl& access, const HttpRequest& request, bool secure, AuthEvent& event) {
  access::LoginStep step;
  if (request.method == "GET") {
    access::AuthorizeRequest asked;
    const FormField<access::AuthorizeRequest> fields[] = {
        {"response_type", &access::AuthorizeRequest::response_type},
        {"client_id", &access::AuthorizeRequest::client_id},
        {"redirect_uri", &access::AuthorizeRequest::redirect_uri},
        {"scope", &access::AuthorizeRequest::scope},
        {"state", &access::AuthorizeRequest::state},
        {"aud", &access::AuthorizeRequest::aud},
        {"code_challenge", &access::AuthorizeRequest::code_challenge},
        {"code_challenge_method", &access::AuthorizeRequest::code_challenge_method},
        {"nonce", &access::AuthorizeRequest::nonce},
    };
    if (auto twice = FillForm(request.query, fields, asked)) return Page(ErrorStep(400, "parameter " + *twice + " given twice"), secure);
    asked.address = request.peer;
    step = access.Authorize(asked);
  } else if (request.method == "POST") {
    std::optional<QueryParameters> form;
    if (!EqualsIgnoringCase(request.Header("content-type").substr(0, 33), "application/x-www-form-urlencoded") ||
        request.body.size() > kMaxFormBytes || !(form = ParseQuery(request.body))) {
      return Page(ErrorStep(400, "the sign-in form could not be read"), secure);
    }
    access::LoginForm posted;
    const FormField<access::LoginForm> fields[] = {
        {"login", &access::LoginForm::login},           {"csrf", &access::LoginForm::csrf},
        {"step", &access::LoginForm::step},             {"user", &access::LoginForm::user},
        {"password", &access::LoginForm::password},     {"code", &access::LoginForm::code},
        {"new_password", &access::LoginForm::new_password}, {"new_password_again", &access::LoginForm::new_password_again},
        {"decision", &access::LoginForm::decision},     {"patient", &access::LoginForm::patient},
    };
    if (auto twice = FillForm(*form, fields, posted)) return Page(ErrorStep(400, "field " + *twice + " given twice"), secure);
    const std::string cookie = CookieValue(request.Header("cookie"), kCookiePrefix + posted.login.substr(0, 16));
    if (posted.csrf.empty() || !ConstantTimeEquals(cookie, posted.csrf)) {
      return Page(ErrorStep(403, "the form did not come from this sign-in (CSRF check); start again from the app"), secure);
    }
    posted.address = request.peer;
    step = access.SubmitLogin(posted);
    // Each step of the sign-in that went on (or not) is an event of the audit trail.
    using Kind = access::LoginStep::Kind;
    const Kind asked = posted.step == "sign-in" ? Kind::kSignIn : posted.step == "password" ? Kind::kChangePassword
                       : posted.step == "totp"  ? Kind::kEnrollTotp : Kind::kConsent;
    event.subtype = asked == Kind::kSignIn ? "login" : asked == Kind::kChangePassword ? "password-change"
                    : asked == Kind::kEnrollTotp ? "totp-enroll" : "consent";
    event.user = asked == Kind::kSignIn ? posted.user.substr(0, 64) : step.user;
    event.detail = posted.step;
    if (step.kind == Kind::kError || step.kind == asked) {
      event.outcome = Status(step.http_status == 401 || step.http_status == 429 ? StatusCode::kUnauthenticated : StatusCode::kInvalid,
                             step.message.empty() ? "refused" : step.message);
    } else if (asked == Kind::kConsent && step.redirect.find("error=access_denied") != std::string::npos) {
      event.outcome = Status(StatusCode::kForbidden, "the user did not allow the app");
    }
  } else {
    HttpResponse response = Page(ErrorStep(405, "use GET or POST"), secure);
    response.With("Allow", "GET, POST");
    return response;
  }
  if (step.kind == access::LoginStep::Kind::kRedirect) {
    HttpResponse response;
    response.status = 302;
    response.With("Location", step.redirect).With("Referrer-Policy", "no-referrer");
    return response;
  }
  return Page(step, secure);
}

}  // namespace ck::rest
