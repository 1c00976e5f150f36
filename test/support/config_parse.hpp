// Parsing one configuration section from YAML text, as unit tests of a
// section's parser do:
//
//   mail::MailConfig parse(const std::string& yaml) {
//     return test::parse_section(yaml, "mail", mail::parse_mail_config);
//   }
//   std::string error_of(const std::string& yaml) {
//     return test::config_error([&] { parse(yaml); });
//   }
//   CHECK_THAT(error_of("mail: {threads: 0}"), Contains("mail.threads"));
#pragma once

#include <string>
#include <utility>

#include "huntaze/core/config.hpp"

namespace huntaze::test {

// `yaml` loaded as the file "test.yaml", its section `name` (an empty one
// when absent) handed to `parse` (callable with a config::Node), then the
// document finished as at start-up, so that a key `parse` did not read is an
// error too. Returns what `parse` returned.
template <class Parse>
auto parse_section(const std::string& yaml, const std::string& name, Parse&& parse) {
  auto doc = config::Document::load_string(yaml, "test.yaml");
  auto result = std::forward<Parse>(parse)(doc.root().section(name));
  doc.finish();
  return result;
}

// The message of the config::ConfigError that `run` throws; "no error" when
// it throws none (any other exception propagates).
template <class Run>
std::string config_error(Run&& run) {
  try {
    std::forward<Run>(run)();
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace huntaze::test
