// Reading a local file as a Source: the local store's objects, a single
// file backed up as is, restore --from-file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bakthat/stream.hpp"

namespace bakthat::util {

// The whole file, front to back, keeping it from piling up in the page
// cache (DropBehind). A missing file throws NotFound, a directory Usage,
// any other failure Io; each names the path.
std::unique_ptr<Source> open_file_source(const std::string& path);

// Bytes [offset, offset + length) of the file, by pread: a partial restore
// reads a few members out of a large archive. Fewer when the file ends
// first. Errors as open_file_source's.
std::unique_ptr<Source> open_file_range(const std::string& path, std::uint64_t offset, std::uint64_t length);

}  // namespace bakthat::util
