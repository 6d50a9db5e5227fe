#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "bakthat/stream.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"
#include "util/huge_pages.hpp"

namespace bakthat::storage::transfer {

// Reads an object of known size as consecutive ranges of `chunk` bytes,
// `window` of them in flight on threads, handed on in order. A range whose
// transfer drops is resumed from the byte reached, under the retry policy.
// Memory stays bounded by (window + 1) * chunk, in buffers reused from range
// to range. Destruction cancels the ranges
// still in flight and waits for them.
class RangedReader : public Source {
 public:
  // Sends one ranged GET of bytes [first, last] (inclusive, as in a Range
  // header), passing the body to `on_body` as it comes; called on worker
  // threads. Raising `cancel` aborts it.
  using Fetch = std::function<void(std::uint64_t first, std::uint64_t last,
                                   const std::function<void(Bytes)>& on_body,
                                   const std::atomic<bool>& cancel)>;
  // `what` names the object in errors ("S3: 'key'"). With `wait_first`
  // the constructor waits for the first range, so its errors surface there.
  RangedReader(Fetch fetch, net::retry::Policy policy, std::string what, std::uint64_t size,
               std::uint64_t chunk, int window, bool wait_first);
  // The same, with the object's first bytes already read (the GET that
  // told its size): the ranges start after them.
  RangedReader(Fetch fetch, net::retry::Policy policy, std::string what, std::uint64_t size,
               std::uint64_t chunk, int window, util::LargeBuffer first);
  ~RangedReader() override;

  // Sends one GET of bytes [0, last] (a Range header), passing the body to
  // `on_body`, and returns the reply, a 416 (an empty object has no byte 0)
  // among the replies returned; other failures raise.
  using FirstGet = std::function<net::Response(std::uint64_t last, const std::function<void(Bytes)>& on_body)>;
  // Opens a whole object without a HEAD before it: the first range is read
  // here (retried under `policy`), its reply's Content-Range says the
  // object's size, and its errors (no such object, still archived) surface
  // here. An object that fits in one range costs that one request.
  static std::unique_ptr<RangedReader> open(Fetch fetch, const FirstGet& first_get, net::retry::Policy policy,
                                            std::string what, std::uint64_t chunk, int window);

  std::size_t read(MutableBytes out) override;

 private:
  void schedule();
  void next_chunk();
  util::LargeBuffer fetch(std::uint64_t start, std::uint64_t len, util::LargeBuffer data);

  Fetch fetch_;
  net::retry::Policy policy_;
  std::string what_;
  std::uint64_t size_, chunk_;
  int window_;
  std::uint64_t next_start_ = 0;
  std::deque<std::future<util::LargeBuffer>> in_flight_;
  util::LargeBuffer current_;
  // Range buffers handed back for the next ranges: a fresh one per range
  // would fault in (and then unmap) its pages every time.
  std::vector<util::LargeBuffer> spare_;
  std::size_t pos_ = 0;
  std::atomic<bool> cancel_{false};
};

}  // namespace bakthat::storage::transfer
