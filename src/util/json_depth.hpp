// A bound on the nesting of JSON that comes from elsewhere (a sync server,
// a catalog row another tool wrote).
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

namespace bakthat::util {

// Deeper than any document bakthat reads has reason to be.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Whether `value` nests arrays or objects deeper than max_depth. Walks with
// its own stack: nlohmann::json parses and destroys without recursion, but
// copies and dumps recurse, so a 200 KB reply nested 100,000 deep would
// overflow the stack in the first copy.
bool json_too_deep(const nlohmann::json& value, std::size_t max_depth = kMaxJsonDepth);

}  // namespace bakthat::util
