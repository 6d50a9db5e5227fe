#include "storage/local/local_storage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include "bakthat/errors.hpp"
#include "util/drop_behind.hpp"
#include "util/file_source.hpp"

namespace bakthat::storage {
namespace {

constexpr const char* kTempPrefix = ".bakthat-tmp-";
constexpr const char* kReservePrefix = ".bakthat-reserve-";

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::Io, what + " " + path + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
  std::string partial;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      partial = path.substr(0, i);
      if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
        throw io_error("cannot create directory", partial);
    }
  }
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 10; ++i) s.push_back(kChars[rng() % 36]);
  return s;
}

class FileWriter : public ObjectWriter {
 public:
  FileWriter(std::string dir, std::string name, std::string final_path, std::string reserve_path)
      : dir_(std::move(dir)), final_path_(std::move(final_path)), reserve_path_(std::move(reserve_path)) {
    stored_.name = std::move(name);
    temp_path_ = dir_ + "/" + kTempPrefix + std::to_string(::getpid()) + "-" + random_suffix();
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      ::unlink(reserve_path_.c_str());
      throw io_error("cannot create", temp_path_);
    }
    cache_.emplace(fd_, temp_path_);
  }

  ~FileWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!finished_) ::unlink(temp_path_.c_str());
    ::unlink(reserve_path_.c_str());
  }

  void write(Bytes data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw io_error("cannot write", temp_path_);
      }
      data = data.subspan(static_cast<std::size_t>(n));
      stored_.size += static_cast<std::uint64_t>(n);
    }
    cache_->written(stored_.size);
  }

  void finish() override {
    if (::fsync(fd_) != 0) throw io_error("cannot sync", temp_path_);
    if (::close(fd_) != 0) {
      fd_ = -1;
      throw io_error("cannot close", temp_path_);
    }
    fd_ = -1;
    // link() fails with EEXIST instead of replacing: an object is never overwritten.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      if (errno == EEXIST)
        throw Error(ErrorKind::Conflict, "an object named " + stored_.name + " already exists");
      throw io_error("cannot store", final_path_);
    }
    finished_ = true;
    ::unlink(temp_path_.c_str());
    fsync_dir(dir_);
  }

  const StoredObject& stored() const override { return stored_; }

 private:
  std::string dir_, final_path_, reserve_path_, temp_path_;
  int fd_ = -1;
  bool finished_ = false;
  StoredObject stored_;
  std::optional<util::DropBehind> cache_;  // set once fd_ is open
};

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

LocalStorage::LocalStorage(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalStorage::path_of(const std::string& name) const {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name.rfind(".bakthat-", 0) == 0)
    throw Error(ErrorKind::Usage, "invalid object name '" + name + "'");
  return root_ + "/" + name;
}

void LocalStorage::remove_stale_temporaries() const {
  DIR* d = ::opendir(root_.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    std::string rest;
    if (n.rfind(kTempPrefix, 0) == 0) rest = n.substr(std::strlen(kTempPrefix));
    else if (n.rfind(kReservePrefix, 0) == 0) rest = n.substr(n.rfind('.') + 1);
    else continue;
    pid_t pid = static_cast<pid_t>(std::atol(rest.c_str()));
    if (pid > 0 && !process_alive(pid)) ::unlink((root_ + "/" + n).c_str());
  }
  ::closedir(d);
}

std::unique_ptr<ObjectWriter> LocalStorage::create(const std::string& name,
                                                   std::optional<std::uint64_t>) {
  std::string final_path = path_of(name);
  make_dirs(root_);
  remove_stale_temporaries();
  // The marker name ends with ".<pid>" so a dead writer's marker can be recognised.
  const std::string own = std::string(kReservePrefix) + name + "." + std::to_string(::getpid());
  const std::string reserve = root_ + "/" + own;
  const std::string reserve_glob_prefix = std::string(kReservePrefix) + name + ".";
  auto taken = [&] {
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) == 0)
      throw Error(ErrorKind::Conflict, "an object named " + name + " already exists");
    DIR* d = ::opendir(root_.c_str());
    if (!d) return false;
    bool other = false;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      other = other || (n != own && n.rfind(reserve_glob_prefix, 0) == 0 &&
                        n.find_first_not_of("0123456789", reserve_glob_prefix.size()) == std::string::npos);
    }
    ::closedir(d);
    return other;
  };
  if (taken()) throw Error(ErrorKind::Conflict, "an object named " + name + " is being written");
  int fd = ::open(reserve.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw Error(ErrorKind::Conflict, "an object named " + name + " is being written");
    throw io_error("cannot create", reserve);
  }
  ::close(fd);
  // Looked at again with our marker in place: two writers that both found
  // the name free in the same instant (markers carry their pid, so O_EXCL
  // does not part them) would both write it, and the later one fail at the
  // end. Whoever now sees the other's marker, or the object, gives the name
  // up (both may; the caller then tries the next name).
  try {
    if (taken()) throw Error(ErrorKind::Conflict, "an object named " + name + " is being written");
  } catch (...) {
    ::unlink(reserve.c_str());
    throw;
  }
  return std::make_unique<FileWriter>(root_, name, final_path, reserve);
}

std::unique_ptr<Source> LocalStorage::open(const std::string& name) {
  std::string path = path_of(name);
  try {
    return util::open_file_source(path);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::NotFound)
      throw Error(ErrorKind::NotFound, "local: no object named " + name + " in " + root_);
    throw;
  }
}

std::unique_ptr<Source> LocalStorage::open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) {
  std::string path = path_of(name);
  try {
    return util::open_file_range(path, offset, length);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::NotFound)
      throw Error(ErrorKind::NotFound, "local: no object named " + name + " in " + root_);
    throw;
  }
}

void LocalStorage::remove(const std::string& name) {
  std::string path = path_of(name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) throw Error(ErrorKind::NotFound, "local: no object named " + name + " in " + root_);
    throw io_error("cannot remove", path);
  }
  fsync_dir(root_);
}

std::vector<ObjectInfo> LocalStorage::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    throw io_error("cannot list", root_);
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || n.rfind(".bakthat-", 0) == 0) continue;
    if (n.rfind(prefix, 0) != 0) continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({n, static_cast<std::uint64_t>(st.st_size), static_cast<std::int64_t>(st.st_mtime), ""});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return out;
}

std::optional<ObjectInfo> LocalStorage::stat(const std::string& name) {
  std::string path = path_of(name);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error("cannot stat", path);
  }
  return ObjectInfo{name, static_cast<std::uint64_t>(st.st_size), static_cast<std::int64_t>(st.st_mtime), ""};
}

}  // namespace bakthat::storage
