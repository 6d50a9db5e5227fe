// What a tar entry carries besides its stat and content: owner and group
// names, extended attributes and POSIX ACLs, read from the file itself.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct archive_entry;

namespace bakthat::archive {

// User and group names by id, looked up once each (NSS lookups are slow).
class OwnerNames {
 public:
  // The name, or nullptr when the id has none.
  const char* user(uid_t uid);
  const char* group(gid_t gid);

 private:
  std::unordered_map<uid_t, std::string> users_;
  std::unordered_map<gid_t, std::string> groups_;
};

// Adds the extended attributes (user.*, security.capability, SELinux
// labels ...) and POSIX ACLs of an open file or directory to an entry: the
// pax writer stores them as SCHILY.xattr and SCHILY.acl records, which
// bsdtar and `tar --xattrs --acls` restore too. Reuses its buffers, so keep
// one per archive.
class AttributeReader {
 public:
  explicit AttributeReader(OwnerNames& names) : names_(names) {}
  // What could not be read is appended to `problems` as "what: reason"; the
  // rest is added all the same. A file system without xattrs is no problem.
  void add_to(int fd, archive_entry* e, std::vector<std::string>& problems);

 private:
  bool add_posix_acl(archive_entry* e, int type, std::string_view xattr);

  OwnerNames& names_;
  std::vector<char> names_buffer_ = std::vector<char>(4096);
  std::vector<char> value_;
};

}  // namespace bakthat::archive
