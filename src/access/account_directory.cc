#include "access/account_directory.h"

namespace ck::access {

namespace {

constexpr char kUserPrefix[] = "access/user/";
constexpr char kClientPrefix[] = "access/client/";
constexpr std::size_t kMaxAccounts = 1'000'000;

// The record type's storage: key prefix, JSON codec, what it is called in messages.
template <typename Record>
struct Codec;

template <>
struct Codec<User> {
  static constexpr const char* kPrefix = kUserPrefix;
  static constexpr const char* kWhat = "user";
  static const std::string& Key(const User& user) { return user.name; }
  static std::string ToJson(const User& user) { return UserToJson(user); }
  static Result<User> FromJson(std::string_view json) { return UserFromJson(json); }
};

template <>
struct Codec<Client> {
  static constexpr const char* kPrefix = kClientPrefix;
  static constexpr const char* kWhat = "client";
  static const std::string& Key(const Client& client) { return client.id; }
  static std::string ToJson(const Client& client) { return ClientToJson(client); }
  static Result<Client> FromJson(std::string_view json) { return ClientFromJson(json); }
};

template <typename Record>
Status Add(store::ResourceStore& store, const Record& record) {
  using C = Codec<Record>;
  const std::string key = std::string(C::kPrefix) + C::Key(record);
  return store.Write([&](store::WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(std::optional<std::string> existing, txn.ReadMeta(key));
    if (existing) return Status::Conflict(std::string("a ") + C::kWhat + " named " + C::Key(record) + " exists already");
    return txn.WriteMeta(key, C::ToJson(record));
  });
}

template <typename Record>
Result<std::optional<Record>> Find(store::ResourceStore& store, const std::string& name) {
  using C = Codec<Record>;
  CK_ASSIGN_OR_RETURN(std::optional<std::string> json, store.ReadMeta(std::string(C::kPrefix) + name));
  if (!json) return std::optional<Record>();
  CK_ASSIGN_OR_RETURN(Record record, C::FromJson(*json));
  return std::optional<Record>(std::move(record));
}

template <typename Record>
Result<std::vector<Record>> List(store::ResourceStore& store) {
  using C = Codec<Record>;
  CK_ASSIGN_OR_RETURN(auto rows, store.ListMeta(C::kPrefix, kMaxAccounts));
  std::vector<Record> out;
  for (const auto& [key, json] : rows) {
    CK_ASSIGN_OR_RETURN(Record record, C::FromJson(json));
    out.push_back(std::move(record));
  }
  return out;
}

template <typename Record>
Result<Record> Update(store::ResourceStore& store, const std::string& name, const std::function<Status(Record&)>& change) {
  using C = Codec<Record>;
  const std::string key = std::string(C::kPrefix) + name;
  Record updated;
  CK_RETURN_IF_ERROR(store.Write([&](store::WriteTransaction& txn) -> Status {
    CK_ASSIGN_OR_RETURN(std::optional<std::string> json, txn.ReadMeta(key));
    if (!json) return Status::NotFound(std::string("no ") + C::kWhat + " named " + name);
    CK_ASSIGN_OR_RETURN(updated, C::FromJson(*json));
    CK_RETURN_IF_ERROR(change(updated));
    return txn.WriteMeta(key, C::ToJson(updated));
  }));
  return updated;
}

}  // namespace

Status AccountDirectory::AddUser(const User& user) {
  CK_RETURN_IF_ERROR(CheckUserName(user.name));
  return Add(store_, user);
}
Result<std::optional<User>> AccountDirectory::FindUser(const std::string& name) { return Find<User>(store_, name); }
Result<std::vector<User>> AccountDirectory::ListUsers() { return List<User>(store_); }
Result<User> AccountDirectory::UpdateUser(const std::string& name, const std::function<Status(User&)>& change) {
  return Update<User>(store_, name, change);
}

Status AccountDirectory::AddClient(const Client& client) { return Add(store_, client); }
Result<std::optional<Client>> AccountDirectory::FindClient(const std::string& id) { return Find<Client>(store_, id); }
Result<std::vector<Client>> AccountDirectory::ListClients() { return List<Client>(store_); }
Result<Client> AccountDirectory::UpdateClient(const std::string& id, const std::function<Status(Client&)>& change) {
  return Update<Client>(store_, id, change);
}

}  // namespace ck::access
