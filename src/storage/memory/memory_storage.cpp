#include "storage/memory/memory_storage.hpp"

#include <algorithm>
#include <cstring>

#include "bakthat/errors.hpp"

namespace bakthat::storage {

class MemoryStorage::Writer : public ObjectWriter {
 public:
  Writer(MemoryStorage& store, std::string name) : store_(store), name_(std::move(name)) {}
  ~Writer() override {
    if (finished_) return;
    std::lock_guard lock(store_.mutex_);
    store_.writing_.erase(name_);  // aborted: nothing visible
  }
  void write(Bytes data) override { data_.insert(data_.end(), data.begin(), data.end()); }
  void finish() override {
    store_.call_hook(Op::Finish, name_);
    std::lock_guard lock(store_.mutex_);
    stored_ = {name_, data_.size(), {}};
    store_.objects_[name_] = std::make_shared<const std::vector<std::uint8_t>>(std::move(data_));
    store_.writing_.erase(name_);
    finished_ = true;
  }
  const StoredObject& stored() const override { return stored_; }

 private:
  MemoryStorage& store_;
  std::string name_;
  std::vector<std::uint8_t> data_;
  StoredObject stored_;
  bool finished_ = false;
};

namespace {

// Reads a snapshot of an object (a later remove does not cut it short).
class Reader : public Source {
 public:
  Reader(std::shared_ptr<const std::vector<std::uint8_t>> data, std::optional<std::uint64_t> limit)
      : data_(std::move(data)), limit_(limit) {}
  std::size_t read(MutableBytes out) override {
    std::size_t n = std::min(out.size(), data_->size() - at_);
    if (limit_ && n > 0) {
      if (at_ >= *limit_) throw Error(ErrorKind::Storage, "memory store: read failed (a fault the test asked for)");
      n = std::min<std::size_t>(n, static_cast<std::size_t>(*limit_ - at_));
    }
    std::memcpy(out.data(), data_->data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::vector<std::uint8_t>> data_;
  std::optional<std::uint64_t> limit_;
  std::size_t at_ = 0;
};

}  // namespace

MemoryStorage::MemoryStorage(std::string location) : location_(std::move(location)) {}

void MemoryStorage::call_hook(Op op, const std::string& name) const {
  Hook hook;
  {
    std::lock_guard lock(mutex_);
    hook = hook_;
  }
  if (hook) hook(op, name);
}

std::unique_ptr<ObjectWriter> MemoryStorage::create(const std::string& name, std::optional<std::uint64_t>) {
  call_hook(Op::Create, name);
  std::lock_guard lock(mutex_);
  if (objects_.count(name) != 0 || writing_.count(name) != 0) throw Error(ErrorKind::Conflict, name);
  writing_[name] = true;
  return std::make_unique<Writer>(*this, name);
}

std::unique_ptr<Source> MemoryStorage::open(const std::string& name) {
  call_hook(Op::Open, name);
  std::lock_guard lock(mutex_);
  auto it = objects_.find(name);
  if (it == objects_.end()) throw Error(ErrorKind::NotFound, name + " is not in the store");
  return std::make_unique<Reader>(it->second, read_limit_);
}

void MemoryStorage::remove(const std::string& name) {
  call_hook(Op::Remove, name);
  std::lock_guard lock(mutex_);
  if (objects_.erase(name) == 0) throw Error(ErrorKind::NotFound, name + " is not in the store");
}

std::vector<ObjectInfo> MemoryStorage::list(const std::string& prefix) {
  call_hook(Op::List, prefix);
  std::lock_guard lock(mutex_);
  std::vector<ObjectInfo> out;
  for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it)
    out.push_back({it->first, it->second->size(), 0, {}});
  return out;
}

std::optional<ObjectInfo> MemoryStorage::stat(const std::string& name) {
  call_hook(Op::Stat, name);
  std::lock_guard lock(mutex_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return std::nullopt;
  return ObjectInfo{it->first, it->second->size(), 0, {}};
}

void MemoryStorage::set_hook(Hook hook) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(hook);
}

void MemoryStorage::fail_reads_after(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(mutex_);
  read_limit_ = bytes;
}

std::optional<std::vector<std::uint8_t>> MemoryStorage::object(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return std::nullopt;
  return *it->second;
}

void MemoryStorage::put(const std::string& name, std::vector<std::uint8_t> data) {
  std::lock_guard lock(mutex_);
  objects_[name] = std::make_shared<const std::vector<std::uint8_t>>(std::move(data));
}

}  // namespace bakthat::storage
