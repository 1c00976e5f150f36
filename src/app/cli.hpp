// The command line: huntaze serve|migrate|check-config|healthcheck|version.
//
// Exit codes: 0 success; 1 runtime failure (a dependency is down, a
// migration failed, the health check failed); 2 usage or configuration error.
#pragma once

namespace huntaze::app {

int run_cli(int argc, char** argv);

}  // namespace huntaze::app
