#include "redis/asio_adapter.hpp"

#include <hiredis/async.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <memory>

namespace huntaze::redis::detail {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// One per hiredis context. It owns itself (self_) from attach until hiredis
// calls ev.cleanup; in-flight waits hold it too, so a wait that completes
// after the context is gone finds ac_ == nullptr and does nothing.
class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
 public:
  AsioAdapter(redisAsyncContext* ac, const Strand& strand, std::function<void()> on_free)
      : ac_(ac), strand_(strand), socket_(strand, ac->c.fd), on_free_(std::move(on_free)) {}

  void install() {
    self_ = shared_from_this();
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) noexcept { static_cast<AsioAdapter*>(p)->want(kRead, true); };
    ac_->ev.delRead = [](void* p) noexcept { static_cast<AsioAdapter*>(p)->want(kRead, false); };
    ac_->ev.addWrite = [](void* p) noexcept { static_cast<AsioAdapter*>(p)->want(kWrite, true); };
    ac_->ev.delWrite = [](void* p) noexcept { static_cast<AsioAdapter*>(p)->want(kWrite, false); };
    ac_->ev.cleanup = [](void* p) noexcept { static_cast<AsioAdapter*>(p)->detach(); };
  }

 private:
  enum Direction { kRead = 0, kWrite = 1 };

  // hiredis expects level-style interest (like the libev adapter): once added,
  // a direction stays watched until it is deleted. Asio waits are one-shot,
  // so a satisfied wait is re-armed while the interest remains. Deleting an
  // interest cannot cancel just one direction's wait, so a wait that
  // completes without interest is simply ignored.
  void want(Direction d, bool on) {
    interest_[d].wanted = on;
    if (on) arm(d);
  }

  void arm(Direction d) {
    Interest& i = interest_[d];
    if (i.waiting || !ac_) return;
    i.waiting = true;
    socket_.async_wait(d == kRead ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
                       asio::bind_executor(strand_, [self = shared_from_this(), d](const error_code& ec) {
                         self->on_ready(d, ec);
                       }));
  }

  void on_ready(Direction d, const error_code& ec) {
    interest_[d].waiting = false;
    if (!ac_ || ec == asio::error::operation_aborted || !interest_[d].wanted) return;
    // Any other error is left for hiredis to discover on the socket.
    if (d == kRead) redisAsyncHandleRead(ac_);
    else redisAsyncHandleWrite(ac_);
    // That call may have freed the context (detach() ran) or changed interest.
    if (ac_ && interest_[d].wanted) arm(d);
  }

  // ev.cleanup: hiredis is about to close the socket and free the context.
  void detach() {
    if (!ac_) return;
    auto self = std::move(self_);  // this lives at least until we return
    // Never be called again, whatever path hiredis takes through its teardown.
    ac_->ev.data = nullptr;
    ac_->ev.addRead = ac_->ev.delRead = ac_->ev.addWrite = ac_->ev.delWrite = nullptr;
    ac_->ev.cleanup = nullptr;
    ac_ = nullptr;
    // Stop watching without closing: the fd belongs to hiredis, which closes
    // it after this returns. Pending waits complete with operation_aborted.
    socket_.release();
    auto on_free = std::move(on_free_);
    on_free();
    // hiredis is still inside its teardown (it may yet run callbacks that
    // reach the owner through ac->data), so release the owner only from a
    // later turn of the strand.
    asio::post(strand_, [on_free = std::move(on_free), self = std::move(self)] {});
  }

  struct Interest {
    bool wanted = false;
    bool waiting = false;
  };

  redisAsyncContext* ac_;
  Strand strand_;
  asio::posix::stream_descriptor socket_;
  std::function<void()> on_free_;
  std::shared_ptr<AsioAdapter> self_;
  Interest interest_[2];
};

}  // namespace

void attach_asio(redisAsyncContext* ac, const Strand& strand, std::function<void()> on_free) {
  std::make_shared<AsioAdapter>(ac, strand, std::move(on_free))->install();
}

}  // namespace huntaze::redis::detail
