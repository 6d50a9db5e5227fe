// How far apart two names are, for "did you mean" suggestions.
#pragma once

#include <cstddef>
#include <string>

namespace bakthat::util {

// The Levenshtein distance: insertions, deletions and substitutions.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace bakthat::util
