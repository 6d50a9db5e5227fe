// scrypt (RFC 7914): PBKDF2-HMAC-SHA-256 from OpenSSL around a ROMix of our
// own.
//
// Why not OpenSSL's EVP "SCRYPT": it takes its 128*r*N bytes (256 MiB at
// age's default N = 2^18) from malloc, i.e. fresh 4 KiB pages, and on the
// virtual machines backups often run on a page fault is dear. Measured on the
// project's 2-core VM (bench/crypto_bench --scrypt 18): OpenSSL 1.8-2.2 s a
// derivation, of which ~1.2 s are its 65,536 page faults; the same Salsa20/8
// work on transparent huge pages takes 0.55 s once the pages are warm, 1.0-1.5 s
// in a fresh process, 0.6-1.3 s with a helper thread faulting half of them in
// (RomixMemory). No Debian library lets the caller choose the memory
// (libsodium's scrypt mmaps 4 KiB pages too), so ROMix is here: one mapping
// that asks for huge pages and stays out of core dumps, and half the usual
// size (romix). On a later machine of the same kind OpenSSL took 0.9-1.2 s
// and this ROMix the same with full-size V; the page faults' cost moves with
// the host.
#include <sys/mman.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <system_error>
#include <thread>
#include <vector>

#include "bakthat/errors.hpp"
#include "crypto/primitives.hpp"
#include "util/bytes.hpp"
#include "util/huge_pages.hpp"

