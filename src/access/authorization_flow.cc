#include "access/authorization_flow.h"

#include <algorithm>

#include "access/password_hash.h"
#include "access/totp.h"
#include "access/two_factor.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/text.h"

namespace ck::access {

namespace {

constexpr Millis kSignInLifetime = 10 * 60 * 1000;
constexpr Millis kCodeLifetime = 60 * 1000;
constexpr std::size_t kMaxPending = 10'000;
constexpr std::size_t kMaxPendingPerAddress = 50;
constexpr std::size_t kMaxCodes = 10'000;
constexpr std::size_t kMaxParameterBytes = 4096;

tl::unexpected<OAuthError> InvalidGrant(std::string description) {
  return tl::unexpected<OAuthError>(OAuthError{"invalid_grant", std::move(description), 400});
}

LoginStep ErrorPage(int status, std::string message) {
  LoginStep step;
  step.kind = LoginStep::Kind::kError;
  step.http_status = status;
  step.message = std::move(message);
  return step;
}

Result<std::string> NewSecret() {
  CK_ASSIGN_OR_RETURN(std::string bytes, RandomBytes(32));
  return Base64UrlEncode(bytes);
}

// A Patient id as FHIR allows ids.
bool IsResourceId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

std::string FormatUtc(Millis when) {
  const std::string text = FormatInstant(when);
  return text.substr(0, 16).replace(10, 1, " ") + " UTC";
}

}  // namespace

AuthorizationFlow::AuthorizationFlow(AccountDirectory& accounts, const AccessPolicy& policy, const Clock& clock, ClientLookup clients,
                                     std::function<void(const User&)> user_changed, AuthorizationFlowOptions options)
    : accounts_(accounts),
      policy_(policy),
      clock_(clock),
      clients_(std::move(clients)),
      user_changed_(std::move(user_changed)),
      options_(std::move(options)) {
  Result<std::string> dummy = HashPassword("not the password of any user");
  if (dummy) dummy_hash_ = std::move(*dummy);
}

LoginStep AuthorizationFlow::RedirectTo(const AuthorizeRequest& request, const std::string& query) const {
  LoginStep step;
  step.kind = LoginStep::Kind::kRedirect;
  step.http_status = 302;
  step.redirect = request.redirect_uri + (request.redirect_uri.find('?') == std::string::npos ? "?" : "&") + query +
                  (request.state.empty() ? "" : "&state=" + PercentEncode(request.state));
  return step;
}

LoginStep AuthorizationFlow::Begin(const AuthorizeRequest& request) {
  for (const std::string* value : {&request.client_id, &request.redirect_uri, &request.scope, &request.state, &request.aud,
                                   &request.code_challenge, &request.nonce}) {
    if (value->size() > kMaxParameterBytes) return ErrorPage(400, "a parameter of the request is too long");
  }
  if (request.client_id.empty()) return ErrorPage(400, "the app did not say who it is (client_id)");
  Result<std::optional<Client>> client = clients_(request.client_id);
  if (!client) return ErrorPage(500, "the client registry cannot be read");
  if (!*client || (*client)->revoked) return ErrorPage(400, "this app is not registered here, or was revoked");
  if ((*client)->kind == ClientKind::kBackend) return ErrorPage(400, "a backend service cannot sign users in");
  const auto& uris = (*client)->redirect_uris;
  if (request.redirect_uri.empty() || std::find(uris.begin(), uris.end(), request.redirect_uri) == uris.end()) {
    return ErrorPage(400, "the app's redirect_uri is not one registered for it");
  }
  // From here on, errors go back to the app.
  auto fail = [&](std::string_view error, std::string_view description) {
    return RedirectTo(request, "error=" + std::string(error) + "&error_description=" + PercentEncode(description));
  };
  if (request.response_type != "code") return fail("unsupported_response_type", "response_type must be code");
  if (request.state.empty()) return fail("invalid_request", "state is required");
  if (request.aud != options_.audience) return fail("invalid_request", "aud must be this FHIR server: " + options_.audience);
  if (request.code_challenge_method != "S256") return fail("invalid_request", "PKCE is required: code_challenge_method=S256");
  if (request.code_challenge.size() != 43) return fail("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)");
  Result<ScopeSet> requested = ParseScopes(request.scope);
  Result<ScopeSet> allowed = ParseScopes((*client)->scope);
  if (!requested) return fail("invalid_scope", requested.error().message());
  if (!allowed) return fail("server_error", "the app's registered scope cannot be read");
  ScopeSet granted = GrantedScopes(*requested, *allowed);
  for (ResourceScope& scope : granted.resources) {
    if (scope.context == ScopeContext::kSystem) return fail("invalid_scope", "system/ scopes are for backend services");
  }
  granted.openid = requested->openid && allowed->openid;
  granted.fhir_user = requested->fhir_user && allowed->fhir_user;
  granted.launch_patient = requested->launch_patient && allowed->launch_patient;
  granted.offline_access = requested->offline_access && allowed->offline_access;
  granted.online_access = requested->online_access && allowed->online_access && !granted.offline_access;
  if (requested->launch) return fail("invalid_scope", "EHR launch (scope launch) is not offered; use a standalone launch");
  if (granted.resources.empty()) return fail("invalid_scope", "none of the scopes asked for is allowed to this app");

  // patient/ scopes need a patient, as launch/patient asks for one.
  const bool wants_patient = granted.launch_patient || std::any_of(granted.resources.begin(), granted.resources.end(), [](const auto& scope) {
                               return scope.context == ScopeContext::kPatient;
                             });
  Result<std::string> id = NewSecret();
  Result<std::string> csrf = NewSecret();
  if (!id || !csrf) return ErrorPage(500, "the sign-in cannot be started");
  const Millis now = clock_.Now();
  std::lock_guard lock(mu_);
  Sweep(now);
  // A flood of started sign-ins must not lock others out: a cap per address, and past the
  // global cap the oldest sign-in gives way.
  const auto from_address = std::count_if(pending_.begin(), pending_.end(), [&](const auto& entry) {
    return entry.second.address == request.address;
  });
  if (static_cast<std::size_t>(from_address) >= kMaxPendingPerAddress) {
    return ErrorPage(429, "too many sign-ins from this address are under way; finish one or wait ten minutes");
  }
  if (pending_.size() >= kMaxPending) {
    pending_.erase(std::min_element(pending_.begin(), pending_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    }));
  }
  Pending pending{.request = request,
                  .client_name = (*client)->name,
                  .granted_scope = ScopeString(granted),
                  .wants_patient = wants_patient,
                  .csrf = *csrf,
                  .expires = now + kSignInLifetime,
                  .address = request.address};
  auto [at, inserted] = pending_.emplace(*id, std::move(pending));
  return Show(at->first, at->second, LoginStep::Kind::kSignIn);
}

