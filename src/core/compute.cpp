#include "huntaze/core/compute.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace huntaze {
namespace {

// Shared by the caller and the helpers it posts: the next part to take, the
// parts finished, and the first failure. Helpers that start after every
// part was taken find nothing to do and leave.
struct Spread {
  Spread(int n, const std::function<void(int)>& fn) : parts(n), part(fn) {}

  const int parts;
  const std::function<void(int)>& part;  // the caller outlives every part (it waits for them)
  std::atomic<int> next{0};
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0;
  std::exception_ptr failure;

  // Takes and runs parts until none is left.
  void work() {
    for (int i = next.fetch_add(1); i < parts; i = next.fetch_add(1)) {
      std::exception_ptr error;
      try {
        part(i);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex);
      if (error && !failure) failure = error;
      if (++done == parts) all_done.notify_all();
    }
  }
};

}  // namespace

void Compute::parallel_for(int parts, const std::function<void(int)>& part) {
  if (parts <= 0) return;
  auto spread = std::make_shared<Spread>(parts, part);
  // One helper per other part, up to the pool's other threads.
  // A helper that could not be posted is no loss: the caller takes its parts.
  const int helpers = std::min(parts - 1, threads_ - 1);
  try {
    for (int i = 0; i < helpers; ++i) boost::asio::post(pool_, [spread] { spread->work(); });
  } catch (...) {
  }
  spread->work();
  std::unique_lock lock(spread->mutex);
  spread->all_done.wait(lock, [&] { return spread->done == spread->parts; });
  if (spread->failure) std::rethrow_exception(spread->failure);
}

}  // namespace huntaze
