// How operations fire their events (see include/bakthat/events.hpp): a Scope
// at the top of each public operation fires before_X when constructed, and
// on_X with the result when the operation hands its result to done(). An
// operation that throws fires no on_X.
//
//   events::Scope ev("backup", path, ctx.profile(), ctx.destination(), ctx.reporter());
//   ...
//   return ev.done(record);
#pragma once

#include <string>
#include <vector>

#include "bakthat/bakthat.hpp"

namespace bakthat::events {

// The on_X results as JSON.
nlohmann::json result_json(const BackupRecord& record);
nlohmann::json result_json(const RestoreResult& result);
nlohmann::json result_json(const std::vector<RetentionDecision>& decisions);

// Loads the profile's plugins that this process has not loaded yet (once per
// file). Throws Config naming the plugin when one cannot be found or loaded.
void load_plugins(const Profile& profile);

// Runs one `hooks:` command for `event`. Returns "" on success, else why it
// failed (for a warning).
std::string run_hook(const std::string& command, const Event& event);

// Delivers `event` to every listener; failures become warnings.
void fire(const Event& event, const Profile& profile, Reporter& reporter);

class Scope {
 public:
  // Loads the profile's plugins (throws Config if one fails), then fires
  // before_<operation>.
  Scope(std::string operation, std::string target, const Profile& profile, const std::string& destination,
        Reporter& reporter);
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  // Fires on_<operation> with `result`, and returns it.
  template <typename T>
  T done(T result) {
    finish(result_json(result));
    return result;
  }

  const std::string& session_id() const { return event_.session_id; }

 private:
  void finish(nlohmann::json result);

  Event event_;
  const Profile& profile_;
  Reporter& reporter_;
};

}  // namespace bakthat::events