LoginStep AuthorizationFlow::Show(const std::string& id, const Pending& pending, LoginStep::Kind kind, std::string message) const {
  LoginStep step;
  step.kind = kind;
  step.message = std::move(message);
  step.login = id;
  step.csrf = pending.csrf;
  step.client_name = pending.client_name;
  step.user = pending.user;
  if (kind == LoginStep::Kind::kConsent) {
    std::string_view scope = pending.granted_scope;
    while (!scope.empty()) {
      const std::size_t space = std::min(scope.find(' '), scope.size());
      step.scopes.emplace_back(scope.substr(0, space));
      scope.remove_prefix(std::min(space + 1, scope.size()));
    }
    step.ask_patient = pending.wants_patient;
  }
  return step;
}

LoginStep AuthorizationFlow::Submit(const LoginForm& form) {
  const Millis now = clock_.Now();
  std::unique_lock lock(mu_);
  Sweep(now);
  auto found = pending_.find(form.login);
  if (found == pending_.end()) return ErrorPage(400, "this sign-in has expired or is unknown; start again from the app");
  Pending& pending = found->second;
  if (!ConstantTimeEquals(form.csrf, pending.csrf)) return ErrorPage(403, "the form did not come from this sign-in (CSRF check)");
  const std::string id = found->first;
  const std::string expected = pending.at == LoginStep::Kind::kSignIn         ? "sign-in"
                               : pending.at == LoginStep::Kind::kChangePassword ? "password"
                               : pending.at == LoginStep::Kind::kEnrollTotp     ? "totp"
                                                                               : "consent";
  if (form.step != expected) return Show(id, pending, pending.at, "Please complete this step first.");
  if (pending.at == LoginStep::Kind::kSignIn) {
    // The password check (Argon2id, tens of milliseconds) runs without the lock, so one sign-in
    // never holds up the others; the sign-in is looked up again after it.
    lock.unlock();
    SignInCheck checked = CheckSignIn(form, now);
    lock.lock();
    auto again = pending_.find(id);
    if (again == pending_.end() || again->second.at != LoginStep::Kind::kSignIn) {
      return ErrorPage(400, "this sign-in has expired or moved on; start again from the app");
    }
    return SignIn(id, again->second, std::move(checked));
  }
  switch (pending.at) {
    case LoginStep::Kind::kChangePassword: return ChangePassword(id, pending, form);
    case LoginStep::Kind::kEnrollTotp: return ConfirmTotp(id, pending, form);
    default: return Consent(id, pending, form);
  }
}

