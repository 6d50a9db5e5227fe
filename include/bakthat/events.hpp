// Events: each public operation announces itself before it starts
// (`before_X`) and once it has succeeded (`on_X`, with its result), for X in
// backup, restore, delete, delete_older_than and rotate_backups. Both events
// of one call share a session id (a random UUID4).
//
// Three kinds of listeners receive them, in this order:
//   1. C++ callbacks registered with events::subscribe();
//   2. plugins: shared libraries named in the profile's `plugins` (looked up
//      in `plugins_dir`), loaded once per process at the first operation that
//      uses that profile; each exports
//        extern "C" void bakthat_plugin_init(bakthat::PluginApi* api);
//      and registers its callbacks through api->subscribe;
//   3. the profile's `hooks:` ({event name: shell command}), run with
//      /bin/sh -c and given the event in the environment: BAKTHAT_EVENT,
//      BAKTHAT_SESSION_ID, BAKTHAT_NAME, BAKTHAT_OPERATION, BAKTHAT_PROFILE,
//      BAKTHAT_DESTINATION and BAKTHAT_RESULT (JSON; when larger than 64 KiB
//      it is in the file BAKTHAT_RESULT_FILE instead). A hook's standard
//      output goes to standard error, so that it never mixes with a restore
//      to standard output. Hooks never see BAKTHAT_PASSWORD.
// A listener that fails (a callback that throws, a hook that exits non-zero)
// is reported as a warning through the operation's Reporter; it never fails
// the operation. A plugin that cannot be loaded does: it is a Config error.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bakthat {

// The operations that announce themselves: events "before_X" and "on_X".
inline constexpr std::array<std::string_view, 5> kEventOperations = {"backup", "restore", "delete",
                                                                     "delete_older_than", "rotate_backups"};

// Every event's name: "before_X" and "on_X" for each X of kEventOperations.
inline std::set<std::string> event_names() {
  std::set<std::string> out;
  for (std::string_view op : kEventOperations) {
    out.insert("before_" + std::string(op));
    out.insert("on_" + std::string(op));
  }
  return out;
}

struct Event {
  std::string name;         // "before_backup", "on_rotate_backups", ...
  std::string operation;    // "backup", "restore", "delete", "delete_older_than", "rotate_backups"
  std::string session_id;   // UUID4, the same for one call's before_X and on_X
  std::string target;       // the path or name the operation was given
  std::string profile;      // the profile's name
  std::string destination;  // local, s3, glacier or swift
  // on_X: the operation's result. backup, delete: the catalog record;
  // restore: {"record", "state", "restored"}; delete_older_than,
  // rotate_backups: an array of {"record", "keep", "reasons", "error"}.
  // null for before_X.
  nlohmann::json result;
};

using EventCallback = std::function<void(const Event&)>;

namespace events {

// A registered callback. Destroying the handle (or unsubscribe()) removes
// the callback; release() keeps it registered for the life of the process.
// A callback may run on any thread that runs an operation, and may still be
// running on another thread when unsubscribe() returns.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::uint64_t id) : id_(id) {}
  Subscription(Subscription&& other) noexcept : id_(other.id_) { other.id_ = 0; }
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { unsubscribe(); }

  void unsubscribe() noexcept;
  void release() noexcept { id_ = 0; }
  bool active() const noexcept { return id_ != 0; }

 private:
  std::uint64_t id_ = 0;
};

// Registers `callback` for the events named `event` ("on_backup"), or for
// every event when `event` is "*". Throws Usage for an unknown event name.
[[nodiscard]] Subscription subscribe(const std::string& event, EventCallback callback);

// Delivers `event` to the subscribed callbacks (those of its name, then
// those of "*"). Returns the messages of the callbacks that threw.
std::vector<std::string> publish(const Event& event);

// Whether `name` is one of the before_X / on_X names.
bool known_event(const std::string& name);

// Loads a `plugins` entry that is not a shared library: the Python binding
// loads the Python bakthat's "module.Class" entries with it. Given the
// entry, the profile's plugins_dir and the profile's name, it returns whether
// it took the entry; an entry it declines is loaded as a shared library. It
// is asked once per entry and process, before the entry is looked up as a
// file; an exception it throws fails the operation as a plugin that cannot
// be loaded does. An empty loader (the default) declines every entry.
using PluginLoader =
    std::function<bool(const std::string& entry, const std::string& plugins_dir, const std::string& profile)>;
void set_plugin_loader(PluginLoader loader);

// A random (version 4) UUID, lower-case, 8-4-4-4-12, from OpenSSL's CSPRNG.
std::string uuid4();

}  // namespace events

// What a plugin's bakthat_plugin_init receives. Plugins are compiled against
// these headers with the same compiler; they need not link libbakthat.
struct PluginApi {
  int version = 1;          // kPluginApiVersion of the loading library
  std::string path;         // the plugin's file
  std::string profile;      // the profile that named it
  // Registers a callback for `event` ("*": every event) for the life of the
  // process. Throws Usage for an unknown event name.
  std::function<void(const std::string& event, EventCallback callback)> subscribe;
};

inline constexpr int kPluginApiVersion = 1;
using PluginInitFunction = void (*)(PluginApi*);
inline constexpr const char* kPluginInitSymbol = "bakthat_plugin_init";

}  // namespace bakthat
