#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cstdio>

namespace ck {

void InitLogging(std::string_view level) {
  std::setvbuf(stderr, nullptr, _IOFBF, 1 << 16);
  auto logger = spdlog::stderr_color_mt("chartkeeper");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") parsed = spdlog::level::info;
  spdlog::set_level(parsed);
  spdlog::flush_every(std::chrono::seconds(1));
}

void FlushLogs() { spdlog::default_logger()->flush(); }

}  // namespace ck
