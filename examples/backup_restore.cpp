// The low-level API: backup a directory with a "conf" mapping, list it,
// restore it, as the guide's first example.
//
//   backup_restore WORKDIR
#include <bakthat/bakthat.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: backup_restore WORKDIR\n";
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);
  try {
    // The profile's keys, as the Python guide's bakthat_conf dict. JSON is
    // YAML, so a json object makes the conf text.
    nlohmann::json conf = {{"default_destination", "local"},
                           {"local_path", (work / "store").string()},
                           {"database", (work / "catalog.sqlite").string()},
                           {"rotation", {{"days", 7}, {"weeks", 6}, {"months", 6}, {"first_week_day", 5}}}};
    bakthat::BackupOptions options;
    options.config.conf_yaml = conf.dump();
    options.tags = {"example"};

    fs::create_directories(work / "bak" / "sub");
    std::ofstream(work / "bak" / "hello.txt") << "hello\n";
    std::ofstream(work / "bak" / "sub" / "data.txt") << "some data\n";

    bakthat::BackupRecord rec = bakthat::backup((work / "bak").string(), options);
    std::cout << "stored " << rec.stored_filename << " (" << rec.size << " bytes, tags: " << rec.tags << ")\n";

    for (const auto& object : bakthat::ls("", options)) std::cout << "ls: " << object.name << "\n";

    bakthat::ShowOptions show;
    static_cast<bakthat::Options&>(show) = options;
    show.query = "bak";
    for (const auto& r : bakthat::show(show)) std::cout << "show: " << r.stored_filename << "\n";

    bakthat::RestoreOptions restore;
    static_cast<bakthat::Options&>(restore) = options;
    restore.target_dir = (work / "restored").string();
    bakthat::RestoreResult result = bakthat::restore("bak", restore);
    std::ifstream in(work / "restored" / "bak" / "sub" / "data.txt");
    std::stringstream content;
    content << in.rdbuf();
    if (content.str() != "some data\n") {
      std::cerr << "restored content differs\n";
      return 1;
    }
    std::cout << "restored " << result.record.stored_filename << " into " << restore.target_dir << "\n";
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
