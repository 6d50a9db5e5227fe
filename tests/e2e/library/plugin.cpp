// A test plugin: appends every event it receives, as one JSON line, to the
// file named by BAKTHAT_TEST_PLUGIN_LOG.
#include <bakthat/events.hpp>

#include <cstdlib>
#include <fstream>

extern "C" void bakthat_plugin_init(bakthat::PluginApi* api) {
  const char* log = std::getenv("BAKTHAT_TEST_PLUGIN_LOG");
  if (!log) return;
  std::string path = log;
  std::ofstream(path, std::ios::app) << nlohmann::json{{"loaded", api->path}, {"version", api->version}}.dump()
                                     << "\n";
  api->subscribe("*", [path](const bakthat::Event& e) {
    std::ofstream(path, std::ios::app)
        << nlohmann::json{{"name", e.name}, {"session_id", e.session_id}, {"target", e.target}, {"result", e.result}}
               .dump()
        << "\n";
  });
}
