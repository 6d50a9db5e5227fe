// BakHelper: the scaffolding of a backup script, as the Python bakthat's
// helper.BakHelper. Construction creates a private temporary directory named
// "{name}_XXXXXX" (in $TMPDIR, else /tmp) and makes it the working
// directory; the script writes or dumps what it wants into it, then calls
// backup() (which stores that directory with filename = name) and rotate().
// Destruction (or close()) returns to the previous working directory and
// removes the temporary one, never following symbolic links out of it.
//
// The working directory belongs to the whole process: use one BakHelper at a
// time, and not while other threads depend on the working directory. Relative
// paths in the configuration (local_path, database...) are read after the
// change, from the temporary directory: give absolute ones.
//
//   bakthat::BakHelperOptions o;
//   o.tags = {"mysql"};
//   bakthat::BakHelper bh("myhost_mysql", o);
//   bh.run_to_file({"mysqldump", "--all-databases"}, "dump.sql");
//   bh.backup();
//   bh.rotate();
#pragma once

#include <string>
#include <vector>

#include "bakthat/bakthat.hpp"

namespace bakthat {

struct BakHelperOptions : Options {
  std::vector<std::string> tags;
};

class BakHelper {
 public:
  // Throws Usage for an empty name or one with '/', Io when the directory
  // cannot be created or entered.
  explicit BakHelper(std::string name, BakHelperOptions options = {});
  ~BakHelper();
  BakHelper(const BakHelper&) = delete;
  BakHelper& operator=(const BakHelper&) = delete;

  const std::string& name() const { return name_; }
  // The temporary directory's absolute path ("" once closed).
  const std::string& dir() const { return dir_; }

  // Backs up `path` (default: the temporary directory) under filename = name.
  BackupRecord backup(const std::string& path = {});
  // Restores the latest backup of `name` (default: this helper's name) into
  // `target_dir` (default: the current directory).
  RestoreResult restore(const std::string& name = {}, const std::string& target_dir = {});
  // rotate_backups of `name` (default: this helper's name).
  std::vector<RetentionDecision> rotate(const std::string& name = {});
  // delete_older_than of `name` (default: this helper's name).
  std::vector<RetentionDecision> delete_older_than(const std::string& interval, const std::string& name = {});

  // Runs `argv` (no shell; argv[0] looked up in PATH) with its standard
  // output written to `output_file` (created 0600, replaced if it exists;
  // relative to the current directory) and its standard error inherited.
  // Throws NotFound when the program cannot be started and Io naming its
  // exit status when it fails.
  void run_to_file(const std::vector<std::string>& argv, const std::string& output_file);

  // Returns to the previous working directory and removes the temporary
  // one. Throws Io when it cannot; the destructor does the same silently.
  void close();

 private:
  std::string name_;
  BakHelperOptions options_;
  std::string dir_;
  int previous_cwd_ = -1;  // an O_PATH descriptor of the directory to return to
};

}  // namespace bakthat
