// Structured logging: one JSON object per line on stdout.
//
//   log::info("request served", {{"request_id", id}, {"status", 200}, {"ms", 1.25}});
//   -> {"ts":"2026-11-21T14:03:07.123Z","level":"info","msg":"request served","request_id":"…","status":200,"ms":1.25}
//
// Never pass a secret as a field: Secret has no conversion to a field value on
// purpose. Thread-safety: every function is safe from any thread; lines from
// different threads never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "huntaze/core/config.hpp"

namespace huntaze::log {

enum class Level { debug, info, warn, error, off };

struct Field {
  using Value = std::variant<std::string_view, int64_t, double, bool>;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

using Fields = std::initializer_list<Field>;

struct LogConfig {
  Level level = Level::info;
};

LogConfig parse_log_config(config::Node node);

// Sets the level. Safe to call again (SIGHUP reload); defaults to info.
void init(const LogConfig& config);
void set_level(Level level);
bool enabled(Level level);

void write(Level level, std::string_view msg, Fields fields);
inline void debug(std::string_view msg, Fields fields = {}) {
  if (enabled(Level::debug)) write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, Fields fields = {}) {
  write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, Fields fields = {}) {
  write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, Fields fields = {}) {
  write(Level::error, msg, fields);
}

// Appends `text` to `out` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

}  // namespace huntaze::log
