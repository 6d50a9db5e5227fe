// Events: a C++ callback and a shell hook see each operation begin
// (before_X) and succeed (on_X, with its result).
//
//   events WORKDIR
#include <bakthat/bakthat.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: events WORKDIR\n";
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);
  try {
    bakthat::BackupOptions options;
    options.config.conf_yaml =
        nlohmann::json{{"default_destination", "local"},
                       {"local_path", (work / "store").string()},
                       {"database", (work / "catalog.sqlite").string()},
                       {"hooks", {{"on_backup", "echo \"hook: $BAKTHAT_EVENT $BAKTHAT_NAME\" >&2"}}}}
            .dump();

    auto subscription = bakthat::events::subscribe("*", [](const bakthat::Event& e) {
      std::cout << e.name << " " << e.target << " session " << e.session_id;
      if (e.name == "on_backup") std::cout << " -> " << e.result["stored_filename"].get<std::string>();
      std::cout << "\n";
    });

    std::ofstream(work / "notes.txt") << "notes\n";
    bakthat::backup((work / "notes.txt").string(), options);
    bakthat::remove("notes.txt", options);
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