AuthorizationFlow::SignInCheck AuthorizationFlow::CheckSignIn(const LoginForm& form, Millis now) {
  SignInCheck out;
  const std::string name = form.user.substr(0, 64);
  if ((out.locked_until = throttle_.LockedUntil(name, form.address, now)) != 0) {
    out.outcome = SignInCheck::kLocked;
    return out;
  }
  auto failed = [&]() {
    out.outcome = SignInCheck::kWrong;
    out.locked_until = throttle_.Failed(name, form.address, now);
    if (out.locked_until != 0) {
      CK_LOG_WARN("sign-in locked until {} for a user name or address after repeated failures", FormatInstant(out.locked_until));
    }
    return out;
  };
  Result<std::optional<User>> user = CheckUserName(name).ok() ? accounts_.FindUser(name) : Result<std::optional<User>>(std::nullopt);
  if (!user) return out;  // kError
  if (!*user || form.password.size() > kMaxPasswordBytes) {
    VerifyPassword(dummy_hash_, form.password.substr(0, kMaxPasswordBytes));
    return failed();
  }
  if (!VerifyPassword((*user)->password_hash, form.password) || (*user)->disabled) return failed();
  if ((*user)->totp_enrolled()) {
    const std::string code(form.code);
    const bool digits = code.size() == 6 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
    Result<User> checked = StoreUser(name, [&](User& stored) {
      return digits ? AcceptTotpCode(stored, code, now) : SpendRecoveryCode(stored, code);
    });
    if (!checked) return checked.error().code() == StatusCode::kUnauthenticated ? failed() : out;
    *user = std::move(*checked);
  }
  throttle_.Succeeded(name);
  out.outcome = SignInCheck::kGood;
  out.user = std::move(**user);
  return out;
}

LoginStep AuthorizationFlow::SignIn(const std::string& id, Pending& pending, SignInCheck checked) {
  const std::string kWrong = "Wrong user name, password or one-time code.";
  const std::string locked = "Too many failed sign-ins. Try again after " + FormatUtc(checked.locked_until) + ".";
  LoginStep step;
  switch (checked.outcome) {
    case SignInCheck::kError:
      return ErrorPage(500, "the user directory cannot be used");
    case SignInCheck::kLocked:
      step = Show(id, pending, LoginStep::Kind::kSignIn, locked);
      step.http_status = 429;
      return step;
    case SignInCheck::kWrong:
      step = Show(id, pending, LoginStep::Kind::kSignIn, checked.locked_until != 0 ? kWrong + " " + locked : kWrong);
      step.http_status = checked.locked_until != 0 ? 429 : 401;
      return step;
    case SignInCheck::kGood:
      break;
  }
  pending.user = checked.user.name;
  pending.auth_time = clock_.Now();
  return Next(id, pending, checked.user);
}

LoginStep AuthorizationFlow::Next(const std::string& id, Pending& pending, const User& user) {
  if (user.must_change_password) {
    pending.at = LoginStep::Kind::kChangePassword;
    return Show(id, pending, pending.at, "Choose a new password (at least 12 characters).");
  }
  if (policy_.TotpRequired(user.roles) && !user.totp_enrolled()) {
    TotpEnrollment enrollment;
    Result<User> stored = StoreUser(user.name, [&](User& changed) -> Status {
      CK_ASSIGN_OR_RETURN(enrollment, StartTotpEnrollment(changed));
      return Status::Ok();
    });
    if (!stored) return ErrorPage(500, "two-factor enrollment cannot be started");
    pending.at = LoginStep::Kind::kEnrollTotp;
    LoginStep step = Show(id, pending, pending.at, "Your role requires two-factor authentication.");
    step.totp_secret = Base32Encode(enrollment.key);
    step.otpauth_uri = OtpauthUri(options_.issuer_name, user.name, enrollment.key);
    step.recovery_codes = std::move(enrollment.recovery_codes);
    return step;
  }
  pending.at = LoginStep::Kind::kConsent;
  return Show(id, pending, pending.at);
}

