// How a store tells of a side task that failed without failing the
// operation (Glacier's inventory copy to S3): a line for the user.
#pragma once

#include <functional>
#include <string>

namespace bakthat::storage {

using Warn = std::function<void(const std::string&)>;

}  // namespace bakthat::storage
