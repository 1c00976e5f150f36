// Shared by the benchmark programs: command-line options and percentiles.
//
//   bench::Options opt("bench_x", "--db <url> [--rate N] [--seconds N]");
//   opt.text("db", true);                  // --db <text>, required
//   opt.number("rate", 1000, 1);           // --rate N, default 1000, at least 1
//   opt.parse(argc, argv);                 // anything wrong: usage on stderr, exit 2
//   opt["rate"], opt.text_value("db")
//
// Options come as `--name value` pairs; a flag without its value, an unknown
// flag, a number that is not a whole decimal integer ("5s", "1e3", "") or one
// outside its range is a usage error.
#pragma once

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

class Options {
 public:
  Options(std::string program, std::string synopsis) : program_(std::move(program)), synopsis_(std::move(synopsis)) {}

  // An integer option with its default and accepted range.
  void number(const std::string& name, int fallback, int min, int max = INT_MAX) {
    numbers_[name] = {fallback, min, max};
  }
  // A text option; a required one must be given and not empty.
  void text(const std::string& name, bool required) { texts_[name] = {"", required}; }

  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      if (!flag.starts_with("--")) usage("unexpected argument " + flag);
      const std::string name = flag.substr(2);
      const bool known = numbers_.contains(name) || texts_.contains(name);
      if (!known) usage("unknown option " + flag);
      if (i + 1 >= argc) usage(flag + " wants a value");
      const std::string value = argv[++i];
      if (auto t = texts_.find(name); t != texts_.end()) {
        t->second.value = value;
        continue;
      }
      Number& n = numbers_.at(name);
      int parsed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || parsed < n.min ||
          parsed > n.max)
        usage(flag + " wants " + range(n) + ", not \"" + value + "\"");
      n.value = parsed;
    }
    for (const auto& [name, t] : texts_)
      if (t.required && t.value.empty()) usage("--" + name + " is required");
  }

  int operator[](const std::string& name) const { return numbers_.at(name).value; }
  const std::string& text_value(const std::string& name) const { return texts_.at(name).value; }

  [[noreturn]] void usage(const std::string& problem) const {
    std::cerr << program_ << ": " << problem << "\nusage: " << program_ << " " << synopsis_ << "\n";
    std::exit(2);
  }

 private:
  struct Number {
    int value;
    int min;
    int max;
  };
  struct Text {
    std::string value;
    bool required;
  };

  static std::string range(const Number& n) {
    if (n.max == INT_MAX) {
      if (n.min == 0) return "a non-negative integer";
      if (n.min == 1) return "a positive integer";
      return "an integer of at least " + std::to_string(n.min);
    }
    return "an integer in " + std::to_string(n.min) + ".." + std::to_string(n.max);
  }

  std::string program_;
  std::string synopsis_;
  std::map<std::string, Number> numbers_;
  std::map<std::string, Text> texts_;
};

// The nearest rank (1-based) of the p-th percentile (p in 0..100) among n
// values: ceil(p / 100 * n), at least 1 and at most n.
inline size_t nearest_rank(double p, size_t n) {
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  return std::clamp<size_t>(rank, 1, std::max<size_t>(n, 1));
}

// Nearest-rank percentile (p in 0..100) of values sorted ascending: the
// smallest value with at least p % of them at or below it; 0 when empty.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[nearest_rank(p, sorted.size()) - 1];
}

}  // namespace bench
