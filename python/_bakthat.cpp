// bakthat._bakthat: the binding of the C++ library that the Python package
// `bakthat` (python/bakthat/) wraps with the Python bakthat's API.
//
// Every operation takes a dict of options (keys as in common_options below)
// and returns the library's result as JSON text, which the Python layer
// turns into dicts: the records' JSON is the library's own (catalog.hpp), so
// nothing of it is written twice. Operations run with the GIL released; the
// library's Reporter messages, password prompts and events come back to
// Python through callables, taking the GIL for the call.
//
// Ctrl-C: while an operation runs, SIGINT also cancels the operation's
// CancelToken (Options::cancel, as the command line's handler does), so the
// operation unwinds as the command line's does (an upload aborted, nothing
// half-written), and the pending KeyboardInterrupt is raised once it has.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <csignal>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bakthat/bakthat.hpp"
#include "events/scope.hpp"

namespace py = pybind11;
using nlohmann::json;

namespace bakthat::python {
namespace {

// ---------------------------------------------------------------- errors

struct ErrorClass {
  ErrorKind kind;
  const char* name;
  const char* doc;
};

constexpr ErrorClass kErrorClasses[] = {
    {ErrorKind::Usage, "UsageError", "Bad arguments or options."},
    {ErrorKind::Config, "ConfigError", "The configuration or a value in it is wrong."},
    {ErrorKind::NotFound, "NotFoundError", "No backup, object or file of that name."},
    {ErrorKind::Io, "IoError", "A local file system failure."},
    {ErrorKind::Storage, "StorageError", "A destination refused or failed a request."},
    {ErrorKind::Auth, "AuthError", "Credentials refused."},
    {ErrorKind::Crypto, "CryptoError", "Wrong password or identity, or not encrypted for us."},
    {ErrorKind::Corrupt, "CorruptError", "Data does not match its checksum or format."},
    {ErrorKind::Conflict, "ConflictError", "Would overwrite something without force."},
    {ErrorKind::Unsafe, "UnsafeError", "An archive entry would land outside the target."},
    {ErrorKind::Partial, "PartialError", "The operation finished but some items failed."},
    {ErrorKind::Unsupported, "UnsupportedError", "The destination or build cannot do this."},
    {ErrorKind::Interrupted, "InterruptedError", "Cancelled (a signal, or the caller)."},
};

PyObject* g_error_base = nullptr;
PyObject* g_error_classes[std::size(kErrorClasses)] = {};

PyObject* error_class(ErrorKind kind) {
  for (std::size_t i = 0; i < std::size(kErrorClasses); ++i)
    if (kErrorClasses[i].kind == kind) return g_error_classes[i];
  return g_error_base;
}

void register_errors(py::module_& m) {
  g_error_base = PyErr_NewExceptionWithDoc("bakthat._bakthat.BakthatError",
                                           "Every error of bakthat; a subclass per cause, with the "
                                           "library's one-line message and `exit_status` (the command "
                                           "line's exit status for it).",
                                           PyExc_Exception, nullptr);
  m.add_object("BakthatError", py::handle(g_error_base));
  for (std::size_t i = 0; i < std::size(kErrorClasses); ++i) {
    std::string qualified = std::string("bakthat._bakthat.") + kErrorClasses[i].name;
    g_error_classes[i] = PyErr_NewExceptionWithDoc(qualified.c_str(), kErrorClasses[i].doc, g_error_base, nullptr);
    py::handle cls(g_error_classes[i]);
    cls.attr("exit_status") = exit_status(kErrorClasses[i].kind);
    m.add_object(kErrorClasses[i].name, cls);
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(error_class(e.kind()), e.what());
    }
  });
}

// ---------------------------------------------------------------- Ctrl-C

// The token every operation of this module is given (Options::cancel).
CancelToken g_sigint_cancel;

// SIGINT cancels the token as well as running the handler that
// was there (Python's, which makes the interpreter raise KeyboardInterrupt
// at its next chance). Installed while at least one operation runs.
std::mutex g_sigint_mutex;
int g_sigint_users = 0;
struct sigaction g_previous_sigint {};

extern "C" void on_sigint(int sig) {
  g_sigint_cancel.cancel();
  if (g_previous_sigint.sa_flags & SA_SIGINFO) {
    if (g_previous_sigint.sa_sigaction) g_previous_sigint.sa_sigaction(sig, nullptr, nullptr);
  } else if (g_previous_sigint.sa_handler != SIG_DFL && g_previous_sigint.sa_handler != SIG_IGN) {
    g_previous_sigint.sa_handler(sig);
  }
}

