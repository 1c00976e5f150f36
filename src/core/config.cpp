#include "huntaze/core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

extern char** environ;

namespace huntaze::config {

struct State {
  std::string file;
  YAML::Node root;
  std::map<std::string, std::set<std::string>> read_keys;  // mapping path -> keys read
  // The keys leading to each mapping a section() call opened. Free-form keys
  // may themselves contain dots ("jobs.kinds.media.process"), so the dotted
  // path alone cannot be walked.
  std::map<std::string, std::vector<std::string>> segments;
  std::set<std::string> used_env;
  std::vector<std::pair<std::string, std::string>> effective;
};

namespace {

constexpr const char* kEnvPrefix = "HUNTAZE_";
// Environment variables with this prefix that are not configuration overrides.
const std::set<std::string> kReservedEnv = {"HUNTAZE_CONFIG"};

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string env_name(const std::string& full_path) {
  std::string name = kEnvPrefix;
  for (char c : full_path)
    name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string where(const State& st, const YAML::Mark& mark) {
  std::ostringstream os;
  os << st.file << ':' << (mark.line + 1) << ':' << (mark.column + 1);
  return os.str();
}

// Walks from the root to the mapping at `path`; an absent or null mapping is an
// empty node. A non-mapping where a mapping is expected is an error.
YAML::Node mapping_at(const State& st, const std::string& path) {
  // yaml-cpp nodes are references: assignment would overwrite the document,
  // so walk with reset() and read through const nodes (operator[] on a
  // non-const node inserts).
  YAML::Node node;
  node.reset(st.root);
  if (path.empty()) return node;
  std::vector<std::string> keys;
  if (auto it = st.segments.find(path); it != st.segments.end()) {
    keys = it->second;
  } else {
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '.');) keys.push_back(part);
  }
  std::string walked;
  for (const std::string& part : keys) {
    walked = join_path(walked, part);
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Map);
    const YAML::Node& current = node;
    YAML::Node next = current[part];
    if (!next || next.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!next.IsMap()) throw ConfigError(where(st, next.Mark()) + ": " + walked + ": expected a mapping");
    node.reset(next);
  }
  return node;
}

struct Found {
  YAML::Mark key_mark;
  YAML::Node value;
};

std::optional<Found> find_key(const YAML::Node& mapping, const std::string& key) {
  if (!mapping.IsMap()) return std::nullopt;
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    if (it->first.Scalar() == key) return Found{it->first.Mark(), it->second};
  }
  return std::nullopt;
}

std::string read_secret_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  return data;
}

// ${NAME}, ${NAME:-default}, ${file:/path}. Throws runtime_error with the reason.
std::string substitute(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) throw std::runtime_error("unterminated ${ in value");
    std::string expr = text.substr(open + 2, close - open - 2);
    if (expr.rfind("file:", 0) == 0) {
      out += read_secret_file(expr.substr(5));
    } else {
      std::string name = expr, fallback;
      bool has_fallback = false;
      if (auto sep = expr.find(":-"); sep != std::string::npos) {
        name = expr.substr(0, sep);
        fallback = expr.substr(sep + 2);
        has_fallback = true;
      }
      if (name.empty()) throw std::runtime_error("empty variable name in ${}");
      if (const char* v = std::getenv(name.c_str()))
        out += v;
      else if (has_fallback)
        out += fallback;
      else
        throw std::runtime_error("environment variable " + name + " is not set");
    }
    i = close + 1;
  }
  return out;
}

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

// A raw scalar: its text after substitution and where it came from.
struct Raw {
  std::string text;
  std::string location;  // "file:line:col" or "environment HUNTAZE_X"
};

