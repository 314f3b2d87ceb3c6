#pragma once
// SQL text built piece by piece with the values of its placeholders beside it, in order: no value
// a client sends is ever part of the text. Private to store/sqlite.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/sqlite/sqlite_connection.h"

namespace ck::store::sqlite {

using Bound = std::variant<std::int64_t, double, std::string>;

struct Sql {
  std::string text;
  std::vector<Bound> values;

  Sql& operator<<(std::string_view part) {
    text += part;
    return *this;
  }
  Sql& Append(const Sql& other) {
    text += other.text;
    values.insert(values.end(), other.values.begin(), other.values.end());
    return *this;
  }
  Sql& Value(Bound value) {
    text += '?';
    values.push_back(std::move(value));
    return *this;
  }
};

// Binds `values` to the statement's placeholders from the first on.
inline void BindAll(Statement& statement, const std::vector<Bound>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    if (const auto* integer = std::get_if<std::int64_t>(&values[i])) {
      statement.Bind(index, *integer);
    } else if (const auto* real = std::get_if<double>(&values[i])) {
      statement.BindDouble(index, *real);
    } else {
      statement.Bind(index, std::get<std::string>(values[i]));
    }
  }
}

}  // namespace ck::store::sqlite