namespace bakthat::crypto::detail {
namespace {

// A 64-byte Salsa20 block as 16 little-endian words (converted once on
// entry to ROMix and back on exit; on little-endian machines a no-op).
struct Block {
  std::uint32_t w[16];
};
static_assert(sizeof(Block) == 64);

inline std::uint32_t rotl(std::uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

// b = Salsa20/8(b ^ x), the step BlockMix repeats. The state is sixteen
// named locals rather than an array, so that the compiler keeps it in
// registers: the array form spilled to the stack and made ROMix ~1.5x
// slower (0.79 s against 0.55 s at N = 2^18, measured on the project's VM).
// Plain scalar code: the four quarter-rounds of a round are independent,
// which a superscalar core overlaps; 128-bit vectors measured slower (each
// round is then one serial dependency chain).
inline void xor_salsa20_8(Block& b, const Block& x) {
  std::uint32_t* w = b.w;
  for (int i = 0; i < 16; ++i) w[i] ^= x.w[i];
  std::uint32_t x0 = w[0], x1 = w[1], x2 = w[2], x3 = w[3], x4 = w[4], x5 = w[5], x6 = w[6], x7 = w[7], x8 = w[8],
                x9 = w[9], x10 = w[10], x11 = w[11], x12 = w[12], x13 = w[13], x14 = w[14], x15 = w[15];
  for (int i = 0; i < 4; ++i) {
    // Columns.
    x4 ^= rotl(x0 + x12, 7), x9 ^= rotl(x5 + x1, 7), x14 ^= rotl(x10 + x6, 7), x3 ^= rotl(x15 + x11, 7);
    x8 ^= rotl(x4 + x0, 9), x13 ^= rotl(x9 + x5, 9), x2 ^= rotl(x14 + x10, 9), x7 ^= rotl(x3 + x15, 9);
    x12 ^= rotl(x8 + x4, 13), x1 ^= rotl(x13 + x9, 13), x6 ^= rotl(x2 + x14, 13), x11 ^= rotl(x7 + x3, 13);
    x0 ^= rotl(x12 + x8, 18), x5 ^= rotl(x1 + x13, 18), x10 ^= rotl(x6 + x2, 18), x15 ^= rotl(x11 + x7, 18);
    // Rows.
    x1 ^= rotl(x0 + x3, 7), x6 ^= rotl(x5 + x4, 7), x11 ^= rotl(x10 + x9, 7), x12 ^= rotl(x15 + x14, 7);
    x2 ^= rotl(x1 + x0, 9), x7 ^= rotl(x6 + x5, 9), x8 ^= rotl(x11 + x10, 9), x13 ^= rotl(x12 + x15, 9);
    x3 ^= rotl(x2 + x1, 13), x4 ^= rotl(x7 + x6, 13), x9 ^= rotl(x8 + x11, 13), x14 ^= rotl(x13 + x12, 13);
    x0 ^= rotl(x3 + x2, 18), x5 ^= rotl(x4 + x7, 18), x10 ^= rotl(x9 + x8, 18), x15 ^= rotl(x14 + x13, 18);
  }
  w[0] += x0, w[1] += x1, w[2] += x2, w[3] += x3, w[4] += x4, w[5] += x5, w[6] += x6, w[7] += x7;
  w[8] += x8, w[9] += x9, w[10] += x10, w[11] += x11, w[12] += x12, w[13] += x13, w[14] += x14, w[15] += x15;
}

// out = BlockMix(in) over 2r blocks; `out` must not overlap `in`.
void block_mix(const Block* in, Block* out, std::uint32_t r) {
  Block x = in[2 * r - 1];
  for (std::uint32_t i = 0; i < 2 * r; ++i) {
    xor_salsa20_8(x, in[i]);
    // Even outputs go to the first half, odd ones to the second.
    out[(i & 1) * r + i / 2] = x;
  }
}

// b ^= v over 2r blocks.
void xor_blocks(Block* b, const Block* v, std::uint32_t r) {
  for (std::uint32_t k = 0; k < 2 * r; ++k)
    for (int i = 0; i < 16; ++i) b[k].w[i] ^= v[k].w[i];
}

// V (64*r*N bytes, see romix): a mapping on huge pages kept out of core dumps.
// Released (not wiped: the kernel zeroes pages before anyone else gets them)
// when the derivation ends.
//
// Large mappings also have their second half faulted in by a helper thread
// while ROMix fills the first: on a VM, first touch of fresh memory is most of
// the cost (~4 ms per 2 MiB page measured here; the host takes back what a
// guest frees within seconds, so every backup pays it anew), and the derivation otherwise
// leaves the other cores idle (a backup derives its key before the pipeline
// starts). MADV_POPULATE_WRITE never changes what a page holds, so racing
// ROMix's own writes is harmless; where the kernel lacks it (before 5.14) the
// helper just stops.
class RomixMemory {
 public:
  explicit RomixMemory(std::size_t size) : size_(size) {
    try {
      data_ = static_cast<Block*>(util::map_huge(size, /*no_dump=*/true));
    } catch (const std::bad_alloc&) {
      throw Error(ErrorKind::Crypto, "scrypt: cannot allocate its memory");
    }
    if (size >= kPrefaultFrom) {
      auto* first = reinterpret_cast<std::uint8_t*>(data_);
      const std::size_t half = (size / 2) & ~(util::kHugePage - 1);
      try {
        prefault_ = std::thread([first, half, size] {
          // Backwards from the end, so it meets ROMix's writes last.
          for (std::size_t end = size; end > half;) {
            const std::size_t start = std::max(half, (end - 1) & ~(util::kHugePage - 1));
            if (madvise(first + start, end - start, MADV_POPULATE_WRITE) != 0) return;
            end = start;
          }
        });
      } catch (const std::system_error&) {
        // No thread to spare: ROMix faults its pages in itself.
      }
    }
  }
  ~RomixMemory() {
    if (prefault_.joinable()) prefault_.join();
    util::unmap_huge(data_, size_);
  }
  RomixMemory(const RomixMemory&) = delete;
  RomixMemory& operator=(const RomixMemory&) = delete;
  Block* data() const { return data_; }

 private:
  static constexpr std::size_t kPrefaultFrom = std::size_t{32} << 20;
  std::size_t size_;
  Block* data_ = nullptr;
  std::thread prefault_;
};

// ROMix on one 128*r-byte slice of B, in place; v holds r*n blocks (n/2
// entries of 2r), work 6r.
//
// V keeps only its even entries, and an odd one is recomputed from the entry
// before it (one BlockMix) when Integerify asks for it: scrypt's known
// time-memory trade-off at factor 2, the same result with half the memory.
// Where fresh memory is dear (a VM: ~2.8 us a KiB measured here) the faults
// saved outweigh the recomputation: at N = 2^18, 128 MiB of faults (~0.37
// CPU s) against 2^17 more BlockMix (~0.15 s); natively it costs those
// 0.15 s. Measured here (1 GB set, alternating, medians of 4): a password
// backup 4.88 s against 5.12 (plain 3.67), restore 3.4 against 3.7, peak
// RSS 185 MB against 316 and 150 against 281. The branch on j's parity
// makes the loop's timing depend on secret-derived data; scrypt's reads of
// V[j] already do (through the cache), so it shows nothing new.
void romix(std::uint8_t* bytes, std::uint64_t n, std::uint32_t r, Block* v, Block* work) {
  Block* x = work;
  Block* y = work + 2 * r;
  Block* odd = work + 4 * r;
  for (std::uint32_t k = 0; k < 2 * r; ++k)
    for (int i = 0; i < 16; ++i) x[k].w[i] = util::get_le32(bytes + 64 * k + 4 * i);
  const std::size_t blocks = 2 * r;
  for (std::uint64_t i = 0; i < n; i += 2) {
    // Two steps a round so that x and y swap back in place.
    std::memcpy(v + (i / 2) * blocks, x, blocks * sizeof(Block));
    block_mix(x, y, r);
    block_mix(y, x, r);
  }
  // b ^= V[j], j = Integerify(b): the first word of the last block (n <=
  // 2^32, so its low 32 bits are the whole index mod n).
  auto mix_in = [&](Block* b) {
    const std::uint64_t j = b[blocks - 1].w[0] & (n - 1);
    const Block* entry = v + (j / 2) * blocks;
    if (j & 1) {
      block_mix(entry, odd, r);
      entry = odd;
    }
    xor_blocks(b, entry, r);
  };
  for (std::uint64_t i = 0; i < n; i += 2) {
    mix_in(x);
    block_mix(x, y, r);
    mix_in(y);
    block_mix(y, x, r);
  }
  for (std::uint32_t k = 0; k < 2 * r; ++k)
    for (int i = 0; i < 16; ++i) util::put_le32(bytes + 64 * k + 4 * i, x[k].w[i]);
  wipe(work, 6 * r * sizeof(Block));
}

void pbkdf2(std::string_view password, Bytes salt, MutableBytes out) {
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), 1, EVP_sha256(), static_cast<int>(out.size()),
                        out.data()) != 1)
    throw Error(ErrorKind::Crypto, "OpenSSL: PBKDF2 failed");
}

}  // namespace

