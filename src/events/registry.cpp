// The process-wide table of C++ event callbacks, and session ids.
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <mutex>

#include "bakthat/errors.hpp"
#include "bakthat/events.hpp"

namespace bakthat::events {
namespace {

struct Entry {
  std::uint64_t id;
  std::string event;
  // Shared so that a publish() in progress keeps the callback alive while
  // another thread unsubscribes it.
  std::shared_ptr<const EventCallback> callback;
};

struct Registry {
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::vector<Entry> entries;
};

Registry& registry() {
  // Never destroyed: callbacks may be unsubscribed from static destructors.
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

bool known_event(const std::string& name) { return event_names().contains(name); }

Subscription subscribe(const std::string& event, EventCallback callback) {
  if (event != "*" && !known_event(event)) {
    std::string ops;
    for (std::string_view op : kEventOperations) ops += (ops.empty() ? "" : ", ") + std::string(op);
    throw Error(ErrorKind::Usage, "unknown event '" + event + "' (before_ or on_ followed by one of " + ops + "; or *)");
  }
  if (!callback) throw Error(ErrorKind::Usage, "no callback given for event '" + event + "'");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::uint64_t id = r.next_id++;
  r.entries.push_back({id, event, std::make_shared<const EventCallback>(std::move(callback))});
  return Subscription(id);
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    unsubscribe();
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void Subscription::unsubscribe() noexcept {
  if (id_ == 0) return;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.entries, [&](const Entry& e) { return e.id == id_; });
  id_ = 0;
}

std::vector<std::string> publish(const Event& event) {
  std::vector<std::shared_ptr<const EventCallback>> targets;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (const auto& e : r.entries)
      if (e.event == event.name) targets.push_back(e.callback);
    for (const auto& e : r.entries)
      if (e.event == "*") targets.push_back(e.callback);
  }
  // Called without the lock, so a callback may subscribe or unsubscribe.
  std::vector<std::string> failures;
  for (const auto& cb : targets) {
    try {
      (*cb)(event);
    } catch (const std::exception& e) {
      failures.push_back(e.what());
    } catch (...) {
      failures.push_back("unknown exception");
    }
  }
  return failures;
}

std::string uuid4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(ErrorKind::Crypto, "the random number generator failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

}  // namespace bakthat::events
