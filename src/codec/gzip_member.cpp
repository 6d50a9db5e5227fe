#include "codec/gzip_member.hpp"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "bakthat/errors.hpp"
#include "util/bytes.hpp"

namespace bakthat::codec::gzip {
namespace {

using util::get_le16;
using util::get_le32;
using util::put_le16;
using util::put_le32;

constexpr std::size_t kStoredMax = 65535;  // longest deflate stored block

std::size_t isal_level_buf_size(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
  }
}

}  // namespace

// Measured with bench/codec_bench --sweep, one thread, 1 MiB members,
// random blocks stored, on the tar of the 1024 MB benchmark set (40% text,
// 20% logs, 40% random; a quiet moment of the shared 2-core box). pigz -6
// made 582090354 bytes of it, so the benchmark's limit "at most 5% larger"
// is 611.2 MB:
//   engine        MB/s  ratio  bytes       vs pigz -6
//   isal-1        740   1.766  615382847   +5.7%
//   isal-2        721   1.778  611179796   +5.0%
//   isal-3        457   1.789  607344562   +4.3%
//   libdeflate-1  356   1.804  602316163   +3.5%
//   libdeflate-2  242   1.824  595912676   +2.4%
//   libdeflate-4  185   1.847  588420247   +1.1%
//   libdeflate-6  125   1.869  581328040   -0.1%
// Default: ISA-L 3, the fastest engine within the limit. libdeflate 1 would
// leave more margin; but compression is most of a backup's CPU, and on 2
// cores shared with an S3 server ISA-L 3 is what lets the S3 backup keep up
// with `aws s3 cp` sending a ready .tgz (same-run pairs: 0.96-1.13x against
// libdeflate 1's 0.81-0.95x). The price is on
// real trees, where every fast engine is further from pigz -6 than on the
// benchmark's set (tars of Debian's /usr/include, Python's stdlib, /usr/bin):
//   vs pigz -6    include   stdlib   bin
//   isal-3        +16.3%    +13.4%   +11.2%
//   libdeflate-1  +12.8%     +9.6%    +8.5%
// i.e. ~3% more bytes than libdeflate 1; `compression_level: 2` (libdeflate
// 2) is the next step towards smaller.
// Explicit levels: 1 = ISA-L 1 (fastest, about gzip -1's size), 2..9 =
// libdeflate at that level (zlib-like scale), 0 = stored only.
EngineChoice choose_engine(std::optional<int> level) {
  if (!level) return {Engine::Isal, 3};
  const int l = std::min(*level, 9);
  if (l <= 0) return {Engine::Stored, 0};
  if (l == 1) return {Engine::Isal, 1};
  return {Engine::Libdeflate, l};
}

bool looks_incompressible(Bytes in) {
  // 32 samples of 2 KiB spread over the block: 1/16 of a 1 MiB block, so the
  // check costs far less than deflating random data. Text and logs sit at
  // 4-6 bits/byte; random or already-compressed data at ~7.9 on a 2 KiB
  // sample (the small-sample bias is ~0.09 bit). A block is stored only if
  // every sample looks random, so a mixed block is still deflated.
  constexpr std::size_t kSamples = 32, kSample = 2048;
  constexpr double kThresholdBits = 7.5;
  if (in.size() < kSamples * kSample) return false;
  // The entropy of a sample, -sum (c/N) log2(c/N), is log2 N - sum c log2 c / N:
  // c log2 c from a table (log2 calls were ~1% of a backup's CPU).
  static const std::array<double, kSample + 1> c_log2_c = [] {
    std::array<double, kSample + 1> t{};
    for (std::size_t c = 1; c <= kSample; ++c) t[c] = static_cast<double>(c) * std::log2(static_cast<double>(c));
    return t;
  }();
  const double log2_sample = std::log2(static_cast<double>(kSample));
  const std::size_t stride = in.size() / kSamples;
  for (std::size_t s = 0; s < kSamples; ++s) {
    std::array<std::uint32_t, 256> count{};
    const std::uint8_t* p = in.data() + s * stride;
    for (std::size_t i = 0; i < kSample; ++i) ++count[p[i]];
    double sum = 0;
    for (std::uint32_t c : count) sum += c_log2_c[c];
    if (log2_sample - sum / kSample < kThresholdBits) return false;
  }
  return true;
}

