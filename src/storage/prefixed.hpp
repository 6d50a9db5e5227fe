// A Storage that is one folder of another: every name is stored under a
// fixed prefix, and list() hands names back without it. The destination's
// catalog rows live in such a folder of the backups' own bucket or
// container (docs/destination-catalog.md).
#pragma once

#include <memory>
#include <string>

#include "bakthat/storage.hpp"

namespace bakthat::storage {

class PrefixedStorage : public Storage {
 public:
  PrefixedStorage(std::shared_ptr<Storage> inner, std::string prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}

  std::string kind() const override { return inner_->kind(); }
  std::string location() const override { return inner_->location() + "/" + prefix_; }
  std::unique_ptr<ObjectWriter> create(const std::string& name, std::optional<std::uint64_t> size_hint) override {
    return inner_->create(prefix_ + name, size_hint);
  }
  std::unique_ptr<ObjectWriter> create_new(const std::string& name, std::optional<std::uint64_t> size_hint) override {
    return inner_->create_new(prefix_ + name, size_hint);
  }
  std::unique_ptr<Source> open(const std::string& name) override { return inner_->open(prefix_ + name); }
  std::unique_ptr<Source> open_range(const std::string& name, std::uint64_t offset, std::uint64_t length) override {
    return inner_->open_range(prefix_ + name, offset, length);
  }
  void remove(const std::string& name) override { inner_->remove(prefix_ + name); }
  void remove_many(const std::vector<std::string>& names) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;

 private:
  std::shared_ptr<Storage> inner_;
  std::string prefix_;
};

}  // namespace bakthat::storage
