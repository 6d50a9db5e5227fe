// A small command line over KeyValue, BakHelper and the event callbacks, so
// that test_library.py can drive the installed library and check what it
// did with the real bakthat CLI. It uses the default configuration
// (~/.bakthat.yml of the test's HOME), like the CLI.
//
//   driver kv-set KEY JSON [--no-compress] [--password P]   prints the stored name
//   driver kv-get KEY [--password P] [--default JSON]       prints the value
//   driver kv-url KEY SECONDS
//   driver kv-delete KEY                                    prints deleted / missing
//   driver backup PATH [--password P] [--report]           prints the stored name (and,
//                                         with --report, each warning as "warning: TEXT")
//   driver helper NAME OUTFILE CMD...     BakHelper: run_to_file, backup; prints dir, cwd
//   driver helper-link NAME TARGET        BakHelper whose temp dir links to TARGET
//   driver events PATH                    backup, restore (to stdout), delete; prints events as JSON
//   driver sync URL USER PASSWORD         sync_catalog with these settings; prints the report
#include <bakthat/bakthat.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace {

std::optional<std::string> flag(int argc, char** argv, const std::string& name) {
  for (int i = 0; i + 1 < argc; ++i)
    if (argv[i] == name) return std::string(argv[i + 1]);
  return std::nullopt;
}

bool has(int argc, char** argv, const std::string& name) {
  for (int i = 0; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

// Prints what the library reports as a warning on standard output.
class WarningPrinter : public bakthat::Reporter {
 public:
  void message(const std::string&) override {}
  void warning(const std::string& text) override { std::cout << "warning: " << text << "\n"; }
  void progress_start(const std::string&, std::uint64_t) override {}
  void progress(std::uint64_t) override {}
  void progress_end() override {}
};

class NullSink : public bakthat::Sink {
 public:
  void write(bakthat::Bytes d) override { bytes += d.size(); }
  void finish() override {}
  std::size_t bytes = 0;
};

int run(int argc, char** argv) {
  if (argc < 3) throw bakthat::Error(bakthat::ErrorKind::Usage, "see the comment at the top of driver.cpp");
  const std::string cmd = argv[1];
  // No password here: the library takes BAKTHAT_PASSWORD itself.
  bakthat::Options options;

  if (cmd.rfind("kv-", 0) == 0) {
    bakthat::KeyValue kv(options);
    const std::string key = argv[2];
    if (cmd == "kv-set") {
      if (argc < 4) throw bakthat::Error(bakthat::ErrorKind::Usage, "kv-set KEY JSON");
      bakthat::KeyValue::SetOptions o;
      o.compress = !has(argc, argv, "--no-compress");
      o.password = flag(argc, argv, "--password");
      std::cout << kv.set_key(key, nlohmann::json::parse(argv[3]), o).stored_filename << "\n";
    } else if (cmd == "kv-get") {
      bakthat::KeyValue::GetOptions o;
      o.password = flag(argc, argv, "--password");
      if (auto d = flag(argc, argv, "--default")) o.default_value = nlohmann::json::parse(*d);
      std::cout << kv.get_key(key, o).dump() << "\n";
    } else if (cmd == "kv-url") {
      std::cout << kv.get_key_url(key, std::stoll(argv[3])) << "\n";
    } else if (cmd == "kv-delete") {
      std::cout << (kv.delete_key(key) ? "deleted" : "missing") << "\n";
    } else {
      throw bakthat::Error(bakthat::ErrorKind::Usage, "unknown command " + cmd);
    }
    return 0;
  }

  if (cmd == "backup") {
    bakthat::BackupOptions o;
    static_cast<bakthat::Options&>(o) = options;
    o.password = flag(argc, argv, "--password");
    WarningPrinter printer;
    if (has(argc, argv, "--report")) o.reporter = &printer;
    std::cout << bakthat::backup(argv[2], o).stored_filename << "\n";
    return 0;
  }

  if (cmd == "helper") {
    if (argc < 5) throw bakthat::Error(bakthat::ErrorKind::Usage, "helper NAME OUTFILE CMD...");
    bakthat::BakHelperOptions o;
    static_cast<bakthat::Options&>(o) = options;
    o.tags = {"helper", "test"};
    std::string dir;
    {
      bakthat::BakHelper bh(argv[2], o);
      dir = bh.dir();
      std::cout << "dir " << dir << "\ncwd " << fs::current_path().string() << "\n";
      bh.run_to_file(std::vector<std::string>(argv + 4, argv + argc), argv[3]);
      std::cout << "stored " << bh.backup().stored_filename << "\n";
    }
    std::cout << "after " << fs::current_path().string() << "\nexists " << fs::exists(dir) << "\n";
    return 0;
  }

  if (cmd == "helper-link") {
    // Links out of the temporary directory, to a directory and to a file,
    // at the top and deeper, plus an unreadable subdirectory: removal must
    // delete the links and never what they point to.
    std::string dir;
    {
      bakthat::BakHelper bh(argv[2]);
      dir = bh.dir();
      fs::create_directories("deep/er/locked");
      fs::create_directory_symlink(argv[3], "top-link");
      fs::create_directory_symlink(argv[3], "deep/er/dir-link");
      for (const auto& e : fs::directory_iterator(argv[3]))
        if (e.is_regular_file()) fs::create_symlink(e.path(), "deep/file-link");
      std::ofstream("deep/er/locked/f") << "x";
      fs::permissions("deep/er/locked", fs::perms::none);
    }
    std::cout << "exists " << fs::exists(dir) << "\n";
    return 0;
  }

  if (cmd == "events") {
    auto sub = bakthat::events::subscribe("*", [](const bakthat::Event& e) {
      std::cout << nlohmann::json{{"name", e.name},     {"operation", e.operation}, {"session_id", e.session_id},
                                  {"target", e.target}, {"profile", e.profile},     {"destination", e.destination},
                                  {"result", e.result}}
                       .dump()
                << "\n";
    });
    bakthat::BackupOptions b;
    static_cast<bakthat::Options&>(b) = options;
    auto rec = bakthat::backup(argv[2], b);
    NullSink sink;
    bakthat::RestoreOptions r;
    static_cast<bakthat::Options&>(r) = options;
    r.to_stdout = true;
    r.out = &sink;
    bakthat::restore(rec.stored_filename, r);
    bakthat::remove(rec.stored_filename, options);
    sub.unsubscribe();
    bakthat::backup(argv[2], b);  // no callback any more
    return 0;
  }
  if (cmd == "sync") {
    if (argc < 5) throw bakthat::Error(bakthat::ErrorKind::Usage, "sync URL USER PASSWORD");
    bakthat::SyncOptions o;
    static_cast<bakthat::Options&>(o) = options;
    o.settings = bakthat::SyncSettings{argv[2], argv[3], argv[4], false};
    auto r = bakthat::sync_catalog(o);
    std::cout << "sent " << r.sent << " received " << r.received << " inserted " << r.inserted << " updated "
              << r.updated << "\n";
    return 0;
  }
  throw bakthat::Error(bakthat::ErrorKind::Usage, "unknown command " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return bakthat::exit_status(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
