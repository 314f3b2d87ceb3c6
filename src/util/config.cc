#include "util/config.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <vector>

#include <toml++/toml.h>

extern char** environ;

namespace ck {
namespace {

Result<std::uint64_t> ParseUnsigned(const std::string& key, const std::string& value) {
  std::uint64_t out = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc() || end != value.data() + value.size() || value.empty()) {
    return Err(Status::Invalid("config " + key + ": expected a whole number, got '" + value + "'"));
  }
  return out;
}

struct Option {
  std::string_view key;
  std::function<Status(Config&, const std::string&, const std::string&)> apply;
};

template <typename Field>
Option NumberOption(std::string_view key, Field Config::*field) {
  return {key, [field](Config& config, const std::string& k, const std::string& v) -> Status {
            CK_ASSIGN_OR_RETURN(std::uint64_t n, ParseUnsigned(k, v));
            config.*field = static_cast<Field>(n);
            return Status::Ok();
          }};
}

// A word from a fixed list; anything else is an error listing the words.
Option ChoiceOption(std::string_view key, std::string Config::*field, std::vector<std::string> choices) {
  return {key, [field, choices = std::move(choices)](Config& config, const std::string& k, const std::string& v) -> Status {
            if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
              std::string expected;
              for (const std::string& choice : choices) expected += (expected.empty() ? "" : ", ") + choice;
              return Status::Invalid("config " + k + ": expected one of " + expected + ", got '" + v + "'");
            }
            config.*field = v;
            return Status::Ok();
          }};
}

// A comma-separated list of paths (a TOML array arrives joined by commas); empty items are errors.
Option PathListOption(std::string_view key, std::vector<std::filesystem::path> Config::*field) {
  return {key, [field](Config& config, const std::string& k, const std::string& v) -> Status {
            std::vector<std::filesystem::path> paths;
            std::size_t start = 0;
            while (!v.empty()) {
              const std::size_t comma = std::min(v.find(',', start), v.size());
              std::string item = v.substr(start, comma - start);
              item.erase(0, item.find_first_not_of(' '));
              item.erase(item.find_last_not_of(' ') + 1);
              if (item.empty()) return Status::Invalid("config " + k + ": an empty item in '" + v + "'");
              paths.emplace_back(std::move(item));
              if (comma == v.size()) break;
              start = comma + 1;
            }
            config.*field = std::move(paths);
            return Status::Ok();
          }};
}

