#include "storage/prefixed.hpp"

namespace bakthat::storage {

std::vector<ObjectInfo> PrefixedStorage::list(const std::string& prefix) {
  auto out = inner_->list(prefix_ + prefix);
  for (auto& o : out) o.name.erase(0, prefix_.size());
  return out;
}

void PrefixedStorage::remove_many(const std::vector<std::string>& names) {
  std::vector<std::string> inner_names;
  inner_names.reserve(names.size());
  for (const auto& n : names) inner_names.push_back(prefix_ + n);
  inner_->remove_many(inner_names);
}

std::optional<ObjectInfo> PrefixedStorage::stat(const std::string& name) {
  auto info = inner_->stat(prefix_ + name);
  if (info) info->name = name;
  return info;
}

}  // namespace bakthat::storage
