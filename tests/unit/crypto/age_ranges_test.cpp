// age files read by ranges (crypto::AgeRanges, docs/formats.md §1.4): any
// span of the plaintext opened from its chunks alone gives the bytes a
// whole read gives; damage inside the span, a span cut short, or a last
// chunk where the payload size says none is, is Corrupt; damage outside
// the span is not read. A header shared by two files (make_shared_header)
// is unwrapped once (DecryptOptions::file_keys).
#include <gtest/gtest.h>

#include <random>

#include "bakthat/errors.hpp"
#include "crypto/crypto.hpp"
#include "test_streams.hpp"

using namespace bakthat;
using namespace bakthat::crypto;

namespace {

constexpr std::uint64_t kChunk = AgeRanges::kChunk;

std::vector<std::uint8_t> make_data(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

std::vector<std::uint8_t> encrypt(Bytes plain, const EncryptOptions& opt) {
  test::VectorSink out;
  auto enc = make_encryptor(out, opt);
  enc->write(plain);
  enc->finish();
  return out.data;
}

EncryptOptions password_options() {
  EncryptOptions eo;
  eo.password = "correct horse";
  eo.scrypt_work_factor = 10;
  return eo;
}

DecryptOptions password_decrypt() {
  DecryptOptions d;
  d.password = "correct horse";
  return d;
}

// Plaintext [begin, end) read by ranges from `file`, as a partial restore
// does: the header from the object's start, then only the span's bytes.
std::vector<std::uint8_t> read_range(const std::vector<std::uint8_t>& file, std::uint64_t payload_size,
                                     std::uint64_t begin, std::uint64_t end, const DecryptOptions& d,
                                     std::size_t step = 5000) {
  test::SpanSource head(file);
  AgeRanges ranges(head, d, payload_size);
  AgeRanges::Span span = ranges.span(begin, end);
  EXPECT_LE(span.plain_begin, begin);
  const std::size_t avail = span.offset < file.size() ? file.size() - span.offset : 0;
  test::SpanSource sealed(Bytes(file.data() + span.offset, std::min<std::size_t>(span.length, avail)), step);
  auto plain = ranges.open(sealed, span);
  std::vector<std::uint8_t> all = test::drain(*plain, 7000);
  EXPECT_GE(span.plain_begin + all.size(), std::min(end, payload_size));
  const std::size_t from = begin - span.plain_begin;
  const std::size_t to = std::min<std::size_t>(all.size(), end - span.plain_begin);
  return {all.begin() + static_cast<std::ptrdiff_t>(from), all.begin() + static_cast<std::ptrdiff_t>(to)};
}

}  // namespace

TEST(AgeRanges, AnySpanGivesTheBytesOfAWholeRead) {
  for (std::size_t n : {std::size_t{0}, std::size_t{100}, std::size_t{kChunk}, std::size_t{3 * kChunk},
                        std::size_t{40 * kChunk + 123}}) {
    SCOPED_TRACE(n);
    auto plain = make_data(n, static_cast<unsigned>(n + 1));
    auto file = encrypt(plain, password_options());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans = {{0, n}, {0, 1}, {n / 2, n / 2 + 1},
                                                                  {n > 0 ? n - 1 : 0, n}};
    // Across the opening jobs (16 chunks each) and at chunk boundaries.
    if (n > 20 * kChunk) spans.insert(spans.end(), {{kChunk, 2 * kChunk}, {15 * kChunk - 3, 17 * kChunk + 3},
                                                    {kChunk - 1, 33 * kChunk}});
    for (auto [b, e] : spans) {
      if (e > n) continue;
      SCOPED_TRACE(std::to_string(b) + ".." + std::to_string(e));
      std::vector<std::uint8_t> want(plain.begin() + static_cast<std::ptrdiff_t>(b),
                                     plain.begin() + static_cast<std::ptrdiff_t>(e));
      EXPECT_EQ(read_range(file, n, b, e, password_decrypt()), want);
      DecryptOptions workers = password_decrypt();
      workers.threads = 4;
      EXPECT_EQ(read_range(file, n, b, e, workers, 1), want);
    }
  }
}

TEST(AgeRanges, SpanHoldsOnlyTheChunksNeeded) {
  auto plain = make_data(10 * kChunk + 5, 3);
  auto file = encrypt(plain, password_options());
  test::SpanSource head(file);
  AgeRanges ranges(head, password_decrypt(), plain.size());
  EXPECT_EQ(ranges.object_size(), file.size());
  AgeRanges::Span s = ranges.span(3 * kChunk + 10, 3 * kChunk + 20);
  EXPECT_EQ(s.length, AgeRanges::kSealedChunk);
  EXPECT_EQ(s.offset, ranges.payload_start() + 3 * AgeRanges::kSealedChunk);
  EXPECT_EQ(s.plain_begin, 3 * kChunk);
  // The last chunk is short.
  AgeRanges::Span last = ranges.span(10 * kChunk, 10 * kChunk + 5);
  EXPECT_EQ(last.offset + last.length, file.size());
  EXPECT_EQ(last.length, 5 + 16u);
}

TEST(AgeRanges, DamageInsideTheSpanIsCorruptOutsideItIsNotRead) {
  auto plain = make_data(8 * kChunk, 4);
  auto file = encrypt(plain, password_options());
  test::SpanSource head(file);
  AgeRanges ranges(head, password_decrypt(), plain.size());
  const std::size_t chunk5 = ranges.payload_start() + 5 * AgeRanges::kSealedChunk;
  file[chunk5 + 77] ^= 0x01;
  std::vector<std::uint8_t> want(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(kChunk));
  EXPECT_EQ(read_range(file, plain.size(), 0, kChunk, password_decrypt()), want);
  try {
    read_range(file, plain.size(), 4 * kChunk, 6 * kChunk, password_decrypt());
    FAIL() << "damage inside the span was not found";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(chunk5) +
                                         " (chunk authentication failed)");
  }
}