const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {"listen", [](Config& c, const std::string&, const std::string& v) { c.listen = v; return Status::Ok(); }},
      {"data", [](Config& c, const std::string&, const std::string& v) { c.data_dir = v; return Status::Ok(); }},
      {"log_level", [](Config& c, const std::string&, const std::string& v) { c.log_level = v; return Status::Ok(); }},
      {"base_url", [](Config& c, const std::string&, const std::string& v) { c.base_url = v; return Status::Ok(); }},
      {"search_time_zone", [](Config& c, const std::string&, const std::string& v) { c.search_time_zone = v; return Status::Ok(); }},
      {"access_policy", [](Config& c, const std::string&, const std::string& v) { c.access_policy = v; return Status::Ok(); }},
      {"tls_cert", [](Config& c, const std::string&, const std::string& v) { c.tls_cert = v; return Status::Ok(); }},
      {"tls_key", [](Config& c, const std::string&, const std::string& v) { c.tls_key = v; return Status::Ok(); }},
      ChoiceOption("encryption", &Config::encryption, {"on", "off"}),
      {"encryption_key_command", [](Config& c, const std::string&, const std::string& v) { c.encryption_key_command = v; return Status::Ok(); }},
      {"encryption_key_file", [](Config& c, const std::string&, const std::string& v) { c.encryption_key_file = v; return Status::Ok(); }},
      {"audit_key", [](Config& c, const std::string&, const std::string& v) { c.audit_key = v; return Status::Ok(); }},
      {"disclosures_exclude", [](Config& c, const std::string&, const std::string& v) { c.disclosures_exclude = v; return Status::Ok(); }},
      ChoiceOption("audit", &Config::audit, {"on", "off"}),
      {"audit_syslog", [](Config& c, const std::string&, const std::string& v) { c.audit_syslog = v; return Status::Ok(); }},
      {"audit_syslog_ca", [](Config& c, const std::string&, const std::string& v) { c.audit_syslog_ca = v; return Status::Ok(); }},
      {"audit_syslog_cert", [](Config& c, const std::string&, const std::string& v) { c.audit_syslog_cert = v; return Status::Ok(); }},
      {"audit_syslog_key", [](Config& c, const std::string&, const std::string& v) { c.audit_syslog_key = v; return Status::Ok(); }},
      NumberOption("audit_checkpoint_every", &Config::audit_checkpoint_every),
      NumberOption("threads", &Config::threads),
      NumberOption("write_threads", &Config::write_threads),
      NumberOption("cache_mb", &Config::cache_mb),
      NumberOption("page_cache_mb", &Config::page_cache_mb),
      NumberOption("read_threads", &Config::read_threads),
      NumberOption("max_body_bytes", &Config::max_body_bytes),
      NumberOption("max_url_bytes", &Config::max_url_bytes),
      NumberOption("max_header_bytes", &Config::max_header_bytes),
      NumberOption("max_header_fields", &Config::max_header_fields),
      NumberOption("max_connections", &Config::max_connections),
      NumberOption("header_timeout_seconds", &Config::header_timeout_seconds),
      NumberOption("idle_timeout_seconds", &Config::idle_timeout_seconds),
      NumberOption("request_timeout_seconds", &Config::request_timeout_seconds),
      NumberOption("write_timeout_seconds", &Config::write_timeout_seconds),
      NumberOption("drain_timeout_seconds", &Config::drain_timeout_seconds),
      NumberOption("query_time_limit_ms", &Config::query_time_limit_ms),
      NumberOption("max_json_depth", &Config::max_json_depth),
      NumberOption("max_issues", &Config::max_issues),
      ChoiceOption("unknown_profiles", &Config::unknown_profiles, {"warn", "error"}),
      ChoiceOption("rest_validation", &Config::rest_validation, {"strict", "lenient"}),
      ChoiceOption("import_validation", &Config::import_validation, {"strict", "lenient", "structure"}),
      NumberOption("max_page_size", &Config::max_page_size),
      NumberOption("max_bundle_entries", &Config::max_bundle_entries),
      NumberOption("max_conditional_deletes", &Config::max_conditional_deletes),
      ChoiceOption("referential_integrity", &Config::referential_integrity, {"true", "false"}),
      ChoiceOption("auth", &Config::auth, {"on", "off"}),
      ChoiceOption("insecure_http", &Config::insecure_http, {"true", "false"}),
      NumberOption("backend_token_minutes", &Config::backend_token_minutes),
      NumberOption("user_token_minutes", &Config::user_token_minutes),
      NumberOption("session_idle_minutes", &Config::session_idle_minutes),
      NumberOption("break_glass_minutes", &Config::break_glass_minutes),
      PathListOption("packages", &Config::packages),
  };
  return options;
}

}  // namespace

std::string Config::BaseUrl() const {
  if (!base_url.empty()) return base_url;
  return "http://" + listen + "/fhir";
}

std::vector<std::string_view> ConfigKeys() {
  std::vector<std::string_view> keys;
  for (const Option& option : Options()) keys.push_back(option.key);
  return keys;
}

Status ApplyConfigValue(Config& config, const std::string& key, const std::string& value) {
  for (const Option& option : Options()) {
    if (option.key == key) return option.apply(config, key, value);
  }
  return Status::Invalid("unknown config key '" + key + "'");
}

Status ApplyConfigFile(Config& config, const std::filesystem::path& file) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return Status::Invalid("config file " + file.string() + ": " + std::string(error.description()));
  }
  for (const auto& [key, node] : table) {
    std::string value;
    if (auto s = node.value<std::string>()) {
      value = *s;
    } else if (const toml::array* list = node.as_array()) {
      for (const toml::node& item : *list) {
        auto text = item.value<std::string>();
        if (!text) return Status::Invalid("config " + std::string(key.str()) + ": expected an array of strings");
        value += (value.empty() ? "" : ",") + *text;
      }
    } else if (auto b = node.as_boolean()) {
      value = b->get() ? "true" : "false";
    } else if (auto i = node.value<std::int64_t>()) {
      if (*i < 0) return Status::Invalid("config " + std::string(key.str()) + ": must not be negative");
      value = std::to_string(*i);
    } else {
      return Status::Invalid("config " + std::string(key.str()) + ": expected a string, a number or a boolean");
    }
    CK_RETURN_IF_ERROR(ApplyConfigValue(config, std::string(key.str()), value));
  }
  return Status::Ok();
}

Status ApplyConfigEnvironment(Config& config, const std::map<std::string, std::string>& environment) {
  for (const Option& option : Options()) {
    std::string name = "CHARTKEEPER_" + std::string(option.key);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    auto it = environment.find(name);
    if (it != environment.end()) CK_RETURN_IF_ERROR(option.apply(config, std::string(option.key), it->second));
  }
  return Status::Ok();
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq != std::string_view::npos) out.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return out;
}

}  // namespace ck
