// Stored object names, as the Python bakthat made them:
// {base}.{UTC %Y%m%d%H%M%S}{extension}[.enc], and what a name says about
// how its bytes were made.
#pragma once

#include <cstdint>
#include <string>

#include "codec/codec.hpp"

namespace bakthat::ops {

// What the stored bytes are, once decrypted and decompressed.
enum class Layout {
  Tar,     // a tar archive (.tgz, .tar.zst, .tar)
  Stream,  // one stream of bytes (stdin backups: .gz, .zst; or a file stored as is)
};

struct NameInfo {
  bool encrypted = false;
  codec::Codec codec = codec::Codec::None;
  Layout layout = Layout::Stream;
};

// "20261126093000" for a Unix time.
std::string utc_stamp(std::int64_t unix_seconds);

// base + "." + utc_stamp(when) + extension (+ ".enc").
std::string stored_name(const std::string& base, std::int64_t when, const std::string& extension,
                        bool encrypted);

// The extension a backup gets: ".tgz", ".tar.zst", ".tar" (tar, by codec),
// ".gz", ".zst", "" (stream, by codec).
std::string extension_for(Layout layout, codec::Codec codec);

// Reads a stored name's suffixes back.
NameInfo parse_stored_name(const std::string& stored);

// Whether bakthat could have made `name` with stored_name(): a base, the
// 14-digit stamp, one of its extensions, maybe ".enc".
bool is_stored_name(const std::string& name);

// The 14-digit stamp of such a name ("20261126093000"); "" for another name.
std::string stored_stamp(const std::string& name);

// The last path component ("a/b/" -> "b"); "" for "/".
std::string last_component(const std::string& path);

// A file already gzip-compressed tar ("x.tgz", "x.tar.gz"): its name without
// that extension, else "".
std::string strip_tgz(const std::string& name);

}  // namespace bakthat::ops
