// BakHelper: a backup script's temporary directory, backup and rotation, as
// the guide's minimal BakHelper example.
//
//   bak_helper WORKDIR
#include <bakthat/bakthat.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bak_helper WORKDIR\n";
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);
  try {
    bakthat::BakHelperOptions options;
    options.config.conf_yaml =
        nlohmann::json{{"default_destination", "local"},
                       {"local_path", (work / "store").string()},
                       {"database", (work / "catalog.sqlite").string()},
                       {"rotation", {{"days", 7}, {"weeks", 6}, {"months", 6}, {"first_week_day", 5}}}}
            .dump();
    options.tags = {"mybackup"};
    std::string tempdir;
    {
      bakthat::BakHelper bh("mybackup", options);
      tempdir = bh.dir();
      std::cout << "working in " << fs::current_path().string() << "\n";
      std::ofstream("myfile.txt") << "mydata";
      bakthat::BackupRecord rec = bh.backup();
      std::cout << "stored " << rec.stored_filename << " as " << rec.filename << "\n";
      for (const auto& d : bh.rotate())
        std::cout << (d.keep ? "kept " : "deleted ") << d.record.stored_filename << "\n";
    }
    std::cout << "temporary directory removed: " << (fs::exists(tempdir) ? "no" : "yes") << "\n";
    return fs::exists(tempdir) ? 1 : 0;
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
