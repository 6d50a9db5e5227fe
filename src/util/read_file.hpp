// Reading the small files a user names (configuration, credentials, keys,
// exclude lists) without trusting what the name leads to.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "bakthat/errors.hpp"

namespace bakthat::util {

// The content of `path`, or nullopt when it does not exist. Only a regular
// file of at most `limit` bytes is read: a FIFO (which would block), a
// device (/dev/zero never ends), a directory or a larger file throws `kind`
// with a message that names the file as `what` ("configuration file"), as
// does any other failure.
std::optional<std::string> read_regular_file(const std::string& path, std::size_t limit, ErrorKind kind,
                                             const std::string& what);

}  // namespace bakthat::util
