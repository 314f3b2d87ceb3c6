#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ck {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("chartkeeper");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") parsed = spdlog::level::info;
  spdlog::set_level(parsed);
}

}  // namespace ck