// One operation's run: the SIGINT handler is in place, and a
// KeyboardInterrupt that a Python callback raised meanwhile is kept to be
// raised once the library has unwound.
class Run {
 public:
  Run() {
    std::lock_guard lock(g_sigint_mutex);
    if (g_sigint_users++ == 0) {
      g_sigint_cancel.reset();
      struct sigaction sa {};
      sa.sa_handler = on_sigint;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_ONSTACK;
      ::sigaction(SIGINT, &sa, &g_previous_sigint);
      // Ignored SIGINT stays ignored (a process started with `nohup`, `&`).
      if (g_previous_sigint.sa_handler == SIG_IGN && !(g_previous_sigint.sa_flags & SA_SIGINFO))
        ::sigaction(SIGINT, &g_previous_sigint, nullptr);
    }
  }
  ~Run() {
    std::lock_guard lock(g_sigint_mutex);
    if (--g_sigint_users == 0) {
      struct sigaction current {};
      ::sigaction(SIGINT, nullptr, &current);
      if (current.sa_handler == on_sigint) ::sigaction(SIGINT, &g_previous_sigint, nullptr);
      g_sigint_cancel.reset();
    }
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // A Python callback raised `e` (with the GIL held): a KeyboardInterrupt
  // cancels the operation and is raised after it; other exceptions are the
  // callback's failure, returned as text.
  std::string callback_failed(py::error_already_set& e) {
    if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit)) {
      g_sigint_cancel.cancel();
      if (!pending_) pending_ = std::move(e);
      return "interrupted";
    }
    return e.what();
  }

  // With the GIL held, once the operation returned or was interrupted:
  // raises the KeyboardInterrupt a callback raised or a SIGINT left
  // pending, if any.
  void raise_pending() {
    if (pending_) {
      auto e = std::move(*pending_);
      pending_.reset();
      throw e;
    }
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }

 private:
  std::optional<py::error_already_set> pending_;
};

// Runs `f` with the GIL released inside a Run; the library's Interrupted
// becomes the KeyboardInterrupt that caused it.
// A KeyboardInterrupt that a callback raised near the end of an operation
// that still completed is raised after it, as Python raises one after a
// call that returns.
template <class F>
auto call(Run& run, F&& f) -> decltype(f()) {
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      {
        py::gil_scoped_release release;
        f();
      }
      run.raise_pending();
    } else {
      auto result = [&] {
        py::gil_scoped_release release;
        return f();
      }();
      run.raise_pending();
      return result;
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Interrupted) run.raise_pending();
    throw;
  }
}

// ---------------------------------------------------------------- Reporter

// Passes the library's messages to a Python callable report(kind, text,
// percent): kind "message" or "warning" with the text, or "progress" with
// the label of the transfer and its completion in percent, said at 0, at
// every tenth and at 100 (the Python bakthat's "Upload completion: N%").
class PyReporter : public Reporter {
 public:
  PyReporter(py::object report, Run& run) : report_(std::move(report)), run_(run) {}

  void message(const std::string& text) override { say("message", text, -1); }
  void warning(const std::string& text) override { say("warning", text, -1); }
  void progress_start(const std::string& label, std::uint64_t total) override {
    std::lock_guard lock(mutex_);
    label_ = label;
    total_ = total;
    said_ = 0;
    say("progress", label_, 0);
  }
  void progress_total(std::uint64_t total) override {
    std::lock_guard lock(mutex_);
    total_ = total;
  }
  void progress(std::uint64_t done) override {
    std::lock_guard lock(mutex_);
    if (total_ == 0) return;
    int percent = done >= total_ ? 100 : static_cast<int>(done * 100 / total_);
    int step = percent / 10 * 10;
    // 100 is said by progress_end, once the transfer is complete.
    if (step > said_ && step < 100) {
      said_ = step;
      say("progress", label_, step);
    }
  }
  void progress_end() override {
    std::lock_guard lock(mutex_);
    said_ = 100;
    say("progress", label_, 100);
  }

 private:
  void say(const char* kind, const std::string& text, int percent) {
    if (report_.is_none()) return;
    py::gil_scoped_acquire gil;
    try {
      report_(kind, text, percent);
    } catch (py::error_already_set& e) {
      run_.callback_failed(e);
    }
  }

  py::object report_;
  Run& run_;
  std::recursive_mutex mutex_;
  std::string label_;
  std::uint64_t total_ = 0;
  int said_ = 0;
};