namespace {

std::optional<Raw> raw_scalar(State& st, const std::string& path, const std::string& key) {
  st.read_keys[path].insert(key);
  const std::string full = join_path(path, key);
  const std::string env = env_name(full);
  std::optional<Raw> raw;
  if (const char* v = std::getenv(env.c_str())) {
    st.used_env.insert(env);
    raw = Raw{v, "environment " + env};
  } else {
    YAML::Node mapping = mapping_at(st, path);
    auto found = find_key(mapping, key);
    if (!found || !found->value || found->value.IsNull()) return std::nullopt;
    if (!found->value.IsScalar())
      throw ConfigError(where(st, found->value.Mark()) + ": " + full + ": expected a single value");
    raw = Raw{found->value.Scalar(), where(st, found->value.Mark())};
  }
  try {
    raw->text = substitute(raw->text);
  } catch (const std::exception& e) {
    throw ConfigError(raw->location + ": " + full + ": " + e.what());
  }
  return raw;
}

[[noreturn]] void bad_value(const Raw& raw, const std::string& full, const std::string& why) {
  throw ConfigError(raw.location + ": " + full + ": " + why);
}

void record(State& st, const std::string& full, std::string shown) {
  for (auto& [k, v] : st.effective) {
    if (k == full) {
      v = std::move(shown);
      return;
    }
  }
  st.effective.emplace_back(full, std::move(shown));
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

}  // namespace

bool Node::has(const std::string& key) const {
  if (std::getenv(env_name(join_path(path_, key)).c_str())) return true;
  auto found = find_key(mapping_at(*state_, path_), key);
  return found && found->value && !found->value.IsNull();
}

std::string Node::get_string(const std::string& key, const std::string& fallback) {
  auto raw = raw_scalar(*state_, path_, key);
  std::string v = raw ? raw->text : fallback;
  record(*state_, join_path(path_, key), v);
  return v;
}

Secret Node::get_secret(const std::string& key, const std::string& fallback) {
  auto raw = raw_scalar(*state_, path_, key);
  Secret v(raw ? raw->text : fallback);
  record(*state_, join_path(path_, key), v.redacted());
  return v;
}

int64_t Node::get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  int64_t v = fallback;
  if (raw) {
    auto parsed = parse_int(trim(raw->text));
    if (!parsed) bad_value(*raw, full, "expected an integer, got '" + raw->text + "'");
    v = *parsed;
    if (v < min || v > max)
      bad_value(*raw, full, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  record(*state_, full, std::to_string(v));
  return v;
}

double Node::get_double(const std::string& key, double fallback, double min, double max) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  double v = fallback;
  if (raw) {
    std::string t = trim(raw->text);
    char* end = nullptr;
    errno = 0;
    v = std::strtod(t.c_str(), &end);
    if (t.empty() || errno != 0 || *end != '\0' || !std::isfinite(v))
      bad_value(*raw, full, "expected a number, got '" + raw->text + "'");
    if (v < min || v > max) {
      std::ostringstream os;
      os << "must be between " << min << " and " << max;
      bad_value(*raw, full, os.str());
    }
  }
  std::ostringstream shown;
  shown << v;
  record(*state_, full, shown.str());
  return v;
}

bool Node::get_bool(const std::string& key, bool fallback) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  bool v = fallback;
  if (raw) {
    std::string t = trim(raw->text);
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    if (t == "true" || t == "yes" || t == "on" || t == "1")
      v = true;
    else if (t == "false" || t == "no" || t == "off" || t == "0")
      v = false;
    else
      bad_value(*raw, full, "expected true or false, got '" + raw->text + "'");
  }
  record(*state_, full, v ? "true" : "false");
  return v;
}

namespace {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::string t = trim(text);
  if (t == "0") return std::chrono::milliseconds(0);
  size_t digits = 0;
  while (digits < t.size() && (std::isdigit(static_cast<unsigned char>(t[digits])) || t[digits] == '.')) ++digits;
  if (digits == 0 || digits == t.size()) return std::nullopt;
  char* end = nullptr;
  std::string number = t.substr(0, digits);
  double n = std::strtod(number.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  std::string unit = trim(t.substr(digits));
  double ms;
  if (unit == "ms")
    ms = n;
  else if (unit == "s")
    ms = n * 1000;
  else if (unit == "m" || unit == "min")
    ms = n * 60'000;
  else if (unit == "h")
    ms = n * 3'600'000;
  else if (unit == "d")
    ms = n * 86'400'000;
  else
    return std::nullopt;
  if (ms > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}

std::string show_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<uint64_t> parse_size(const std::string& text) {
  std::string t = trim(text);
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;
  uint64_t n = std::stoull(t.substr(0, digits));
  std::string unit = trim(t.substr(digits));
  uint64_t mult;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = 1ull << 10;
  else if (unit == "MiB")
    mult = 1ull << 20;
  else if (unit == "GiB")
    mult = 1ull << 30;
  else if (unit == "KB")
    mult = 1000;
  else if (unit == "MB")
    mult = 1000 * 1000;
  else if (unit == "GB")
    mult = 1000ull * 1000 * 1000;
  else
    return std::nullopt;
  if (n > (UINT64_MAX / mult)) return std::nullopt;
  return n * mult;
}

}  // namespace

std::chrono::milliseconds Node::get_duration(const std::string& key, std::chrono::milliseconds fallback,
                                             std::chrono::milliseconds min, std::chrono::milliseconds max) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  auto v = fallback;
  if (raw) {
    auto parsed = parse_duration(raw->text);
    if (!parsed) bad_value(*raw, full, "expected a duration like 250ms, 30s, 5m or 1h, got '" + raw->text + "'");
    v = *parsed;
    if (v < min || v > max)
      bad_value(*raw, full, "must be between " + show_duration(min) + " and " + show_duration(max));
  }
  record(*state_, full, show_duration(v));
  return v;
}

uint64_t Node::get_size(const std::string& key, uint64_t fallback, uint64_t min, uint64_t max) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  uint64_t v = fallback;
  if (raw) {
    auto parsed = parse_size(raw->text);
    if (!parsed) bad_value(*raw, full, "expected a size like 1048576, 64KiB or 10MiB, got '" + raw->text + "'");
    v = *parsed;
    if (v < min || v > max)
      bad_value(*raw, full, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " bytes");
  }
  record(*state_, full, std::to_string(v));
  return v;
}

