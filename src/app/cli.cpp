#include "app/cli.hpp"

#include <boost/asio.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "app/app_config.hpp"

#ifndef HUNTAZE_VERSION
#define HUNTAZE_VERSION "dev"
#endif

namespace huntaze::app {

namespace {

constexpr int kOk = 0;
constexpr int kFailure = 1;
constexpr int kUsage = 2;

const char* kUsageText = R"(usage: huntaze <command> [options]

commands:
  serve          run the HTTP server, workers and scheduler until SIGINT/SIGTERM
  migrate        apply pending database migrations (--status: list them, change nothing)
  check-config   validate the configuration and print it with secrets redacted
  healthcheck    probe /healthz of a running server (for container health checks)
  version        print the version

common options:
  --config PATH  configuration file (default: $HUNTAZE_CONFIG or config/huntaze.yaml)
  --help         help for a command

exit codes: 0 success, 1 runtime failure, 2 usage or configuration error
)";

const std::map<std::string, std::string> kCommandHelp = {
    {"serve",
     "usage: huntaze serve [--config PATH]\n\nRuns the server. Migrates first when database.migrate_on_start "
     "is true.\nSIGINT/SIGTERM stop it gracefully within server.shutdown_grace.\n"},
    {"migrate",
     "usage: huntaze migrate [--status] [--config PATH]\n\nApplies pending migrations, each in its own "
     "transaction, under an advisory lock.\n--status lists applied, pending and changed migrations "
     "(exit 1 if one changed).\n"},
    {"check-config",
     "usage: huntaze check-config [--config PATH]\n\nValidates every section and prints the "
     "effective configuration\n(defaults, file and HUNTAZE_* overrides) with secrets redacted.\n"},
    {"healthcheck",
     "usage: huntaze healthcheck [--url http://HOST:PORT/healthz] [--config PATH]\n\nExits 0 when "
     "the URL answers 200 within 3 seconds, 1 otherwise.\nWithout --url the address comes from the "
     "configuration's server section.\n"},
    {"version", "usage: huntaze version\n"},
};

struct Args {
  std::string command;
  std::string config;
  std::string url;
  bool status = false;
  bool help = false;
};

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::string> rest(argv + 1, argv + argc);
  for (size_t i = 0; i < rest.size(); ++i) {
    const auto& s = rest[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= rest.size()) return false;
      into = rest[++i];
      return true;
    };
    if (s == "--help" || s == "-h")
      a.help = true;
    else if (s == "--config") {
      if (!value(a.config)) return std::nullopt;
    } else if (s.rfind("--config=", 0) == 0)
      a.config = s.substr(9);
    else if (s == "--url") {
      if (!value(a.url)) return std::nullopt;
    } else if (s == "--status")
      a.status = true;
    else if (a.command.empty() && s.rfind("-", 0) != 0)
      a.command = s;
    else {
      std::cerr << "huntaze: unknown argument '" << s << "'\n";
      return std::nullopt;
    }
  }
  if (a.config.empty()) {
    const char* env = std::getenv("HUNTAZE_CONFIG");
    a.config = env && *env ? env : "config/huntaze.yaml";
  }
  return a;
}

std::optional<AppConfig> load(const std::string& path) {
  try {
    return load_config_file(path);
  } catch (const std::exception& e) {
    std::cerr << "huntaze: configuration error: " << e.what() << '\n';
    return std::nullopt;
  }
}

// GET url; true on 200. Blocking is fine here: this is a one-shot CLI probe.
bool probe(const std::string& host, const std::string& port, const std::string& path) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  asio::ip::tcp::resolver resolver(ioc);
  bool ok = false;
  std::string response;
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  resolver.async_resolve(host, port, [&](auto ec, auto endpoints) {
    if (ec) return;
    asio::async_connect(socket, endpoints, [&](auto ec2, auto) {
      if (ec2) return;
      asio::async_write(socket, asio::buffer(request), [&](auto ec3, size_t) {
        if (ec3) return;
        asio::async_read(socket, asio::dynamic_buffer(response, 64 * 1024),
                         [&](auto, size_t) { ok = response.rfind("HTTP/1.1 200", 0) == 0; });
      });
    });
  });
  ioc.run_for(std::chrono::seconds(3));
  return ok;
}

int healthcheck(const Args& a) {
  std::string host, port, path = "/healthz";
  if (!a.url.empty()) {
    std::string u = a.url;
    if (u.rfind("http://", 0) != 0) {
      std::cerr << "huntaze healthcheck: --url must start with http://\n";
      return kUsage;
    }
    u = u.substr(7);
    auto slash = u.find('/');
    if (slash != std::string::npos) {
      path = u.substr(slash);
      u = u.substr(0, slash);
    }
    auto hp = split_host_port(u);
    if (hp) {
      host = hp->first;
      port = std::to_string(hp->second);
    } else {
      host = u;
      port = "80";
    }
  } else {
    auto cfg = load(a.config);
    if (!cfg) return kUsage;
    host = cfg->server.host == "0.0.0.0" || cfg->server.host == "::" ? "127.0.0.1" : cfg->server.host;
    port = std::to_string(cfg->server.port);
  }
  if (probe(host, port, path)) return kOk;
  std::cerr << "huntaze healthcheck: http://" << host << ':' << port << path << " is not healthy\n";
  return kFailure;
}

}  // namespace

int run_cli(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) {
    std::cerr << kUsageText;
    return kUsage;
  }
  if (args->command.empty() || args->command == "help") {
    std::cout << kUsageText;
    return args->command.empty() && !args->help ? kUsage : kOk;
  }
  if (args->help) {
    auto it = kCommandHelp.find(args->command);
    if (it == kCommandHelp.end()) {
      std::cerr << "huntaze: unknown command '" << args->command << "'\n" << kUsageText;
      return kUsage;
    }
    std::cout << it->second;
    return kOk;
  }
  const auto& cmd = args->command;
  if (cmd == "version") {
    std::cout << "huntaze " << HUNTAZE_VERSION << '\n';
    return kOk;
  }
  if (cmd == "healthcheck") return healthcheck(*args);
  if (cmd == "check-config") {
    auto cfg = load(args->config);
    if (!cfg) return kUsage;
    std::cout << "# " << args->config << ": valid\n";
    for (const auto& [k, v] : cfg->effective) std::cout << k << " = " << v << '\n';
    return kOk;
  }
  if (cmd == "migrate") {
    auto cfg = load(args->config);
    if (!cfg) return kUsage;
    return run_migrate(*cfg, args->status);
  }
  if (cmd == "serve") {
    auto cfg = load(args->config);
    if (!cfg) return kUsage;
    App app(std::move(*cfg));
    return app.serve();
  }
  std::cerr << "huntaze: unknown command '" << cmd << "'\n" << kUsageText;
  return kUsage;
}

}  // namespace huntaze::app