// ---------------------------------------------------------------- options

// The keys every operation's dict may hold: config (path, "" for
// ~/.bakthat.yml), profile, conf (a profile's keys as JSON text), destination,
// password (None: BAKTHAT_PASSWORD, else ask_password), ask_password (a
// callable returning the password or None) and report (see PyReporter).
template <class T>
T get(const py::dict& d, const char* key, T fallback) {
  if (!d.contains(key) || d[key].is_none()) return fallback;
  return d[key].cast<T>();
}

struct Call {
  Run run;
  PyReporter reporter;
  Call(const py::dict& d) : reporter(d.contains("report") ? py::object(d["report"]) : py::none(), run) {}
};

ConfigSource config_source(const py::dict& d) {
  ConfigSource s;
  s.path = get<std::string>(d, "config", "");
  s.profile = get<std::string>(d, "profile", "");
  if (d.contains("conf") && !d["conf"].is_none()) s.conf_yaml = d["conf"].cast<std::string>();
  return s;
}

void common_options(Options& o, const py::dict& d, Call& call) {
  o.config = config_source(d);
  o.destination = get<std::string>(d, "destination", "");
  if (d.contains("password") && !d["password"].is_none()) o.password = d["password"].cast<std::string>();
  o.reporter = &call.reporter;
  o.cancel = &g_sigint_cancel;
  if (d.contains("ask_password") && !d["ask_password"].is_none()) {
    py::object ask = d["ask_password"];
    Run* run = &call.run;
    o.ask_password = [ask, run]() -> std::optional<std::string> {
      py::gil_scoped_acquire gil;
      try {
        py::object answer = ask();
        if (answer.is_none()) return std::nullopt;
        return answer.cast<std::string>();
      } catch (py::error_already_set& e) {
        std::string why = run->callback_failed(e);
        throw Error(ErrorKind::Interrupted, "password prompt: " + why);
      }
    };
  }
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// ---------------------------------------------------------------- operations

std::string py_backup(const std::string& path, const py::dict& d) {
  Call c(d);
  BackupOptions o;
  common_options(o, d, c);
  o.custom_name = get<std::string>(d, "custom_name", "");
  o.tags = get<std::vector<std::string>>(d, "tags", {});
  o.exclude_file = get<std::string>(d, "exclude_file", "");
  o.reduced_redundancy = get<bool>(d, "reduced_redundancy", false);
  o.incremental = get<bool>(d, "incremental", false);
  if (d.contains("compress") && !d["compress"].is_none()) o.compress = d["compress"].cast<bool>();
  if (d.contains("key") && !d["key"].is_none()) o.extra_metadata["periodic_key"] = d["key"].cast<std::string>();
  return dump(call(c.run, [&] { return json(backup(path, o)); }));
}

std::string py_restore(const std::string& name, const py::dict& d) {
  Call c(d);
  RestoreOptions o;
  common_options(o, d, c);
  o.target_dir = get<std::string>(d, "target_dir", "");
  o.force = get<bool>(d, "force", false);
  o.wait = get<bool>(d, "wait", false);
  o.paths = get<std::vector<std::string>>(d, "paths", {});
  o.include = get<std::vector<std::string>>(d, "include", {});
  o.exclude = get<std::vector<std::string>>(d, "exclude", {});
  return dump(call(c.run, [&] { return events::result_json(restore(name, o)); }));
}

std::string py_list_entries(const std::string& name, const py::dict& d) {
  Call c(d);
  Options o;
  common_options(o, d, c);
  return dump(call(c.run, [&] { return json(list_entries(name, o)); }));
}

// One file of a backup (open_entry), read in pieces with the GIL released.
// The reader outlives the call that opened it, so it reports nothing (its
// Reporter would be that call's) and is cancelled by SIGINT only while a
// read runs.
class PyEntryReader {
 public:
  PyEntryReader(const std::string& name, const std::string& path, const py::dict& d) {
    Call c(d);
    Options o;
    common_options(o, d, c);
    o.reporter = nullptr;
    source_ = call(c.run, [&] { return open_entry(name, path, o); });
  }

  // Up to n bytes (all that is left when n < 0); b"" at the end.
  py::bytes read(std::int64_t n) {
    if (!source_) throw Error(ErrorKind::Usage, "read of a closed file");
    Run run;
    std::string out = call(run, [&] {
      std::string data;
      const bool all = n < 0;
      std::size_t want = all ? std::size_t{1} << 20 : static_cast<std::size_t>(n);
      while (want > 0) {
        const std::size_t have = data.size();
        data.resize(have + want);
        const std::size_t got = source_->read(MutableBytes(reinterpret_cast<std::uint8_t*>(data.data()) + have, want));
        data.resize(have + got);
        if (got == 0 || !all) break;
      }
      return data;
    });
    return py::bytes(out);
  }

  void close() { source_.reset(); }

 private:
  std::unique_ptr<Source> source_;
};

std::string py_show(const py::dict& d) {
  Call c(d);
  ShowOptions o;
  common_options(o, d, c);
  o.query = get<std::string>(d, "query", "");
  o.tags = get<std::vector<std::string>>(d, "tags", {});
  o.this_profile_only = get<bool>(d, "this_profile_only", false);
  o.all_destinations = o.destination.empty();
  return dump(call(c.run, [&] { return json(show(o)); }));
}

std::string py_ls(const std::string& prefix, const py::dict& d) {
  Call c(d);
  Options o;
  common_options(o, d, c);
  return dump(call(c.run, [&] {
    json out = json::array();
    for (const auto& info : ls(prefix, o))
      out.push_back({{"name", info.name}, {"size", info.size}, {"modified", info.modified},
                     {"storage_class", info.storage_class}});
    return out;
  }));
}

std::string py_delete(const std::string& name, const py::dict& d) {
  Call c(d);
  Options o;
  common_options(o, d, c);
  return dump(call(c.run, [&] { return json(remove(name, o)); }));
}

std::string py_verify(const std::string& name, const py::dict& d) {
  Call c(d);
  Options o;
  common_options(o, d, c);
  return dump(call(c.run, [&] { return json(verify(name, o)); }));
}

RetentionOptions retention_options(const py::dict& d, Call& c) {
  RetentionOptions o;
  common_options(o, d, c);
  o.dry_run = get<bool>(d, "dry_run", false);
  o.now = get<std::int64_t>(d, "now", 0);
  return o;
}

std::string py_delete_older_than(const std::string& name, const std::string& interval, const py::dict& d) {
  Call c(d);
  RetentionOptions o = retention_options(d, c);
  return dump(call(c.run, [&] { return events::result_json(delete_older_than(name, interval, o)); }));
}

std::string py_rotate_backups(const std::string& name, const py::dict& d) {
  Call c(d);
  RetentionOptions o = retention_options(d, c);
  return dump(call(c.run, [&] { return events::result_json(rotate_backups(name, o)); }));
}

std::string py_sync(const py::dict& d) {
  Call c(d);
  SyncOptions o;
  common_options(o, d, c);
  return dump(call(c.run, [&] {
    SyncReport r = sync_catalog(o);
    return json{{"sent", r.sent}, {"received", r.received}, {"inserted", r.inserted}, {"updated", r.updated}};
  }));
}

void py_reset_sync(const py::dict& d) {
  Call c(d);
  Options o;
  common_options(o, d, c);
  call(c.run, [&] { reset_sync(o); });
}

// The resolved profile's keys the Python layer needs (plugins, rotation).
std::string py_profile(const py::dict& d) {
  Profile p = load_profile(config_source(d));
  return dump(json{{"name", p.name},
                   {"default_destination", p.default_destination},
                   {"plugins_dir", p.plugins_dir},
                   {"plugins", p.plugins},
                   {"database", p.database},
                   {"local_path", p.local_path},
                   {"s3_bucket", p.s3_bucket},
                   {"glacier_vault", p.glacier_vault},
                   {"region_name", p.region_name}});
}

// ---------------------------------------------------------------- KeyValue

class PyKeyValue {
 public:
  explicit PyKeyValue(const py::dict& d) : options_(d) {}

  std::string set_key(const std::string& key, const std::string& value_json, bool compress,
                      std::optional<std::string> password, std::vector<std::string> tags) {
    Call c(options_);
    KeyValue kv(options(c));
    KeyValue::SetOptions s;
    s.compress = compress;
    s.password = std::move(password);
    s.tags = std::move(tags);
    json value = json::parse(value_json);
    return dump(call(c.run, [&] { return json(kv.set_key(key, value, s)); }));
  }

  // The value's JSON text, or None when the key is missing.
  std::optional<std::string> get_key(const std::string& key, std::optional<std::string> password) {
    Call c(options_);
    KeyValue kv(options(c));
    KeyValue::GetOptions g;
    g.password = std::move(password);
    g.default_value = json(nullptr);
    return call(c.run, [&]() -> std::optional<std::string> {
      if (!kv.find(key)) return std::nullopt;
      return dump(kv.get_key(key, g));
    });
  }

  std::string get_key_url(const std::string& key, std::int64_t expires, const std::string& method) {
    Call c(options_);
    KeyValue kv(options(c));
    return call(c.run, [&] { return kv.get_key_url(key, expires, method); });
  }

  bool delete_key(const std::string& key) {
    Call c(options_);
    KeyValue kv(options(c));
    return call(c.run, [&] { return kv.delete_key(key); });
  }

 private:
  Options options(Call& c) {
    Options o;
    common_options(o, options_, c);
    return o;
  }
  py::dict options_;
};

// ---------------------------------------------------------------- events

// Registers `callback(name, session_id, event_json)` for every event, for
// the life of the process. A callback that raises is reported by the
// library as a warning; a KeyboardInterrupt in it stops the operation.
void py_subscribe_all(py::object callback) {
  auto held = std::make_shared<py::object>(std::move(callback));
  events::subscribe("*", [held](const Event& e) {
    py::gil_scoped_acquire gil;
    json j{{"name", e.name},     {"operation", e.operation},     {"session_id", e.session_id},
           {"target", e.target}, {"profile", e.profile},         {"destination", e.destination},
           {"result", e.result}};
    try {
      (*held)(e.name, e.session_id, dump(j));
    } catch (py::error_already_set& err) {
      if (err.matches(PyExc_KeyboardInterrupt)) g_sigint_cancel.cancel();
      throw std::runtime_error(err.what());
    }
  }).release();
}

// Takes the profile's `plugins` entries that `loader(entry, plugins_dir,
// profile)` accepts (the Python bakthat's "module.Class" plugins).
void py_set_plugin_loader(py::object loader) {
  auto held = std::make_shared<py::object>(std::move(loader));
  events::set_plugin_loader([held](const std::string& entry, const std::string& dir, const std::string& profile) {
    py::gil_scoped_acquire gil;
    try {
      return (*held)(entry, dir, profile).cast<bool>();
    } catch (py::error_already_set& err) {
      throw std::runtime_error(err.what());
    }
  });
}

}  // namespace
}  // namespace bakthat::python

