#pragma once
// Where users and clients are kept: the store's state values (store/resource_store.h, ReadMeta
// and WriteMeta) under "access/user/<name>" and "access/client/<id>", so they live in the same
// database as the records, commit through the same writer (later with their audit records in
// the same transaction) and are encrypted with it. Every change is a read-modify-write inside one
// write transaction, so two changes of one account never lose each other's work (a TOTP step
// used twice at once is accepted once).
// Thread safety: safe from any thread (the store serializes writes).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "access/account.h"
#include "store/resource_store.h"

namespace ck::access {

class AccountDirectory {
 public:
  // REQUIRES: store outlives the directory.
  explicit AccountDirectory(store::ResourceStore& store) : store_(store) {}

  // Stores a new user. Errors: kInvalid (a bad name), kConflict (the name is taken), the store's.
  Status AddUser(const User& user);
  // The user, or nullopt. Errors: kCorrupt (a stored record that cannot be read), the store's.
  Result<std::optional<User>> FindUser(const std::string& name);
  // Every user, by name.
  Result<std::vector<User>> ListUsers();
  // Applies `change` to the stored user in one write transaction and returns the user as
  // stored; `change` may run more than once and must depend only on the user it is given. A
  // non-OK status from it changes nothing and is returned. Errors: kNotFound, the store's.
  Result<User> UpdateUser(const std::string& name, const std::function<Status(User&)>& change);

  // The same for clients, by id.
  Status AddClient(const Client& client);
  Result<std::optional<Client>> FindClient(const std::string& id);
  Result<std::vector<Client>> ListClients();
  Result<Client> UpdateClient(const std::string& id, const std::function<Status(Client&)>& change);

 private:
  store::ResourceStore& store_;
};

}  // namespace ck::access
