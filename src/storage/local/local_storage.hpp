// The `local` destination: each object is the file <root>/<name>.
//
// Writes go to a hidden temporary file in the same directory, are fsynced,
// and appear under the final name with link(2), which never replaces an
// existing object; a writer destroyed before finish() removes its temporary
// file, and temporary files left by killed processes are removed by the next
// writer. A reservation marker makes two concurrent writers of one name fail
// fast (Conflict) instead of at the end.
#pragma once

#include <string>

#include "bakthat/storage.hpp"

namespace bakthat::storage {

class LocalStorage : public Storage {
 public:
  explicit LocalStorage(std::string root);

  std::string kind() const override { return "local"; }
  std::string location() const override { return root_; }
  std::unique_ptr<ObjectWriter> create(const std::string& name,
                                       std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<Source> open(const std::string& name) override;
  std::unique_ptr<Source> open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) override;
  void remove(const std::string& name) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;

 private:
  std::string path_of(const std::string& name) const;
  void remove_stale_temporaries() const;

  std::string root_;
};

}  // namespace bakthat::storage