PYBIND11_MODULE(_bakthat, m) {
  using namespace bakthat::python;
  m.doc() = "The binding of the bakthat C++ library; use the `bakthat` package.";
  register_errors(m);
  m.def("version", &bakthat::version);
  m.def("backup", &py_backup, py::arg("path"), py::arg("options"));
  m.def("restore", &py_restore, py::arg("name"), py::arg("options"));
  m.def("list_entries", &py_list_entries, py::arg("name"), py::arg("options"));
  py::class_<PyEntryReader>(m, "EntryReader")
      .def(py::init<const std::string&, const std::string&, const py::dict&>(), py::arg("name"), py::arg("path"),
           py::arg("options"))
      .def("read", &PyEntryReader::read, py::arg("n") = -1)
      .def("close", &PyEntryReader::close);
  m.def("show", &py_show, py::arg("options"));
  m.def("ls", &py_ls, py::arg("prefix"), py::arg("options"));
  m.def("delete", &py_delete, py::arg("name"), py::arg("options"));
  m.def("verify", &py_verify, py::arg("name"), py::arg("options"));
  m.def("delete_older_than", &py_delete_older_than, py::arg("name"), py::arg("interval"), py::arg("options"));
  m.def("rotate_backups", &py_rotate_backups, py::arg("name"), py::arg("options"));
  m.def("sync", &py_sync, py::arg("options"));
  m.def("reset_sync", &py_reset_sync, py::arg("options"));
  m.def("profile", &py_profile, py::arg("options"));
  m.def("parse_interval", &bakthat::parse_interval, py::arg("text"));
  m.def("subscribe_all", &py_subscribe_all, py::arg("callback"));
  m.def("set_plugin_loader", &py_set_plugin_loader, py::arg("loader"));
  py::class_<PyKeyValue>(m, "KeyValue")
      .def(py::init<const py::dict&>(), py::arg("options"))
      .def("set_key", &PyKeyValue::set_key, py::arg("key"), py::arg("value_json"), py::arg("compress"),
           py::arg("password"), py::arg("tags"))
      .def("get_key", &PyKeyValue::get_key, py::arg("key"), py::arg("password"))
      .def("get_key_url", &PyKeyValue::get_key_url, py::arg("key"), py::arg("expires"), py::arg("method"))
      .def("delete_key", &PyKeyValue::delete_key, py::arg("key"));
}
