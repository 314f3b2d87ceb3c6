#pragma once
// The people and programs that may sign in: users (a name, a password hash, roles, two-factor
// state) and OAuth2 clients (public apps with PKCE, confidential apps with a secret, SMART
// backend services with a public key). Plain records and their JSON form for storage; nothing
// secret is kept in the clear except the TOTP key, which the server must be able to use (it is
// protected with the rest of the database by encryption at rest).
// Thread safety: plain values.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/time.h"

namespace ck::access {

struct User {
  std::string name;                 // lower case letters, digits, '.', '_', '-'; 1 to 64
  std::vector<std::string> roles;   // names of the access policy's roles
  std::string fhir_user;            // "Practitioner/123" for a clinician, or empty
  std::string password_hash;        // Argon2id, encoded (access/password_hash.h)
  bool must_change_password = true; // set by the server (first start, reset): changed at next login
  bool disabled = false;
  std::string totp_key;             // the raw TOTP secret, empty when not enrolled
  std::int64_t totp_last_step = -1; // the last TOTP step used (replays refused)
  std::vector<std::string> recovery_code_hashes;  // unused recovery codes (access/totp.h)
  // An enrollment waiting for its first code: it replaces the key and recovery codes above once
  // a code from the new key is given.
  std::string totp_pending_key;
  std::vector<std::string> pending_recovery_code_hashes;
  Millis created = 0;
  // Credentials before this moment are void: tokens issued earlier are refused (set when the
  // password changes or the user is disabled).
  Millis credentials_since = 0;

  bool totp_enrolled() const { return !totp_key.empty(); }
};

enum class ClientKind {
  kPublic,        // a browser or mobile app: authorization code with PKCE, no secret
  kConfidential,  // a server-side app: authorization code with PKCE and a client secret
  kBackend,       // a SMART backend service: client_credentials with a signed JWT assertion
};

struct Client {
  std::string id;    // server-assigned, "ck-" and 22 random characters
  std::string name;  // for people
  ClientKind kind = ClientKind::kPublic;
  std::string secret_hash;                 // SHA-256 (hex) of the secret: confidential, or a backend made with one
  std::vector<std::string> redirect_uris;  // exact matches (public and confidential)
  std::string scope;                       // the most this client may ask for (space-separated)
  std::string public_key_pem;              // a backend service's public key (PEM), or
  std::string jwks;                        // its JSON Web Key Set (JSON text)
  std::vector<std::string> roles;          // a backend service's roles (default integration)
  bool revoked = false;
  Millis created = 0;
};

// Checks of names as people give them. Errors: kInvalid saying what is allowed.
Status CheckUserName(std::string_view name);

std::string_view ClientKindName(ClientKind kind);
// "public", "confidential" or "backend". Errors: kInvalid.
Result<ClientKind> ParseClientKind(std::string_view name);

// JSON for storage and back. Errors: kCorrupt for stored text that is not a record of its kind.
std::string UserToJson(const User& user);
Result<User> UserFromJson(std::string_view json);
std::string ClientToJson(const Client& client);
Result<Client> ClientFromJson(std::string_view json);

}  // namespace ck::access
