// Strict reading of the one YAML configuration file.
//
// Every area parses its own section into a plain struct with a Node. Reading a
// key marks it as known; Node::finish() then rejects any key nobody read, so a
// typo is a start-up error rather than a silently ignored setting. Errors name
// the file, line, column and key path:
//
//   config/huntaze.yaml:12:3: server.io_thread: unknown key
//
// Values may be overridden from the environment as HUNTAZE_<SECTION>_<KEY>
// (dots and nesting become underscores, upper case), and any scalar may use
// ${NAME}, ${NAME:-default} or ${file:/path} substitution for secrets.
// Every value read is recorded (secrets redacted) so check-config can print
// the effective configuration.
//
// Thread-compatibility: used during start-up from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "huntaze/core/secret.hpp"

namespace huntaze::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct State;  // the parsed document, shared by its nodes

class Node {
 public:
  // Dotted path of this mapping ("" for the root, "server", "server.cors").
  const std::string& path() const noexcept { return path_; }
  bool has(const std::string& key) const;

  std::string get_string(const std::string& key, const std::string& fallback);
  Secret get_secret(const std::string& key, const std::string& fallback = "");
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double get_double(const std::string& key, double fallback, double min, double max);
  bool get_bool(const std::string& key, bool fallback);
  // "250ms", "30s", "5m", "1h"; a bare 0 means zero.
  std::chrono::milliseconds get_duration(const std::string& key, std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min, std::chrono::milliseconds max);
  // Bytes: a plain integer, or with a unit: "16KiB", "1MiB", "2GiB", "500KB", "10MB".
  uint64_t get_size(const std::string& key, uint64_t fallback, uint64_t min, uint64_t max);
  // A YAML sequence of strings, or a comma-separated string from the environment.
  std::vector<std::string> get_strings(const std::string& key, const std::vector<std::string>& fallback);
  // One of the allowed words.
  std::string get_enum(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed);

  // A nested mapping; an absent key yields an empty mapping so defaults apply.
  Node section(const std::string& key);
  // Keys of a free-form mapping (e.g. per-queue limits), in file order; marks them known.
  std::vector<std::string> keys();

  // Rejects keys of this mapping that were never read.
  void finish();
  // Throws ConfigError located at `key` (or at this mapping when key is empty).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  friend class Document;
  Node(std::shared_ptr<State> state, std::string path) : state_(std::move(state)), path_(std::move(path)) {}
  std::shared_ptr<State> state_;
  std::string path_;
};

class Document {
 public:
  // Throws ConfigError for a missing file or invalid YAML (with its location).
  static Document load_file(const std::string& file);
  static Document load_string(const std::string& text, const std::string& name = "<string>");

  Node root();
  // Rejects unknown top-level sections, unread keys anywhere and unknown
  // HUNTAZE_* environment overrides. Call after every section was parsed.
  void finish();
  // The effective configuration as "key.path = value" lines, secrets redacted.
  std::vector<std::pair<std::string, std::string>> effective() const;
  const std::string& file_name() const;

 private:
  explicit Document(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace huntaze::config
