#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support/harness.hpp"

namespace {

// Each test case's databases are dropped as soon as it ends, so a process
// running many cases (or a whole pass) never holds more than one case's.
struct DropTestDatabases : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    huntaze::test::drop_created_databases();
    huntaze::test::remove_scratch_directories();
    TestEventListenerBase::testCaseEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(DropTestDatabases)