void scrypt_kdf(std::string_view password, Bytes salt, std::uint64_t n, std::uint32_t r, std::uint32_t p,
                MutableBytes out) {
  // RFC 7914's limits, and n <= 2^32 for the 32-bit Integerify above.
  if (n < 2 || (n & (n - 1)) != 0 || n > (std::uint64_t{1} << 32) || r == 0 || p == 0 ||
      std::uint64_t{r} * p >= (std::uint64_t{1} << 30) || r > (std::numeric_limits<std::uint32_t>::max() / 256) ||
      n > std::numeric_limits<std::size_t>::max() / (128 * std::uint64_t{r}) - 2 ||
      password.size() > std::numeric_limits<int>::max() || salt.size() > std::numeric_limits<int>::max() ||
      out.size() > std::numeric_limits<int>::max())
    throw Error(ErrorKind::Crypto, "scrypt: parameters out of range");
  const std::size_t slice = 128 * std::size_t{r};
  std::vector<std::uint8_t> b(slice * p);
  pbkdf2(password, salt, b);
  {
    RomixMemory memory(slice * (n / 2) + 3 * slice);
    Block* v = memory.data();
    Block* work = v + r * n;
    for (std::uint32_t i = 0; i < p; ++i) romix(b.data() + i * slice, n, r, v, work);
  }
  pbkdf2(password, b, out);
  wipe(b.data(), b.size());
}

Key32 scrypt(std::string_view password, Bytes salt, int log_n) {
  Key32 out{};
  scrypt_kdf(password, salt, std::uint64_t{1} << log_n, 8, 1, out);
  return out;
}

}  // namespace bakthat::crypto::detail
