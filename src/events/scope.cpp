#include "events/scope.hpp"

namespace bakthat::events {

nlohmann::json result_json(const BackupRecord& r) { return r; }

nlohmann::json result_json(const RestoreResult& result) {
  const char* state = "restored";
  if (result.state == RestoreState::RetrievalStarted) state = "retrieval_started";
  if (result.state == RestoreState::RetrievalInProgress) state = "retrieval_in_progress";
  return {{"record", result_json(result.record)}, {"state", state}, {"restored", result.restored}};
}

nlohmann::json result_json(const std::vector<RetentionDecision>& decisions) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : decisions)
    out.push_back({{"record", result_json(d.record)}, {"keep", d.keep}, {"reasons", d.reasons}, {"error", d.error}});
  return out;
}

void fire(const Event& event, const Profile& profile, Reporter& reporter) {
  for (const auto& why : publish(event)) reporter.warning("event " + event.name + ": a callback failed: " + why);
  auto hook = profile.hooks.find(event.name);
  if (hook == profile.hooks.end() || hook->second.empty()) return;
  std::string why = run_hook(hook->second, event);
  if (!why.empty()) reporter.warning("hook " + event.name + " failed: " + why);
}

Scope::Scope(std::string operation, std::string target, const Profile& profile, const std::string& destination,
             Reporter& reporter)
    : profile_(profile), reporter_(reporter) {
  load_plugins(profile);
  event_.operation = std::move(operation);
  event_.name = "before_" + event_.operation;
  event_.session_id = uuid4();
  event_.target = std::move(target);
  event_.profile = profile.name;
  event_.destination = destination;
  fire(event_, profile_, reporter_);
}

void Scope::finish(nlohmann::json result) {
  event_.name = "on_" + event_.operation;
  event_.result = std::move(result);
  fire(event_, profile_, reporter_);
}

}  // namespace bakthat::events
