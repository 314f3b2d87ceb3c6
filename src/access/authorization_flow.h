#pragma once
// The authorization endpoint's work (RFC 6749 section 4.1 with PKCE, RFC 7636; SMART App Launch
// 2.0 standalone launch), without HTML or HTTP: rest/login_page.h renders each step.
//
//   Begin      checks the app's request: a registered, unrevoked public or confidential client,
//              a redirect URI registered for it (exactly), response_type=code, state, aud = this
//              FHIR server, a PKCE S256 challenge. Until the client and its redirect URI are
//              known good, an error is a page and never a redirect (no open redirector); after,
//              errors go back to the app as RFC 6749 4.1.2.1 says.
//   sign-in    user name, password and, for a user with TOTP, a code (or a recovery code), under
//              the login throttle (access/login_throttle.h); unknown users cost the same
//              Argon2id work as known ones, and every failure reads the same.
//   then, as the user's state asks: a new password (first login, after a reset), TOTP enrollment
//              (a role that requires it, not yet enrolled), and last the consent page: the app,
//              the scopes it gets, a patient for `launch/patient`. Approval redirects with a code.
//   Redeem     the token endpoint trades a code once, for the client it was issued to, with the
//              same redirect URI and the PKCE verifier.
//
// Each step carries the sign-in's id and a CSRF token that the form must return (the HTTP layer
// also matches it to a cookie); a sign-in left for ten minutes is forgotten; codes live a
// minute. Sign-ins and codes are kept in memory (a restart asks people to sign in again).
// Thread safety: safe from any thread.

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "access/access_policy.h"
#include "access/account_directory.h"
#include "access/login_throttle.h"
#include "access/oauth.h"

namespace ck::access {

struct AuthorizeRequest {
  std::string response_type;
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string state;
  std::string aud;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string nonce;  // OpenID Connect: echoed in the ID token
  std::string address;  // the browser's address (not a parameter): sign-ins under way are capped per address
};

// A form the login pages post back.
struct LoginForm {
  std::string login;  // the sign-in's id
  std::string csrf;
  std::string step;   // "sign-in", "password", "totp", "consent"
  std::string user;
  std::string password;
  std::string code;   // a TOTP code or a recovery code
  std::string new_password;
  std::string new_password_again;
  std::string decision;  // "approve" or "deny"
  std::string patient;   // a Patient id, when the app asked for launch/patient
  std::string address;   // the browser's address, for the throttle
};

// What to show or do next.
struct LoginStep {
  enum class Kind { kError, kRedirect, kSignIn, kChangePassword, kEnrollTotp, kConsent };
  Kind kind = Kind::kError;
  int http_status = 200;
  std::string message;   // an error, or a hint for the page
  std::string redirect;  // kRedirect
  std::string login;     // the forms' hidden fields
  std::string csrf;
  std::string client_name;
  std::string user;
  std::vector<std::string> scopes;  // kConsent
  bool ask_patient = false;         // kConsent
  std::string otpauth_uri;          // kEnrollTotp
  std::string totp_secret;          // kEnrollTotp, base32
  std::vector<std::string> recovery_codes;  // kEnrollTotp
};

// What an authorization code stands for.
struct CodeGrant {
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string user;
  std::string scope;    // granted
  std::string patient;  // launch context
  std::string nonce;
  Millis auth_time = 0;
  Millis expires = 0;
};

struct AuthorizationFlowOptions {
  std::string audience;      // the FHIR base URL an app must name as aud
  std::string issuer_name;   // shown in authenticator apps ("Chartkeeper 127.0.0.1:8080")
};

class AuthorizationFlow {
 public:
  // `user_changed` is told of every user this flow stores (new password, TOTP), so caches of
  // users stay current. REQUIRES: the references outlive the flow.
  AuthorizationFlow(AccountDirectory& accounts, const AccessPolicy& policy, const Clock& clock, ClientLookup clients,
                    std::function<void(const User&)> user_changed, AuthorizationFlowOptions options);

  LoginStep Begin(const AuthorizeRequest& request);
  LoginStep Submit(const LoginForm& form);
  // The grant of `code`, once. Errors: invalid_grant (unknown, used, expired, another client,
  // another redirect URI, a verifier that does not match the challenge).
  tl::expected<CodeGrant, OAuthError> Redeem(std::string_view code, std::string_view client_id, std::string_view redirect_uri,
                                             std::string_view code_verifier);

 private:
  struct Pending {
    AuthorizeRequest request;
    std::string client_name;
    std::string granted_scope;
    bool wants_patient = false;
    std::string csrf;
    std::string user;       // after a good sign-in
    Millis auth_time = 0;
    LoginStep::Kind at = LoginStep::Kind::kSignIn;
    Millis expires = 0;
    std::string address;
  };

  // What the sign-in form's credentials came to, found without touching the sign-ins.
  struct SignInCheck {
    enum Outcome { kError, kLocked, kWrong, kGood } outcome = kError;
    Millis locked_until = 0;  // kLocked, or kWrong when this failure locked
    User user;                // kGood
  };
  SignInCheck CheckSignIn(const LoginForm& form, Millis now);
  LoginStep SignIn(const std::string& id, Pending& pending, SignInCheck checked);
  LoginStep ChangePassword(const std::string& id, Pending& pending, const LoginForm& form);
  LoginStep ConfirmTotp(const std::string& id, Pending& pending, const LoginForm& form);
  LoginStep Consent(const std::string& id, Pending& pending, const LoginForm& form);
  // The step after a good sign-in, a new password or an enrollment.
  LoginStep Next(const std::string& id, Pending& pending, const User& user);
  LoginStep Show(const std::string& id, const Pending& pending, LoginStep::Kind kind, std::string message = {}) const;
  LoginStep RedirectTo(const AuthorizeRequest& request, const std::string& query) const;
  Result<User> StoreUser(const std::string& name, const std::function<Status(User&)>& change);
  void Sweep(Millis now);  // REQUIRES: mu_ held

  AccountDirectory& accounts_;
  const AccessPolicy& policy_;
  const Clock& clock_;
  const ClientLookup clients_;
  const std::function<void(const User&)> user_changed_;
  const AuthorizationFlowOptions options_;
  LoginThrottle throttle_;
  std::string dummy_hash_;  // verified against for unknown users, so they cost the same

  std::mutex mu_;  // held for a whole step but the password check: steps of one sign-in never interleave
  std::unordered_map<std::string, Pending> pending_;  // guarded by mu_, by sign-in id
  std::unordered_map<std::string, CodeGrant> codes_;  // guarded by mu_, by code
};

}  // namespace ck::access
