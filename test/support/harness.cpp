#include "support/harness.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace huntaze::test {

std::string require_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string(name) + " is not set: run the tests through scripts/test");
  return v;
}

std::string admin_scalar(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect: " + err);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string value = ok && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "";
  std::string err = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + err);
  return value;
}

void admin_exec(const std::string& url, const std::string& sql) { (void)admin_scalar(url, sql); }

std::string fresh_database_url() {
  return new_database_url(require_env("HUNTAZE_TEST_TEMPLATE"));
}

std::string empty_database_url() {
  return new_database_url("template0");
}

namespace {

// The databases this process made and has not dropped yet.
struct CreatedDatabases {
  std::mutex mutex;
  std::string admin_url;
  std::vector<std::string> names;
};

CreatedDatabases& created_databases() {
  static CreatedDatabases databases;
  return databases;
}

}  // namespace

std::string new_database_url(const std::string& templ) {
  const std::string admin = require_env("HUNTAZE_TEST_PG_URL");
  auto& created = created_databases();
  static std::atomic<int> counter{0};
  std::random_device rd;
  const std::string name =
      "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 1000000);
  // Concurrent clones of one template can collide briefly; retry.
  for (int attempt = 0;; ++attempt) {
    try {
      admin_exec(admin, "CREATE DATABASE " + name + " TEMPLATE " + templ);
      {
        std::lock_guard lock(created.mutex);
        created.admin_url = admin;
        created.names.push_back(name);
      }
      break;
    } catch (const std::exception&) {
      if (attempt >= 50) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + attempt * 10));
    }
  }
  return admin + " dbname=" + name;
}

void drop_created_databases() {
  auto& created = created_databases();
  std::vector<std::string> names;
  std::string admin;
  {
    std::lock_guard lock(created.mutex);
    names.swap(created.names);
    admin = created.admin_url;
  }
  if (names.empty()) return;
  PGconn* conn = PQconnectdb(admin.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "test harness: cannot drop %zu test databases: %s", names.size(), PQerrorMessage(conn));
    PQfinish(conn);
    return;
  }
  for (const auto& name : names) {
    PGresult* res = PQexec(conn, ("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      std::fprintf(stderr, "test harness: dropping %s failed: %s", name.c_str(), PQresultErrorMessage(res));
    }
    PQclear(res);
  }
  PQfinish(conn);
}

namespace {

struct ScratchDirectories {
  std::mutex mutex;
  std::vector<std::filesystem::path> paths;
};
ScratchDirectories& scratch_directories() {
  static ScratchDirectories d;
  return d;
}

}  // namespace

std::string scratch_directory() {
  static std::atomic<int> counter{0};
  auto path = std::filesystem::temp_directory_path() /
              ("huntaze-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  auto& d = scratch_directories();
  std::lock_guard lock(d.mutex);
  d.paths.push_back(path);
  return path.string();
}

void remove_scratch_directories() {
  auto& d = scratch_directories();
  std::vector<std::filesystem::path> paths;
  {
    std::lock_guard lock(d.mutex);
    paths.swap(d.paths);
  }
  for (const auto& p : paths) {
    std::error_code ec;
    std::filesystem::remove_all(p, ec);
    if (ec) std::fprintf(stderr, "test harness: cannot remove %s: %s\n", p.c_str(), ec.message().c_str());
  }
}

redis::RedisConfig shared_redis_config() {
  redis::RedisConfig c;
  c.host = "127.0.0.1";
  c.port = std::stoi(require_env("HUNTAZE_TEST_REDIS_PORT"));
  return c;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

namespace {

bool redis_answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char ping[] = "PING\r\n";
    if (::write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1)) {
      char buf[16] = {};
      timeval tv{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ok = ::read(fd, buf, sizeof buf - 1) > 0 && std::string(buf).rfind("+PONG", 0) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

RedisProcess::RedisProcess() : port_(free_port()) {
  char tmpl[] = "/tmp/huntaze-redis-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  start();
}

RedisProcess::~RedisProcess() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisProcess::start() {
  if (pid_ > 0) return;
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    std::string port = std::to_string(port_);
    ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", "", "--loglevel", "warning",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  if (!eventually([&] { return redis_answers(port_); }, std::chrono::seconds(10)))
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
}

void RedisProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

redis::RedisConfig RedisProcess::config() const {
  redis::RedisConfig c;
  c.host = "127.0.0.1";
  c.port = port_;
  c.reconnect_min = std::chrono::milliseconds(20);
  c.reconnect_max = std::chrono::milliseconds(200);
  return c;
}

}  // namespace huntaze::test
