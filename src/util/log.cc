#include "util/log.h"

#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "util/text.h"

namespace ck {
namespace {

// Writes each formatted line to stderr with control characters and invalid UTF-8 escaped
// (util/text.h): whatever a message carries (a path with %0a in it, a header), it stays one line
// and cannot forge another.
class EscapingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(message, formatted);
    std::string_view text(formatted.data(), formatted.size());
    if (text.ends_with('\n')) text.remove_suffix(1);
    line_.clear();
    AppendEscapedForLog(line_, text);
    line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  std::string line_;  // guarded by the sink's mutex
};

}  // namespace

void InitLogging(std::string_view level) {
  std::setvbuf(stderr, nullptr, _IOFBF, 1 << 16);
  auto logger = std::make_shared<spdlog::logger>("chartkeeper", std::make_shared<EscapingStderrSink>());
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
