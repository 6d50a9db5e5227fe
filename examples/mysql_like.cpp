// The guide's MySQL backup script, with a harmless command in place of
// mysqldump: its output goes to a file of the temporary directory, which is
// backed up encrypted and rotated.
//
//   mysql_like WORKDIR
#include <bakthat/bakthat.hpp>

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: mysql_like WORKDIR\n";
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);
  const std::string BACKUP_NAME = "myhost_mysql";
  const std::string BACKUP_PASSWORD = "mypassword";
  try {
    bakthat::BakHelperOptions options;
    options.config.conf_yaml = nlohmann::json{{"default_destination", "local"},
                                              {"local_path", (work / "store").string()},
                                              {"database", (work / "catalog.sqlite").string()},
                                              {"rotation", {{"days", 7}, {"weeks", 4}}}}
                                   .dump();
    options.password = BACKUP_PASSWORD;
    options.tags = {"mysql"};

    bakthat::BakHelper bh(BACKUP_NAME, options);
    // In real life: {"mysqldump", "-u", "root", "--all-databases"}.
    bh.run_to_file({"seq", "1", "100000"}, "dump.sql");
    std::cout << "dump.sql: " << fs::file_size("dump.sql") << " bytes\n";
    bakthat::BackupRecord rec = bh.backup();
    std::cout << "stored " << rec.stored_filename << " (encrypted: " << std::boolalpha
              << rec.metadata.value("is_enc", false) << ")\n";
    bh.rotate();

    // A command that fails stops the script with its exit status.
    try {
      bh.run_to_file({"sh", "-c", "echo partial; exit 3"}, "broken.sql");
    } catch (const bakthat::Error& e) {
      std::cout << "failed as expected: " << e.what() << "\n";
    }
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