std::size_t stored_bound(std::size_t n) {
  return n + 5 * (n / kStoredMax + 1);
}

std::size_t write_stored(Bytes in, std::uint8_t* out) {
  // Hand-written: it is a memcpy with a 5-byte header per 64 KiB, simpler than
  // driving an engine's "level 0" (ISA-L has none; libdeflate's needs a
  // compressor object of its own).
  std::uint8_t* o = out;
  std::size_t pos = 0;
  do {
    std::size_t n = std::min(kStoredMax, in.size() - pos);
    bool final = pos + n == in.size();
    *o++ = final ? 1 : 0;  // BFINAL, BTYPE=00, rest of the byte is padding
    put_le16(o, static_cast<std::uint32_t>(n));
    put_le16(o + 2, static_cast<std::uint32_t>(~n & 0xffff));
    o += 4;
    if (n) std::memcpy(o, in.data() + pos, n);
    o += n;
    pos += n;
  } while (pos < in.size());
  return static_cast<std::size_t>(o - out);
}

MemberCompressor::MemberCompressor(EngineChoice choice) : choice_(choice) {
  if (choice_.engine == Engine::Libdeflate) {
    libdeflate_ = libdeflate_alloc_compressor(choice_.level);
    if (!libdeflate_) throw Error(ErrorKind::Io, "gzip: cannot allocate a compressor");
  } else if (choice_.engine == Engine::Isal) {
    isal_level_buf_.resize(isal_level_buf_size(choice_.level));
  }
}

void MemberCompressor::use_libdeflate_instead() {
  libdeflate_ = libdeflate_alloc_compressor(1);
  if (!libdeflate_) throw Error(ErrorKind::Io, "gzip: cannot allocate a compressor");
  choice_ = {Engine::Libdeflate, 1};
  isal_level_buf_ = {};
}

MemberCompressor::~MemberCompressor() {
  if (libdeflate_) libdeflate_free_compressor(libdeflate_);
}

std::size_t MemberCompressor::deflate_into(Bytes in, std::uint8_t* out, std::size_t cap) {
  // Returns 0 when the engine output would not fit in cap (the caller then
  // stores the block).
  if (choice_.engine == Engine::Libdeflate) {
    return libdeflate_deflate_compress(libdeflate_, in.data(), in.size(), out, cap);
  }
  if (choice_.engine == Engine::Isal) {
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.level = static_cast<std::uint32_t>(choice_.level);
    s.level_buf = isal_level_buf_.empty() ? nullptr : isal_level_buf_.data();
    s.level_buf_size = static_cast<std::uint32_t>(isal_level_buf_.size());
    s.gzip_flag = IGZIP_DEFLATE;
    s.end_of_stream = 1;
    s.flush = NO_FLUSH;
    s.next_in = const_cast<std::uint8_t*>(in.data());
    s.avail_in = static_cast<std::uint32_t>(in.size());
    s.next_out = out;
    s.avail_out = static_cast<std::uint32_t>(cap);
    const int rc = isal_deflate_stateless(&s);
    if (rc == COMP_OK) return s.total_out;
    if (rc == STATELESS_OVERFLOW) return 0;
    // The level is refused (which levels an ISA-L build has can depend on
    // the machine it targets): libdeflate from now on, rather than storing
    // every block uncompressed without a word.
    use_libdeflate_instead();
    return deflate_into(in, out, cap);
  }
  return 0;
}

