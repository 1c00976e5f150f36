#include "app/process_metrics.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace huntaze::app {

namespace {

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  // The command name may contain spaces; fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

double max_fds() {
  return static_cast<double>(::sysconf(_SC_OPEN_MAX));
}

}  // namespace

void register_process_metrics(metrics::Registry& registry, const std::string& version) {
  auto& rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes").with({});
  auto& cpu = registry.counter("process_cpu_seconds_total", "User and system CPU time spent in seconds").with({});
  auto& fds = registry.gauge("process_open_fds", "Open file descriptors").with({});
  auto& fd_limit = registry.gauge("process_max_fds", "Maximum number of open file descriptors").with({});
  auto& start = registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch").with({});
  start.set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  registry.gauge("huntaze_build_info", "Build information; the value is always 1", {"version", "compiler"})
      .with({version, __VERSION__})
      .set(1);
  registry.on_collect([&rss, &cpu, &fds, &fd_limit] {
    rss.set(resident_bytes());
    cpu.set_total(cpu_seconds());
    fds.set(open_fds());
    fd_limit.set(max_fds());
  });
}

}  // namespace huntaze::app
