#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"
#include "codec/gzip_member.hpp"
#include "util/ordered_pool.hpp"
#include "codec/stages.hpp"
#include "util/peek_source.hpp"

namespace bakthat::codec {
namespace {

constexpr std::size_t kInputChunk = 256 * 1024;

struct Member {
  std::vector<std::uint8_t> in, out;
};
using Worker = std::unique_ptr<gzip::MemberInflater>;

std::string isal_error(int code) {
  switch (code) {
    case ISAL_INCORRECT_CHECKSUM: return "gzip: CRC mismatch, the data is corrupt";
    case ISAL_INVALID_WRAPPER: return "gzip: bad gzip header, the data is corrupt";
    case ISAL_UNSUPPORTED_METHOD: return "gzip: unsupported compression method";
    case ISAL_INVALID_BLOCK:
    case ISAL_INVALID_SYMBOL:
    case ISAL_INVALID_LOOKBACK: return "gzip: invalid deflate data, the data is corrupt";
    default: return "gzip: corrupt compressed data (ISA-L error " + std::to_string(code) + ")";
  }
}

[[noreturn]] void truncated() {
  throw Error(ErrorKind::Corrupt, "gzip: compressed data is truncated");
}

// Reads a gzip stream member by member. While members carry the BT size
// subfield (our own output) they are read whole and inflated by libdeflate on
// `threads` workers, gzip::slots_for(threads) in flight; from the first member
// without it to the end, ISA-L's streaming inflate takes over (plain .tgz
// from GNU gzip, pigz, zlib). The caller's thread does all reading of `in`.
class GzipSource : public Source {
 public:
  GzipSource(Source& in, int threads)
      : in_(in),
        pool_(threads, gzip::slots_for(threads),
              [] { return std::make_unique<gzip::MemberInflater>(); },
              [](Worker& w, Member& m) { w->inflate(m.in, m.out); }) {
    buf_.resize(kInputChunk);
  }

  std::size_t read(MutableBytes out) override {
    if (out.empty()) return 0;
    for (;;) {
      if (cur_pos_ < cur_.size()) {
        const std::size_t n = std::min(out.size(), cur_.size() - cur_pos_);
        std::memcpy(out.data(), cur_.data() + cur_pos_, n);
        cur_pos_ += n;
        return n;
      }
      if (!streaming_) {
        while (!pool_.full() && queue_tagged_member()) {
        }
        if (!pool_.empty()) {
          std::swap(cur_, pool_.front().out);
          cur_pos_ = 0;
          pool_.pop_front();
          continue;
        }
        if (at_end()) {
          if (!seen_member_) throw Error(ErrorKind::Corrupt, "gzip: empty input, not a gzip stream");
          return 0;
        }
        start_streaming();
      }
      return read_streaming(out);
    }
  }

 private:
  // --- buffered input -------------------------------------------------------
  std::size_t buffered() const { return len_ - pos_; }
  // Tries to have at least n bytes buffered; false if the stream ends first.
  bool fill(std::size_t n) {
    if (buffered() >= n) return true;
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, buffered());
      len_ -= pos_;
      pos_ = 0;
    }
    while (len_ < n && !eof_) {
      const std::size_t got = in_.read(MutableBytes(buf_.data() + len_, buf_.size() - len_));
      if (got == 0) eof_ = true;
      len_ += got;
    }
    return len_ >= n;
  }
  bool at_end() { return !fill(1); }

  // Reads the next member into a pool slot if it is a tagged one.
  bool queue_tagged_member() {
    fill(gzip::kHeaderSize);
    const auto size = gzip::tagged_member_size(Bytes(buf_.data() + pos_, buffered()));
    if (!size) return false;
    Member& m = pool_.back();
    m.in.resize(*size);
    const std::size_t from_buf = std::min(*size, buffered());
    std::memcpy(m.in.data(), buf_.data() + pos_, from_buf);
    pos_ += from_buf;
    if (from_buf < *size) {
      const std::size_t rest = *size - from_buf;
      if (util::read_full(in_, MutableBytes(m.in.data() + from_buf, rest)) != rest) truncated();
    }
    pool_.submit();
    seen_member_ = true;
    return true;
  }

  // --- streaming inflate (ISA-L) -------------------------------------------
  void start_streaming() {
    streaming_ = true;
    state_ = std::make_unique<inflate_state>();
    new_member();
  }
  void new_member() {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
    in_member_ = false;
  }

  std::size_t read_streaming(MutableBytes out) {
    for (;;) {
      if (!in_member_) {
        // Between members: another member, the end, or trailing zeros
        // (tolerated like GNU gzip does); anything else is garbage.
        if (at_end()) {
          if (!seen_member_) throw Error(ErrorKind::Corrupt, "gzip: empty input, not a gzip stream");
          return 0;
        }
        if (buf_[pos_] == 0) {
          skip_trailing_zeros();
          return 0;
        }
        fill(2);
        if (buffered() < 2 || buf_[pos_] != 0x1f || buf_[pos_ + 1] != 0x8b) {
          throw Error(ErrorKind::Corrupt, seen_member_ ? "gzip: trailing garbage after the compressed data"
                                                       : "gzip: not in gzip format");
        }
        in_member_ = true;
        seen_member_ = true;
      }
      if (buffered() == 0 && !fill(1)) truncated();
      inflate_state& s = *state_;
      s.next_in = buf_.data() + pos_;
      s.avail_in = static_cast<std::uint32_t>(buffered());
      s.next_out = out.data();
      s.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), 1u << 30));
      const std::size_t pos_before = pos_;
      const int ret = isal_inflate(&s);
      pos_ = static_cast<std::size_t>(s.next_in - buf_.data());
      if (ret != ISAL_DECOMP_OK) throw Error(ErrorKind::Corrupt, isal_error(ret));
      const std::size_t produced = out.size() - s.avail_out;
      const bool consumed = pos_ != pos_before;
      if (s.block_state == ISAL_BLOCK_FINISH) {
        new_member();
      } else if (produced == 0 && !consumed) {
        // The decoder wants more than is buffered; a stream ending here is cut.
        if (buffered() >= buf_.size() || !fill(buffered() + 1)) truncated();
      }
      if (produced > 0) return produced;
    }
  }

  void skip_trailing_zeros() {
    while (fill(1)) {
      for (; pos_ < len_; ++pos_) {
        if (buf_[pos_] != 0) throw Error(ErrorKind::Corrupt, "gzip: trailing garbage after the compressed data");
      }
    }
  }

  Source& in_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0, len_ = 0;
  bool eof_ = false;
  bool seen_member_ = false;

  util::OrderedPool<Member, Worker> pool_;
  std::vector<std::uint8_t> cur_;  // inflated member being handed out
  std::size_t cur_pos_ = 0;

  bool streaming_ = false;
  bool in_member_ = false;
  std::unique_ptr<inflate_state> state_;
};

}  // namespace

std::unique_ptr<Source> make_gzip_source(Source& in, int threads) {
  return std::make_unique<GzipSource>(in, std::max(1, threads));
}

}  // namespace bakthat::codec