std::size_t MemberCompressor::compress(Bytes in, std::vector<std::uint8_t>& out) {
  const std::size_t stored = stored_bound(in.size());
  if (out.size() < kHeaderSize + stored + kTrailerSize) out.resize(kHeaderSize + stored + kTrailerSize);
  std::uint8_t* body = out.data() + kHeaderSize;
  std::size_t n = 0;
  if (choice_.engine != Engine::Stored && !in.empty() && !looks_incompressible(in)) {
    // Capped at the stored size: deflate that does not beat storing is useless.
    n = deflate_into(in, body, stored);
  }
  if (n == 0) n = write_stored(in, body);
  const std::size_t total = kHeaderSize + n + kTrailerSize;

  std::uint8_t* h = out.data();
  const std::uint8_t fixed[] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, 8, 0, 'B', 'T', 4, 0};
  std::memcpy(h, fixed, sizeof fixed);
  put_le32(h + 16, static_cast<std::uint32_t>(total));
  std::uint8_t* t = out.data() + kHeaderSize + n;
  put_le32(t, libdeflate_crc32(0, in.data(), in.size()));
  put_le32(t + 4, static_cast<std::uint32_t>(in.size()));
  return total;
}

std::optional<std::size_t> tagged_member_size(Bytes head) {
  if (head.size() < kHeaderSize) return std::nullopt;
  const std::uint8_t* h = head.data();
  if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || h[3] != 4) return std::nullopt;
  if (get_le16(h + 10) != 8 || h[12] != 'B' || h[13] != 'T' || get_le16(h + 14) != 4) {
    return std::nullopt;
  }
  const std::size_t size = get_le32(h + 16);
  if (size < kHeaderSize + kTrailerSize + 1 || size > kMaxTaggedMember) return std::nullopt;
  return size;
}

void MemberScanner::feed(Bytes data) {
  std::size_t i = 0;
  while (tagged_ && i < data.size()) {
    if (seen_ < kHeaderSize) {
      const std::size_t n = std::min(kHeaderSize - seen_, data.size() - i);
      std::memcpy(header_ + seen_, data.data() + i, n);
      seen_ += n;
      i += n;
      if (seen_ == kHeaderSize) {
        const auto size = tagged_member_size(Bytes(header_, kHeaderSize));
        if (!size) {
          tagged_ = false;
          return;
        }
        member_size_ = *size;
      }
      continue;
    }
    // Up to the ISIZE field, then its four bytes.
    const std::size_t isize_at = member_size_ - 4;
    if (seen_ < isize_at) {
      const std::size_t n = std::min(isize_at - seen_, data.size() - i);
      seen_ += n;
      i += n;
      continue;
    }
    const std::size_t n = std::min(member_size_ - seen_, data.size() - i);
    std::memcpy(isize_ + (seen_ - isize_at), data.data() + i, n);
    seen_ += n;
    i += n;
    if (seen_ == member_size_) {
      on_member_(start_);
      start_.compressed += member_size_;
      start_.uncompressed += get_le32(isize_);
      seen_ = 0;
      member_size_ = 0;
    }
  }
}

// libdeflate rather than ISA-L here: on our members its whole-buffer decoder
// used ~5% less CPU than isal_inflate_stateless (codec_bench --decode, 1
// thread, 4 alternating runs: 1106-1146 vs 947-1025 MB per CPU-second).
MemberInflater::MemberInflater() : libdeflate_(libdeflate_alloc_decompressor()) {
  if (!libdeflate_) throw Error(ErrorKind::Io, "gzip: cannot allocate a decompressor");
}

MemberInflater::~MemberInflater() { libdeflate_free_decompressor(libdeflate_); }

void MemberInflater::inflate(Bytes member, std::vector<std::uint8_t>& out) {
  const std::size_t isize = get_le32(member.data() + member.size() - 4);
  // Deflate cannot expand more than 1032:1; a bigger claim is a lie.
  if (isize > kMaxTaggedInput || isize > 1032 * member.size()) {
    throw Error(ErrorKind::Corrupt, "gzip: corrupt member (impossible uncompressed size)");
  }
  out.resize(isize);
  std::size_t in_used = 0, out_used = 0;
  const libdeflate_result r = libdeflate_gzip_decompress_ex(libdeflate_, member.data(), member.size(),
                                                            out.data(), out.size(), &in_used, &out_used);
  if (r != LIBDEFLATE_SUCCESS || in_used != member.size() || out_used != isize) {
    throw Error(ErrorKind::Corrupt, "gzip: corrupt data (bad deflate stream, CRC or size)");
  }
}

}  // namespace bakthat::codec::gzip
