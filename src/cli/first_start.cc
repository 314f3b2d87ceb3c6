#include "cli/first_start.h"

#include "access/account_directory.h"
#include "access/password_hash.h"
#include "util/crypto.h"
#include "util/log.h"

namespace ck::cli {

Status CreateFirstAccounts(store::ResourceStore& store, const Clock& clock, const std::string& base_url, std::ostream& out) {
  access::AccountDirectory accounts(store);
  CK_ASSIGN_OR_RETURN(std::vector<access::User> users, accounts.ListUsers());
  CK_ASSIGN_OR_RETURN(std::vector<access::Client> clients, accounts.ListClients());
  if (!users.empty() || !clients.empty()) return Status::Ok();

  access::User admin;
  admin.name = "admin";
  admin.roles = {"admin"};
  admin.created = clock.Now();
  CK_ASSIGN_OR_RETURN(std::string password, access::GeneratePassword());
  CK_ASSIGN_OR_RETURN(admin.password_hash, access::HashPassword(password));
  CK_RETURN_IF_ERROR(accounts.AddUser(admin));

  access::Client client;
  CK_ASSIGN_OR_RETURN(std::string id, RandomString(22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
  CK_ASSIGN_OR_RETURN(std::string secret_bytes, RandomBytes(32));
  const std::string secret = Base64UrlEncode(secret_bytes);
  client.id = "ck-" + id;
  client.name = "first-start script client";
  client.kind = access::ClientKind::kBackend;
  client.secret_hash = Sha256Hex(secret);
  client.scope = "system/*.cruds";
  client.roles = {"integration"};
  client.created = clock.Now();
  CK_RETURN_IF_ERROR(accounts.AddClient(client));
  CK_LOG_WARN("first start: made the user admin and the client {} (their secrets are printed once on standard output)", client.id);

  out << "\nFirst start: no accounts existed, so these were made. Each secret is shown only this once.\n"
      << "  user admin, one-time password: " << password << "\n"
      << "    (to be changed, with two-factor enrollment, at the first login)\n"
      << "  client " << client.id << " (role integration, scope system/*.cruds), secret: " << secret << "\n"
      << "Get a token for curl (valid 5 minutes):\n"
      << "  curl -s -u " << client.id << ":" << secret << " -d grant_type=client_credentials " << base_url << "/auth/token\n"
      << "then send it: curl -H \"Authorization: Bearer $TOKEN\" " << base_url << "/fhir/Patient\n"
      << "Revoke the client once real ones exist: chartkeeper client revoke " << client.id << "\n\n";
  out.flush();
  return Status::Ok();
}

}  // namespace ck::cli