TEST(AgeRanges, TheLastChunkIsTheOneThePayloadSizeSays) {
  // A payload of exactly 4 chunks: the 4th, full, is the final one.
  auto plain = make_data(4 * kChunk, 5);
  auto file = encrypt(plain, password_options());
  std::vector<std::uint8_t> tail(plain.end() - 10, plain.end());
  EXPECT_EQ(read_range(file, plain.size(), 4 * kChunk - 10, 4 * kChunk, password_decrypt()), tail);
  // An index claiming more payload: chunk 3 opens as final where a
  // non-final one is expected.
  EXPECT_THROW(read_range(file, plain.size() + 100, 3 * kChunk, 4 * kChunk, password_decrypt()), Error);
  // An index claiming less: chunk 2 is not final.
  EXPECT_THROW(read_range(file, 3 * kChunk - 100, 2 * kChunk, 3 * kChunk - 100, password_decrypt()), Error);
  // An object cut short inside the span.
  std::vector<std::uint8_t> cut(file.begin(), file.end() - 1000);
  EXPECT_THROW(read_range(cut, plain.size(), 3 * kChunk, 4 * kChunk, password_decrypt()), Error);
}

TEST(AgeRanges, SharedHeaderIsUnwrappedOnce) {
  EncryptOptions eo = password_options();
  eo.shared_header = make_shared_header(eo);
  auto a_plain = make_data(3 * kChunk, 6), b_plain = make_data(1000, 7);
  auto a = encrypt(a_plain, eo), b = encrypt(b_plain, eo);
  // One header, two payload nonces.
  const std::string as(a.begin(), a.end()), bs(b.begin(), b.end());
  const std::size_t header = as.find("\n--- ") + 5 + 43 + 1;
  EXPECT_EQ(as.substr(0, header), bs.substr(0, header));
  EXPECT_NE(as.substr(header, 16), bs.substr(header, 16));
  // Each opens alone with the password.
  test::SpanSource bsrc(b);
  EXPECT_EQ(test::drain(*make_decryptor(bsrc, password_decrypt())), b_plain);
  // With a cache, the second file takes the key the first one's header gave:
  // no password is looked at (a wrong one would fail an unwrap).
  DecryptOptions d = password_decrypt();
  d.file_keys = make_file_key_cache();
  test::SpanSource bsrc2(b);
  EXPECT_EQ(test::drain(*make_decryptor(bsrc2, d)), b_plain);
  DecryptOptions again = d;
  again.password = "not the password";
  EXPECT_EQ(read_range(a, a_plain.size(), kChunk, kChunk + 10, again),
            std::vector<std::uint8_t>(a_plain.begin() + kChunk, a_plain.begin() + kChunk + 10));
  // Without it, the wrong password is refused.
  DecryptOptions uncached = password_decrypt();
  uncached.password = "not the password";
  test::SpanSource asrc(a);
  EXPECT_THROW(make_decryptor(asrc, uncached), Error);
  // A header of another file is not in the cache.
  auto c = encrypt(b_plain, password_options());
  test::SpanSource csrc(c);
  EXPECT_THROW(make_decryptor(csrc, again), Error);
}
