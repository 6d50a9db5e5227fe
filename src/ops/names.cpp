#include "ops/names.hpp"

#include "util/time.hpp"

namespace bakthat::ops {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string utc_stamp(std::int64_t unix_seconds) { return util::format_utc(unix_seconds, "%Y%m%d%H%M%S"); }

std::string stored_name(const std::string& base, std::int64_t when, const std::string& extension,
                        bool encrypted) {
  return base + "." + utc_stamp(when) + extension + (encrypted ? ".enc" : "");
}

std::string extension_for(Layout layout, codec::Codec codec) {
  using codec::Codec;
  if (layout == Layout::Tar) {
    switch (codec) {
      case Codec::Gzip: return ".tgz";
      case Codec::Zstd: return ".tar.zst";
      case Codec::None: return ".tar";
    }
  }
  switch (codec) {
    case Codec::Gzip: return ".gz";
    case Codec::Zstd: return ".zst";
    case Codec::None: return "";
  }
  return "";
}

NameInfo parse_stored_name(const std::string& stored) {
  NameInfo info;
  std::string s = stored;
  if (ends_with(s, ".enc")) {
    info.encrypted = true;
    s.resize(s.size() - 4);
  }
  if (ends_with(s, ".tgz") || ends_with(s, ".tar.gz")) {
    info.codec = codec::Codec::Gzip;
    info.layout = Layout::Tar;
  } else if (ends_with(s, ".tar.zst")) {
    info.codec = codec::Codec::Zstd;
    info.layout = Layout::Tar;
  } else if (ends_with(s, ".tar")) {
    info.layout = Layout::Tar;
  } else if (ends_with(s, ".gz")) {
    info.codec = codec::Codec::Gzip;
  } else if (ends_with(s, ".zst")) {
    info.codec = codec::Codec::Zstd;
  }
  return info;
}

bool is_stored_name(const std::string& name) { return !stored_stamp(name).empty(); }

std::string stored_stamp(const std::string& name) {
  std::string s = name;
  if (ends_with(s, ".enc")) s.resize(s.size() - 4);
  for (const char* ext : {".tgz", ".tar.zst", ".tar", ".gz", ".zst"})
    if (ends_with(s, ext)) {
      s.resize(s.size() - std::char_traits<char>::length(ext));
      break;
    }
  constexpr std::size_t kStamp = 14;
  if (s.size() < kStamp + 2 || s[s.size() - kStamp - 1] != '.') return "";
  for (std::size_t i = s.size() - kStamp; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return "";
  return s.substr(s.size() - kStamp);
}

std::string last_component(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/") return "";
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string strip_tgz(const std::string& name) {
  if (ends_with(name, ".tar.gz") && name.size() > 7) return name.substr(0, name.size() - 7);
  if (ends_with(name, ".tgz") && name.size() > 4) return name.substr(0, name.size() - 4);
  return "";
}

}  // namespace bakthat::ops
