#include "archive/tar_index.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "bakthat/errors.hpp"

namespace bakthat::archive {
namespace {

constexpr std::uint64_t kBlock = 512;
// pax and GNU long-name headers larger than this are refused: libarchive's
// own are far smaller (a path, xattrs), and the scanner holds one whole.
constexpr std::uint64_t kMaxExtension = std::uint64_t{64} << 20;

std::uint64_t padded(std::uint64_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

[[noreturn]] void corrupt(std::uint64_t offset, const std::string& what) {
  throw Error(ErrorKind::Corrupt, "tar: " + what + " in the header at byte " + std::to_string(offset));
}

// A numeric header field: octal digits (spaces and NULs around them), or
// base-256 when the first byte's high bit is set (GNU and star).
std::uint64_t number(const std::uint8_t* field, std::size_t len, std::uint64_t offset) {
  if (field[0] & 0x80) {
    std::uint64_t v = field[0] & 0x3f;
    for (std::size_t i = 1; i < len; ++i) {
      if (v >> 56) corrupt(offset, "a number too large");
      v = (v << 8) | field[i];
    }
    return v;
  }
  std::size_t i = 0;
  while (i < len && (field[i] == ' ' || field[i] == 0)) ++i;
  std::uint64_t v = 0;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) corrupt(offset, "a number too large");
    v = v * 8 + (field[i] - '0');
  }
  for (; i < len; ++i)
    if (field[i] != ' ' && field[i] != 0) corrupt(offset, "a number that is not octal");
  return v;
}

std::string text(const std::uint8_t* field, std::size_t len) {
  const auto* end = static_cast<const std::uint8_t*>(std::memchr(field, 0, len));
  return std::string(reinterpret_cast<const char*>(field), end ? static_cast<std::size_t>(end - field) : len);
}

bool all_zero(const std::uint8_t* b) {
  return std::all_of(b, b + kBlock, [](std::uint8_t c) { return c == 0; });
}

TarEntry::Type type_of(char flag) {
  switch (flag) {
    case '0': case '\0': case '7': return TarEntry::Type::File;
    case '1': return TarEntry::Type::Hardlink;
    case '2': return TarEntry::Type::Symlink;
    case '3': return TarEntry::Type::CharDevice;
    case '4': return TarEntry::Type::BlockDevice;
    case '5': return TarEntry::Type::Directory;
    case '6': return TarEntry::Type::Fifo;
    default: return TarEntry::Type::Other;
  }
}

const char* type_name(TarEntry::Type t) {
  switch (t) {
    case TarEntry::Type::File: return "file";
    case TarEntry::Type::Directory: return "directory";
    case TarEntry::Type::Symlink: return "symlink";
    case TarEntry::Type::Hardlink: return "hardlink";
    case TarEntry::Type::CharDevice: return "char";
    case TarEntry::Type::BlockDevice: return "block";
    case TarEntry::Type::Fifo: return "fifo";
    case TarEntry::Type::Other: return "other";
  }
  return "other";
}

// A pax decimal value ("123", or "123.456" for times: the whole seconds).
std::int64_t pax_number(const std::string& v, std::uint64_t offset) {
  std::size_t i = 0;
  bool negative = false;
  if (i < v.size() && v[i] == '-') { negative = true; ++i; }
  if (i >= v.size() || v[i] < '0' || v[i] > '9') corrupt(offset, "a pax number '" + v + "'");
  std::int64_t n = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
    if (n > (INT64_MAX - 9) / 10) corrupt(offset, "a pax number too large");
    n = n * 10 + (v[i] - '0');
  }
  if (i < v.size() && v[i] != '.') corrupt(offset, "a pax number '" + v + "'");
  // -1.5 is 1.5 seconds before the epoch: its whole second is -2.
  if (negative && i < v.size() && v.find_first_not_of("0", i + 1) != std::string::npos) ++n;
  return negative ? -n : n;
}

}  // namespace

