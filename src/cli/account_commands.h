#pragma once
// `chartkeeper user ...` and `chartkeeper client ...`: the users and OAuth2 clients kept in the
// data folder (access/account_directory.h), managed from the command line. Like the other
// offline commands they open the data folder themselves, so the server must be stopped first.
// Secrets (a new password, a client secret, a TOTP key and recovery codes) are printed once, on
// standard output, and never logged.
// Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 bad arguments.

#include <string>
#include <vector>

#include "util/config.h"

namespace ck::cli {

struct UserCommand {
  enum class Action { kAdd, kList, kDisable, kEnable, kResetPassword, kEnrollTotp, kConfirmTotp };
  Action action = Action::kList;
  std::string name;
  std::vector<std::string> roles;  // add
  std::string fhir_user;           // add: "Practitioner/123"
  bool password_stdin = false;     // add: read the password from standard input instead of making one
  std::string code;                // confirm-totp
};

struct ClientCommand {
  enum class Action { kAdd, kList, kRevoke };
  Action action = Action::kList;
  std::string name;                        // add: for people; revoke: the client id
  std::string kind = "public";             // add: public, confidential, backend
  std::vector<std::string> redirect_uris;  // add: public and confidential
  std::string scope;                       // add: the most the client may ask for
  std::string public_key_file;             // add, backend: a PEM public key
  std::string jwks_file;                   // add, backend: a JSON Web Key Set
  bool secret = false;                     // add, backend: a shared secret instead of a key (scripts, curl)
  std::vector<std::string> roles;          // add, backend: default integration
};

int RunUserCommand(const Config& config, const UserCommand& command);
int RunClientCommand(const Config& config, const ClientCommand& command);

}  // namespace ck::cli
