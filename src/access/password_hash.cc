#include "access/password_hash.h"

#include <argon2.h>

#include <algorithm>
#include <vector>

#include "util/crypto.h"

namespace ck::access {

namespace {
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kMinPasswordChars = 12;
}  // namespace

Result<std::string> HashPassword(std::string_view password, const Argon2Parameters& parameters) {
  if (password.size() > kMaxPasswordBytes) {
    return Err(Status::Invalid("a password may have at most " + std::to_string(kMaxPasswordBytes) + " bytes"));
  }
  CK_ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltBytes));
  std::vector<char> encoded(argon2_encodedlen(parameters.passes, parameters.memory_kib, parameters.lanes, kSaltBytes, kHashBytes,
                                              Argon2_id));
  const int result = argon2id_hash_encoded(parameters.passes, parameters.memory_kib, parameters.lanes, password.data(), password.size(),
                                           salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (result != ARGON2_OK) return Err(Status::Internal("password hashing failed").WithDetail(argon2_error_message(result)));
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  if (password.size() > kMaxPasswordBytes || !encoded.starts_with("$argon2id$")) return false;
  const std::string terminated(encoded);  // libargon2 reads a C string
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Status CheckNewPassword(std::string_view user_name, std::string_view password) {
  // Length in characters, not bytes: a UTF-8 continuation byte does not start a character.
  const auto characters = static_cast<std::size_t>(
      std::count_if(password.begin(), password.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  if (characters < kMinPasswordChars) {
    return Status::Invalid("a password needs at least " + std::to_string(kMinPasswordChars) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::Invalid("a password may have at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (password == user_name) return Status::Invalid("a password must not be the user name");
  if (std::all_of(password.begin(), password.end(), [&](char c) { return c == password.front(); })) {
    return Status::Invalid("a password must not be one character repeated");
  }
  return Status::Ok();
}

Result<std::string> GeneratePassword() {
  return RandomString(20, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789");
}

}  // namespace ck::access