void TarScanner::feed(Bytes data) {
  std::size_t i = 0;
  while (i < data.size()) {
    if (ended_) {  // what follows the end blocks (tar's record padding) is passed over
      offset_ += data.size() - i;
      return;
    }
    if (skip_ > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, data.size() - i));
      skip_ -= n;
      i += n;
      offset_ += n;
      if (skip_ == 0 && state_ == State::Data) state_ = State::Header;
      continue;
    }
    if (state_ == State::Extension) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(ext_size_ - have_, data.size() - i));
      ext_.append(reinterpret_cast<const char*>(data.data() + i), n);
      have_ += n;
      i += n;
      offset_ += n;
      if (have_ == ext_size_) {
        on_extension();
        have_ = 0;
        state_ = State::Header;
        skip_ = padded(ext_size_) - ext_size_;
      }
      continue;
    }
    const std::size_t n = std::min(kBlock - have_, data.size() - i);
    std::memcpy(block_ + have_, data.data() + i, n);
    have_ += n;
    i += n;
    offset_ += n;
    if (have_ == kBlock) {
      have_ = 0;
      on_header();
    }
  }
}

void TarScanner::on_header() {
  const std::uint64_t at = offset_ - kBlock;
  if (all_zero(block_)) {
    // Two zero blocks end the archive; libarchive's writer ends so.
    if (!in_group_) ended_ = true;
    else corrupt(at, "an end of archive inside an entry's headers");
    return;
  }
  unsigned sum = 0;
  for (std::size_t k = 0; k < kBlock; ++k) sum += (k >= 148 && k < 156) ? ' ' : block_[k];
  if (number(block_ + 148, 8, at) != sum) corrupt(at, "a wrong checksum");
  if (!in_group_) {
    group_start_ = at;
    in_group_ = true;
  }
  const char flag = static_cast<char>(block_[156]);
  const std::uint64_t size = number(block_ + 124, 12, at);
  if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
    if (size > kMaxExtension) corrupt(at, "an extended header of " + std::to_string(size) + " bytes");
    ext_type_ = flag;
    ext_size_ = size;
    ext_.clear();
    have_ = 0;
    state_ = State::Extension;
    if (size == 0) {
      on_extension();
      state_ = State::Header;
    }
    return;
  }

  TarEntry e;
  e.type = type_of(flag);
  std::string name = text(block_, 100);
  const bool ustar = std::memcmp(block_ + 257, "ustar", 5) == 0;
  if (ustar) {
    std::string prefix = text(block_ + 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
    e.user = text(block_ + 265, 32);
    e.group = text(block_ + 297, 32);
    e.dev_major = static_cast<std::uint32_t>(number(block_ + 329, 8, at));
    e.dev_minor = static_cast<std::uint32_t>(number(block_ + 337, 8, at));
  }
  e.path = long_name_.empty() ? name : long_name_;
  e.link = long_link_.empty() ? text(block_ + 157, 100) : long_link_;
  e.mode = static_cast<std::uint32_t>(number(block_ + 100, 8, at) & 07777);
  e.uid = static_cast<std::int64_t>(number(block_ + 108, 8, at));
  e.gid = static_cast<std::int64_t>(number(block_ + 116, 8, at));
  e.mtime = static_cast<std::int64_t>(number(block_ + 136, 12, at));
  e.size = size;
  std::uint64_t stored = size;
  std::string sparse_name;
  for (const auto& [k, v] : pax_) {
    if (k == "path") e.path = v;
    else if (k == "linkpath") e.link = v;
    else if (k == "size") e.size = stored = static_cast<std::uint64_t>(pax_number(v, at));
    else if (k == "uid") e.uid = pax_number(v, at);
    else if (k == "gid") e.gid = pax_number(v, at);
    else if (k == "uname") e.user = v;
    else if (k == "gname") e.group = v;
    else if (k == "mtime") e.mtime = pax_number(v, at);
    else if (k == "GNU.sparse.name") sparse_name = v;
    else if (k == "GNU.dumpdir") e.dumpdir = v;
    else if (k == "GNU.sparse.realsize" || k == "GNU.sparse.size") e.size = static_cast<std::uint64_t>(pax_number(v, at));
  }
  if (!sparse_name.empty()) e.path = sparse_name;
  if (e.type == TarEntry::Type::Directory && !e.path.empty() && e.path.back() != '/') e.path += '/';
  // Only regular files have a size of their own to show (a hard link's is
  // its target's); what the header counts is passed over all the same.
  if (e.type != TarEntry::Type::File) e.size = 0;
  e.header = group_start_;
  e.data = offset_;
  e.end = offset_ + padded(stored);
  pax_.clear();
  long_name_.clear();
  long_link_.clear();
  in_group_ = false;
  skip_ = padded(stored);
  state_ = skip_ > 0 ? State::Data : State::Header;
  on_entry_(std::move(e));
}

