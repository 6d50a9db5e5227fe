// KeyValue: JSON values stored as backups, as the guide's KeyValue example.
//
//   key_value WORKDIR
#include <bakthat/bakthat.hpp>

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: key_value WORKDIR\n";
    return 2;
  }
  const fs::path work = fs::absolute(argv[1]);
  try {
    bakthat::Options options;
    options.config.conf_yaml = nlohmann::json{{"default_destination", "local"},
                                              {"local_path", (work / "store").string()},
                                              {"database", (work / "catalog.sqlite").string()}}
                                   .dump();
    bakthat::KeyValue kv(options);

    nlohmann::json mydata = {{"some", "data"}};
    kv.set_key("mykey", mydata);
    nlohmann::json restored = kv.get_key("mykey");
    std::cout << "mykey = " << restored.dump() << "\n";
    if (restored != mydata) return 1;

    // A URL needs a destination that makes them (S3); the local one cannot.
    try {
      std::cout << "url: " << kv.get_key_url("mykey", 60) << "\n";
    } catch (const bakthat::Error& e) {
      std::cout << "no URL: " << e.what() << "\n";
    }

    kv.delete_key("mykey");
    nlohmann::json gone = kv.get_key("mykey", {.password = std::nullopt, .default_value = nullptr});
    std::cout << "after delete_key: " << gone.dump() << "\n";

    kv.set_key("my_encrypted_key", "myvalue", {.compress = true, .password = "mypassword"});
    std::cout << "my_encrypted_key = " << kv.get_key("my_encrypted_key", {.password = "mypassword"}).dump() << "\n";

    // gzip compression can be turned off.
    bakthat::BackupRecord r = kv.set_key("my_non_compressed_key", {{"my", "data"}}, {.compress = false});
    std::cout << "my_non_compressed_key stored as " << r.stored_filename << "\n";
  } catch (const bakthat::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