LoginStep AuthorizationFlow::ChangePassword(const std::string& id, Pending& pending, const LoginForm& form) {
  if (form.new_password != form.new_password_again) return Show(id, pending, pending.at, "The two passwords differ.");
  if (Status ok = CheckNewPassword(pending.user, form.new_password); !ok.ok()) return Show(id, pending, pending.at, ok.message() + ".");
  Result<std::string> hash = HashPassword(form.new_password);
  if (!hash) return ErrorPage(500, "the password cannot be stored");
  const Millis now = clock_.Now();
  Result<User> stored = StoreUser(pending.user, [&](User& user) {
    user.password_hash = *hash;
    user.must_change_password = false;
    user.credentials_since = now;  // tokens from before the change are void
    return Status::Ok();
  });
  if (!stored) return ErrorPage(500, "the password cannot be stored");
  pending.auth_time = now;
  return Next(id, pending, *stored);
}

LoginStep AuthorizationFlow::ConfirmTotp(const std::string& id, Pending& pending, const LoginForm& form) {
  const Millis now = clock_.Now();
  Result<User> stored = StoreUser(pending.user, [&](User& user) {
    if (user.totp_pending_key.empty()) return Status(StatusCode::kUnauthenticated, "no enrollment");
    return AcceptTotpCode(user, form.code, now);
  });
  if (!stored) {
    if (stored.error().code() != StatusCode::kUnauthenticated) return ErrorPage(500, "the enrollment cannot be stored");
    return Show(id, pending, pending.at, "That code does not match the new key; enter the current code from your app.");
  }
  return Next(id, pending, *stored);
}

LoginStep AuthorizationFlow::Consent(const std::string& id, Pending& pending, const LoginForm& form) {
  const AuthorizeRequest request = pending.request;
  if (form.decision != "approve") {
    pending_.erase(id);
    return RedirectTo(request, "error=access_denied&error_description=" + PercentEncode("the user did not allow it"));
  }
  std::string patient;
  if (pending.wants_patient) {
    Result<std::optional<User>> user = accounts_.FindUser(pending.user);
    if (!user || !*user) return ErrorPage(500, "the user directory cannot be read");
    patient = (*user)->fhir_user.starts_with("Patient/") ? (*user)->fhir_user.substr(8) : form.patient;
    if (!IsResourceId(patient)) return Show(id, pending, pending.at, "Enter the id of the patient the app is for.");
  }
  Result<std::string> code = NewSecret();
  if (!code) return ErrorPage(500, "the sign-in cannot be completed");
  if (codes_.size() >= kMaxCodes) return ErrorPage(503, "too many sign-ins are under way; try again in a minute");
  codes_.emplace(*code, CodeGrant{.client_id = request.client_id,
                                  .redirect_uri = request.redirect_uri,
                                  .code_challenge = request.code_challenge,
                                  .user = pending.user,
                                  .scope = pending.granted_scope,
                                  .patient = patient,
                                  .nonce = request.nonce,
                                  .auth_time = pending.auth_time,
                                  .expires = clock_.Now() + kCodeLifetime});
  pending_.erase(id);
  return RedirectTo(request, "code=" + *code);
}

tl::expected<CodeGrant, OAuthError> AuthorizationFlow::Redeem(std::string_view code, std::string_view client_id,
                                                             std::string_view redirect_uri, std::string_view code_verifier) {
  std::lock_guard lock(mu_);
  Sweep(clock_.Now());
  auto found = codes_.find(std::string(code));
  if (found == codes_.end()) return InvalidGrant("the code is unknown, expired or used already");
  CodeGrant grant = std::move(found->second);
  codes_.erase(found);  // once, whatever follows
  if (grant.client_id != client_id) return InvalidGrant("the code was issued to another client");
  if (grant.redirect_uri != redirect_uri) return InvalidGrant("redirect_uri differs from the authorization request's");
  if (code_verifier.size() < 43 || code_verifier.size() > 128) return InvalidGrant("code_verifier must have 43 to 128 characters");
  if (!ConstantTimeEquals(Base64UrlEncode(Sha256(code_verifier)), grant.code_challenge)) {
    return InvalidGrant("code_verifier does not match the code_challenge (PKCE)");
  }
  return grant;
}

Result<User> AuthorizationFlow::StoreUser(const std::string& name, const std::function<Status(User&)>& change) {
  CK_ASSIGN_OR_RETURN(User user, accounts_.UpdateUser(name, change));
  if (user_changed_) user_changed_(user);
  return user;
}

void AuthorizationFlow::Sweep(Millis now) {
  std::erase_if(pending_, [now](const auto& entry) { return entry.second.expires <= now; });
  std::erase_if(codes_, [now](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace ck::access