std::vector<std::string> dumpdir_records(const std::string& dumpdir) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < dumpdir.size() && dumpdir[at] != '\0';) {
    std::size_t end = dumpdir.find('\0', at);
    if (end == std::string::npos) end = dumpdir.size();
    out.push_back(dumpdir.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

void TarScanner::on_extension() {
  if (ext_type_ == 'L' || ext_type_ == 'K') {
    std::string v = ext_.substr(0, ext_.find('\0'));
    (ext_type_ == 'L' ? long_name_ : long_link_) = std::move(v);
    return;
  }
  // pax records: "LEN key=value\n", LEN counting the whole record.
  std::vector<std::pair<std::string, std::string>> records;
  std::size_t pos = 0;
  while (pos < ext_.size()) {
    std::size_t sp = ext_.find(' ', pos);
    if (sp == std::string::npos) corrupt(offset_, "a pax record without a length");
    std::uint64_t len = 0;
    for (std::size_t k = pos; k < sp; ++k) {
      if (ext_[k] < '0' || ext_[k] > '9' || len > ext_.size()) corrupt(offset_, "a pax record's length");
      len = len * 10 + static_cast<std::uint64_t>(ext_[k] - '0');
    }
    if (len <= sp - pos + 1 || pos + len > ext_.size() || ext_[pos + len - 1] != '\n')
      corrupt(offset_, "a pax record's length");
    std::string rec = ext_.substr(sp + 1, pos + len - 1 - (sp + 1));
    std::size_t eq = rec.find('=');
    if (eq == std::string::npos) corrupt(offset_, "a pax record without '='");
    records.emplace_back(rec.substr(0, eq), rec.substr(eq + 1));
    pos += len;
  }
  // Global headers ('g') hold defaults for every later entry; libarchive
  // never writes them, and their records are taken as the next entry's.
  for (auto& r : records) pax_.push_back(std::move(r));
}

}  // namespace bakthat::archive

namespace bakthat {

using archive::TarEntry;

std::string listing_line(const TarEntry& e) {
  char mode[11];
  switch (e.type) {
    case TarEntry::Type::Directory: mode[0] = 'd'; break;
    case TarEntry::Type::Symlink: mode[0] = 'l'; break;
    case TarEntry::Type::Hardlink: mode[0] = 'h'; break;
    case TarEntry::Type::CharDevice: mode[0] = 'c'; break;
    case TarEntry::Type::BlockDevice: mode[0] = 'b'; break;
    case TarEntry::Type::Fifo: mode[0] = 'p'; break;
    default: mode[0] = '-'; break;
  }
  const char* rwx = "rwxrwxrwx";
  for (int k = 0; k < 9; ++k) mode[1 + k] = (e.mode & (0400u >> k)) ? rwx[k] : '-';
  if (e.mode & 04000) mode[3] = (e.mode & 0100) ? 's' : 'S';
  if (e.mode & 02000) mode[6] = (e.mode & 0010) ? 's' : 'S';
  if (e.mode & 01000) mode[9] = (e.mode & 0001) ? 't' : 'T';
  mode[10] = 0;
  std::string owner = (e.user.empty() ? std::to_string(e.uid) : e.user) + "/" +
                      (e.group.empty() ? std::to_string(e.gid) : e.group);
  std::string size = (e.type == TarEntry::Type::CharDevice || e.type == TarEntry::Type::BlockDevice)
                         ? std::to_string(e.dev_major) + "," + std::to_string(e.dev_minor)
                         : std::to_string(e.size);
  // GNU tar pads owner and size to a combined width of at least 19.
  std::string pad(owner.size() + 1 + size.size() < 19 ? 19 - owner.size() - 1 - size.size() : 0, ' ');
  std::time_t t = static_cast<std::time_t>(e.mtime);
  struct tm tm {};
  localtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  std::string line = std::string(mode) + " " + owner + " " + pad + size + " " + when + " " + e.path;
  if (e.type == TarEntry::Type::Symlink) line += " -> " + e.link;
  if (e.type == TarEntry::Type::Hardlink) line += " link to " + e.link;
  return line;
}

void to_json(nlohmann::json& j, const TarEntry& e) {
  j = {{"path", e.path}, {"type", archive::type_name(e.type)}, {"size", e.size}, {"mode", e.mode},
                      {"mtime", e.mtime}, {"uid", e.uid}, {"gid", e.gid}, {"user", e.user},
                      {"group", e.group}, {"header", e.header}, {"data", e.data}, {"end", e.end}};
  if (!e.link.empty()) j["link"] = e.link;
  if (!e.dumpdir.empty()) j["dumpdir"] = archive::dumpdir_records(e.dumpdir);
  if (e.type == TarEntry::Type::CharDevice || e.type == TarEntry::Type::BlockDevice) {
    j["dev_major"] = e.dev_major;
    j["dev_minor"] = e.dev_minor;
  }
}

void from_json(const nlohmann::json& j, TarEntry& e) {
  try {
    e.path = j.at("path").get<std::string>();
    const std::string t = j.at("type").get<std::string>();
    bool known = false;
    for (auto type : {TarEntry::Type::File, TarEntry::Type::Directory, TarEntry::Type::Symlink,
                      TarEntry::Type::Hardlink, TarEntry::Type::CharDevice, TarEntry::Type::BlockDevice,
                      TarEntry::Type::Fifo, TarEntry::Type::Other})
      if (t == archive::type_name(type)) { e.type = type; known = true; }
    if (!known) throw Error(ErrorKind::Corrupt, "index: unknown entry type '" + t + "'");
    e.size = j.at("size").get<std::uint64_t>();
    e.mode = j.at("mode").get<std::uint32_t>();
    e.mtime = j.at("mtime").get<std::int64_t>();
    e.uid = j.at("uid").get<std::int64_t>();
    e.gid = j.at("gid").get<std::int64_t>();
    e.user = j.at("user").get<std::string>();
    e.group = j.at("group").get<std::string>();
    e.link = j.value("link", std::string());
    e.dev_major = j.value("dev_major", 0u);
    e.dev_minor = j.value("dev_minor", 0u);
    e.dumpdir.clear();
    if (auto d = j.find("dumpdir"); d != j.end()) {
      for (const auto& one : *d) e.dumpdir.append(one.get<std::string>()).push_back('\0');
      e.dumpdir.push_back('\0');
    }
    e.header = j.at("header").get<std::uint64_t>();
    e.data = j.at("data").get<std::uint64_t>();
    e.end = j.at("end").get<std::uint64_t>();
    if (e.data < e.header || e.end < e.data) throw Error(ErrorKind::Corrupt, "index: entry offsets out of order");
  } catch (const nlohmann::json::exception& x) {
    throw Error(ErrorKind::Corrupt, std::string("index: a malformed entry (") + x.what() + ")");
  }
}

}  // namespace bakthat
