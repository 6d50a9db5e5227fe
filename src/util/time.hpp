// UTC time formatting: every date bakthat writes or shows is UTC.
#pragma once

#include <cstdint>
#include <string>

namespace bakthat::util {

// strftime(format) of a Unix time, in UTC.
std::string format_utc(std::int64_t unix_seconds, const char* format);

}  // namespace bakthat::util
