#pragma once
// The one way to log: spdlog's default logger, set up once by InitLogging, with one line per
// event. Use CK_LOG_INFO("...", args) etc. (fmt syntax). PHI never goes into a log line: log ids,
// types, codes and counts, not resource content or query strings.
// Thread safety: all functions are safe from any thread after InitLogging.

#include <string_view>

#include <spdlog/spdlog.h>

namespace ck {

// level: "trace", "debug", "info", "warn", "error", "off". Unknown names fall back to "info".
// Lines go to stderr through a buffer flushed every second and at once for warnings and errors
// (so a request log line costs no system call); call FlushLogs after lines that must be seen now.
void InitLogging(std::string_view level);
void FlushLogs();

}  // namespace ck

#define CK_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define CK_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define CK_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define CK_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
