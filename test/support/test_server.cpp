#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace huntaze::test {

void TestServer::shutdown(std::chrono::milliseconds grace) {
  shut_down_ = true;
  auto done = boost::asio::co_spawn(ioc_, server_->shutdown(grace), boost::asio::use_future);
  done.get();
}

}  // namespace huntaze::test
