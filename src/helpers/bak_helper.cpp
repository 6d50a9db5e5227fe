#include "bakthat/bak_helper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "util/process.hpp"
#include "util/file_tree.hpp"

namespace bakthat {
namespace {

Error io_error(const std::string& what, int err) { return Error(ErrorKind::Io, what + ": " + std::strerror(err)); }

}  // namespace

BakHelper::BakHelper(std::string name, BakHelperOptions options)
    : name_(std::move(name)), options_(std::move(options)) {
  if (name_.empty() || name_.find('/') != std::string::npos)
    throw Error(ErrorKind::Usage, "a BakHelper needs a name without '/'");
  previous_cwd_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (previous_cwd_ < 0) throw io_error("cannot open the current directory", errno);
  const char* tmp = std::getenv("TMPDIR");
  std::string root = tmp && *tmp ? tmp : "/tmp";
  std::string templ = root + "/" + name_ + "_XXXXXX";
  if (!::mkdtemp(templ.data())) {
    int err = errno;
    ::close(previous_cwd_);
    throw io_error("cannot create a temporary directory in " + root, err);
  }
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(templ.c_str(), nullptr), &std::free);
  dir_ = real ? real.get() : templ;
  if (::chdir(dir_.c_str()) != 0) {
    int err = errno;
    ::rmdir(dir_.c_str());
    ::close(previous_cwd_);
    throw io_error("cannot enter " + dir_, err);
  }
}

BakHelper::~BakHelper() {
  try {
    close();
  } catch (const std::exception& e) {
    if (options_.reporter) options_.reporter->warning(e.what());
  }
}

void BakHelper::close() {
  if (previous_cwd_ >= 0) {
    int fd = previous_cwd_;
    previous_cwd_ = -1;
    int rc = ::fchdir(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      // Leave the directory we are about to remove in any case.
      if (::chdir("/") != 0) {}
      if (!dir_.empty()) util::remove_tree(std::exchange(dir_, std::string()));
      throw io_error("cannot return to the previous working directory", err);
    }
  }
  if (!dir_.empty()) util::remove_tree(std::exchange(dir_, std::string()));
}

BackupRecord BakHelper::backup(const std::string& path) {
  if (path.empty() && dir_.empty()) throw Error(ErrorKind::Usage, "this BakHelper is closed");
  BackupOptions b;
  static_cast<Options&>(b) = options_;
  b.tags = options_.tags;
  b.custom_name = name_;
  return bakthat::backup(path.empty() ? dir_ : path, b);
}

RestoreResult BakHelper::restore(const std::string& name, const std::string& target_dir) {
  RestoreOptions r;
  static_cast<Options&>(r) = options_;
  r.target_dir = target_dir;
  return bakthat::restore(name.empty() ? name_ : name, r);
}

std::vector<RetentionDecision> BakHelper::rotate(const std::string& name) {
  RetentionOptions r;
  static_cast<Options&>(r) = options_;
  return bakthat::rotate_backups(name.empty() ? name_ : name, r);
}

std::vector<RetentionDecision> BakHelper::delete_older_than(const std::string& interval, const std::string& name) {
  RetentionOptions r;
  static_cast<Options&>(r) = options_;
  return bakthat::delete_older_than(name.empty() ? name_ : name, interval, r);
}

void BakHelper::run_to_file(const std::vector<std::string>& argv, const std::string& output_file) {
  if (argv.empty() || argv[0].empty()) throw Error(ErrorKind::Usage, "run_to_file: no command given");
  int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw io_error("cannot create " + output_file, errno);
  int status = 0;
  try {
    util::ProcessOptions opts;
    opts.stdout_fd = fd;
    status = util::run_process(argv, opts);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw io_error("cannot write " + output_file, errno);
  std::string why = util::describe_status(status);
  if (!why.empty()) throw Error(ErrorKind::Io, "'" + argv[0] + "' failed (" + why + "); its output is in " + output_file);
}

}  // namespace bakthat
