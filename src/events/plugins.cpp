// Plugins: shared libraries named in the profile's `plugins`, loaded with
// dlopen once per process and never unloaded (their callbacks stay
// registered).
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>

#include "events/scope.hpp"

namespace bakthat::events {
namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// An entry is a file name in plugins_dir (".so" may be left out) or an
// absolute path.
std::string locate(const std::string& entry, const Profile& profile) {
  if (entry.empty()) throw Error(ErrorKind::Config, "plugins: an entry is empty");
  std::string path;
  if (entry[0] == '/') {
    path = entry;
  } else {
    if (profile.plugins_dir.empty())
      throw Error(ErrorKind::Config, "plugin '" + entry + "': plugins_dir is not set (or give an absolute path)");
    path = profile.plugins_dir + "/" + entry;
  }
  if (is_file(path)) return path;
  if (is_file(path + ".so")) return path + ".so";
  throw Error(ErrorKind::Config, "plugin '" + entry + "' not found: no file " + path +
                                     (path.ends_with(".so") ? "" : " or " + path + ".so"));
}

std::string canonical(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
  return real ? std::string(real.get()) : path;
}

PluginLoader& plugin_loader() {
  static PluginLoader loader;
  return loader;
}

void subscribe_forever(const std::string& event, EventCallback callback) {
  subscribe(event, std::move(callback)).release();
}

std::mutex& plugins_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

void set_plugin_loader(PluginLoader loader) {
  std::lock_guard lock(plugins_mutex());
  plugin_loader() = std::move(loader);
}

void load_plugins(const Profile& profile) {
  if (profile.plugins.empty()) return;
  static std::set<std::string> loaded;
  static std::set<std::string> taken;  // entries the PluginLoader took
  std::lock_guard lock(plugins_mutex());
  for (const auto& entry : profile.plugins) {
    if (taken.count(entry)) continue;
    bool took = false;
    try {
      took = plugin_loader() && plugin_loader()(entry, profile.plugins_dir, profile.name);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(ErrorKind::Config, "plugin '" + entry + "' cannot be loaded: " + e.what());
    }
    if (took) {
      taken.insert(entry);
      continue;
    }
    std::string path = canonical(locate(entry, profile));
    if (loaded.count(path)) continue;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = ::dlerror();
      throw Error(ErrorKind::Config, "plugin '" + entry + "' cannot be loaded: " + (why ? why : path));
    }
    auto init = reinterpret_cast<PluginInitFunction>(::dlsym(handle, kPluginInitSymbol));
    if (!init) {
      ::dlclose(handle);
      throw Error(ErrorKind::Config, "plugin '" + entry + "' (" + path + ") does not export " + kPluginInitSymbol);
    }
    PluginApi api;
    api.version = kPluginApiVersion;
    api.path = path;
    api.profile = profile.name;
    api.subscribe = subscribe_forever;
    try {
      init(&api);
    } catch (const std::exception& e) {
      // Not unloaded: it may have registered callbacks before throwing.
      loaded.insert(path);
      throw Error(ErrorKind::Config, "plugin '" + entry + "' failed to start: " + e.what());
    }
    loaded.insert(path);
  }
}

}  // namespace bakthat::events