std::vector<std::string> Node::get_strings(const std::string& key, const std::vector<std::string>& fallback) {
  const std::string full = join_path(path_, key);
  State& st = *state_;
  st.read_keys[path_].insert(key);
  std::vector<std::string> out = fallback;
  const std::string env = env_name(full);
  auto apply = [&](const std::string& text, const std::string& location) {
    try {
      return substitute(text);
    } catch (const std::exception& e) {
      throw ConfigError(location + ": " + full + ": " + e.what());
    }
  };
  if (const char* v = std::getenv(env.c_str())) {
    st.used_env.insert(env);
    out.clear();
    std::istringstream parts(v);
    for (std::string item; std::getline(parts, item, ',');) {
      item = trim(item);
      if (!item.empty()) out.push_back(apply(item, "environment " + env));
    }
  } else if (auto found = find_key(mapping_at(st, path_), key); found && found->value && !found->value.IsNull()) {
    if (!found->value.IsSequence())
      throw ConfigError(where(st, found->value.Mark()) + ": " + full + ": expected a list");
    out.clear();
    for (const auto& item : found->value) {
      if (!item.IsScalar()) throw ConfigError(where(st, item.Mark()) + ": " + full + ": expected a list of strings");
      out.push_back(apply(item.Scalar(), where(st, item.Mark())));
    }
  }
  std::string shown = "[";
  for (size_t i = 0; i < out.size(); ++i) shown += (i ? ", " : "") + out[i];
  record(st, full, shown + "]");
  return out;
}

std::string Node::get_enum(const std::string& key, const std::string& fallback,
                           const std::vector<std::string>& allowed) {
  const std::string full = join_path(path_, key);
  auto raw = raw_scalar(*state_, path_, key);
  std::string v = raw ? trim(raw->text) : fallback;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    if (raw) bad_value(*raw, full, "must be one of: " + list + "; got '" + v + "'");
    throw ConfigError(full + ": default '" + v + "' is not one of: " + list);
  }
  record(*state_, full, v);
  return v;
}

Node Node::section(const std::string& key) {
  state_->read_keys[path_].insert(key);
  std::string child = join_path(path_, key);
  if (!state_->segments.contains(child)) {
    std::vector<std::string> keys;
    if (auto it = state_->segments.find(path_); it != state_->segments.end()) keys = it->second;
    else if (!path_.empty()) keys = {path_};  // top-level sections have no dots
    keys.push_back(key);
    state_->segments[child] = std::move(keys);
  }
  state_->read_keys[child];          // registers the mapping for the unknown-key check
  (void)mapping_at(*state_, child);  // a scalar where a mapping belongs fails now
  return Node(state_, child);
}

std::vector<std::string> Node::keys() {
  std::vector<std::string> out;
  YAML::Node mapping = mapping_at(*state_, path_);
  auto& read = state_->read_keys[path_];
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    out.push_back(it->first.Scalar());
    read.insert(it->first.Scalar());
  }
  return out;
}

void Node::finish() {
  YAML::Node mapping = mapping_at(*state_, path_);
  const auto& read = state_->read_keys[path_];
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!read.count(key))
      throw ConfigError(where(*state_, it->first.Mark()) + ": " + join_path(path_, key) + ": unknown key");
  }
}

void Node::fail(const std::string& key, const std::string& message) const {
  const std::string full = key.empty() ? path_ : join_path(path_, key);
  const std::string env = env_name(full);
  if (!key.empty() && std::getenv(env.c_str())) throw ConfigError("environment " + env + ": " + full + ": " + message);
  YAML::Node mapping = mapping_at(*state_, path_);
  if (!key.empty()) {
    if (auto found = find_key(mapping, key); found && found->value)
      throw ConfigError(where(*state_, found->value.Mark()) + ": " + full + ": " + message);
  }
  throw ConfigError(state_->file + ": " + (full.empty() ? "config" : full) + ": " + message);
}

Document Document::load_string(const std::string& text, const std::string& name) {
  auto st = std::make_shared<State>();
  st->file = name;
  try {
    st->root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(where(*st, e.mark) + ": invalid YAML: " + e.msg);
  }
  if (!st->root || st->root.IsNull()) st->root = YAML::Node(YAML::NodeType::Map);
  if (!st->root.IsMap()) throw ConfigError(name + ":1:1: the configuration must be a mapping of sections");
  st->read_keys[""];
  return Document(std::move(st));
}

Document Document::load_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file + ": cannot open configuration file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_string(text, file);
}

Node Document::root() {
  return Node(state_, "");
}

void Document::finish() {
  for (const auto& [path, keys] : state_->read_keys) Node(state_, path).finish();
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (name.rfind(kEnvPrefix, 0) != 0 || kReservedEnv.count(name) || name.rfind("HUNTAZE_TEST_", 0) == 0) continue;
    if (!state_->used_env.count(name))
      throw ConfigError("environment " + name + ": no configuration key matches this override");
  }
}

std::vector<std::pair<std::string, std::string>> Document::effective() const {
  return state_->effective;
}
const std::string& Document::file_name() const {
  return state_->file;
}

}  // namespace huntaze::config
