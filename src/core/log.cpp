#include "huntaze/core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>

namespace huntaze::log {

namespace {

std::atomic<Level> g_level{Level::info};

// The JSON line is built here; spdlog only serializes writes to the sink.
std::shared_ptr<spdlog::logger> make_logger() {
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("huntaze", sink);
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = make_logger();
  return *instance;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
    case Level::off:
      return "off";
  }
  return "info";
}

void append_timestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int values, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

LogConfig parse_log_config(config::Node node) {
  LogConfig c;
  auto level = node.get_enum("level", "info", {"debug", "info", "warn", "error", "off"});
  if (level == "debug")
    c.level = Level::debug;
  else if (level == "warn")
    c.level = Level::warn;
  else if (level == "error")
    c.level = Level::error;
  else if (level == "off")
    c.level = Level::off;
  return c;
}

void init(const LogConfig& config) {
  set_level(config.level);
  (void)logger();
}

void set_level(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

bool enabled(Level level) {
  auto current = g_level.load(std::memory_order_relaxed);
  return current != Level::off && level >= current;
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(128 + msg.size());
  line += "{\"ts\":\"";
  append_timestamp(line);
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"msg\":";
  append_json_string(line, msg);
  for (const auto& f : fields) {
    line += ',';
    append_json_string(line, f.key);
    line += ':';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_json_string(line, v);
          } else if constexpr (std::is_same_v<T, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, double>) {
            if (!std::isfinite(v)) {
              line += "null";
            } else {
              char buf[32];
              auto r = std::to_chars(buf, buf + sizeof buf, v);
              line.append(buf, r.ptr);
            }
          } else {
            line += std::to_string(v);
          }
        },
        f.value);
  }
  line += '}';
  logger().log(spdlog::level::info, "{}", line);
}

}  // namespace huntaze::log
