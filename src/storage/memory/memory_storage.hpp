// A Storage that keeps its objects in memory, as restic's mem backend: the
// operations above the storage interface (backup, restore, retention) can be
// tested on it, error paths included, without a server or a disk.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bakthat/storage.hpp"

namespace bakthat::storage {

// Thread-safe. Objects appear under their name when their writer's finish()
// returns, as the interface promises; create() of a name that exists (or is
// being written) fails with Conflict.
class MemoryStorage : public Storage {
 public:
  // What a hook is called for, before the store acts.
  enum class Op { Create, Finish, Open, Remove, List, Stat };
  // Called before each operation with its object name (List: the prefix).
  // It may throw (a failing store) or change the store (another machine at
  // work); it runs without the store's lock held.
  using Hook = std::function<void(Op, const std::string&)>;

  explicit MemoryStorage(std::string location = "memory");

  std::string kind() const override { return "memory"; }
  std::string location() const override { return location_; }
  std::unique_ptr<ObjectWriter> create(const std::string& name, std::optional<std::uint64_t> size_hint) override;
  std::unique_ptr<Source> open(const std::string& name) override;
  void remove(const std::string& name) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  std::optional<ObjectInfo> stat(const std::string& name) override;

  void set_hook(Hook hook);
  // Readers opened from now on fail with ErrorKind::Storage once they have
  // returned `bytes` bytes (nullopt: never).
  void fail_reads_after(std::optional<std::uint64_t> bytes);
  // The object's bytes, or nullopt: for tests' checks.
  std::optional<std::vector<std::uint8_t>> object(const std::string& name) const;
  // Puts an object as it is (as a tool other than bakthat would).
  void put(const std::string& name, std::vector<std::uint8_t> data);

 private:
  class Writer;
  void call_hook(Op op, const std::string& name) const;

  const std::string location_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const std::vector<std::uint8_t>>> objects_;
  std::map<std::string, bool> writing_;  // names whose writer has not finished
  Hook hook_;
  std::optional<std::uint64_t> read_limit_;
};

}  // namespace bakthat::storage
