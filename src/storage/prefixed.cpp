#include "storage/prefixed.hpp"

namespace bakthat::storage {

std::vector<ObjectInfo> PrefixedStorage::list(const std::string& prefix) {
  auto out = inner_->list(prefix_ + prefix);
  for (auto& o : out) o.name.erase(0, prefix_.size());
  return out;
}

std::optional<ObjectInfo> PrefixedStorage::stat(const std::string& name) {
  auto info = inner_->stat(prefix_ + name);
  if (info) info->name = name;
  return info;
}

}  // namespace bakthat::storage
