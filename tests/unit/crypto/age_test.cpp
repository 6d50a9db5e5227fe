// age writer/reader: primitives against docs/formats.md §1.10's
// intermediates, Bech32 keys, round trips at the chunk boundaries,
// tampering, options, interop with the age CLI when installed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "bakthat/errors.hpp"
#include "crypto/age_format.hpp"
#include "crypto/bech32.hpp"
#include "crypto/crypto.hpp"
#include "crypto/keys.hpp"
#include "crypto/primitives.hpp"
#include "test_streams.hpp"
#include "util/bytes.hpp"
#include "util/ordered_pool.hpp"

namespace fs = std::filesystem;
using namespace bakthat;
using namespace bakthat::crypto;
using test::bytes_of;

namespace {

std::vector<std::uint8_t> unhex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

std::vector<std::uint8_t> make_data(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

// A scratch directory for key files, removed at the end of each test.
class AgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bakthat-age-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_file(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    ::chmod(p.c_str(), 0600);
    return p.string();
  }

  std::vector<std::uint8_t> encrypt(Bytes plain, const EncryptOptions& opt, std::size_t piece = 1000) {
    test::VectorSink out;
    auto enc = make_encryptor(out, opt);
    for (std::size_t i = 0; i < plain.size(); i += piece) enc->write(plain.subspan(i, std::min(piece, plain.size() - i)));
    enc->finish();
    EXPECT_TRUE(out.finished);
    return out.data;
  }

  std::vector<std::uint8_t> decrypt(Bytes cipher, const DecryptOptions& opt, std::size_t step = 4097) {
    test::SpanSource src(cipher, step);
    auto dec = make_decryptor(src, opt);
    return test::drain(*dec, 3000);
  }

  fs::path dir_;
};

// Where the payload starts: after the MAC line.
std::size_t header_size(const std::vector<std::uint8_t>& f) {
  std::string_view s(reinterpret_cast<const char*>(f.data()), f.size());
  auto p = s.find("\n--- ");
  return p + 5 + 43 + 1;
}

}  // namespace

// ---- primitives against docs/formats.md §1.10 intermediates ----

TEST(AgePrimitives, ScryptVectorIntermediates) {
  auto salt = unhex("ac5d3f3706e55071d3a604204697b909");
  std::string s(detail::kScryptLabel);
  s.append(salt.begin(), salt.end());
  auto wrap = detail::scrypt("password", bytes_of(s), 10);
  EXPECT_EQ(util::hex(wrap), "1df6687dd16d64c67708d548dad485f797a649fea1063abb65a5b0c9758ce0e9");
  auto file_key = unhex("59454c4c4f57205355424d4152494e45");
  EXPECT_EQ(util::hex(detail::hkdf_sha256(file_key, {}, "header")),
            "a4bf3b9f4e908993e678eb71e558faedac5829d1d632c50225217c066fec77d2");
  auto nonce = unhex("1b35c6e687dd00da3ac379ac9f742c21");
  EXPECT_EQ(util::hex(detail::hkdf_sha256(file_key, nonce, "payload")),
            "42222de932f4e03b7e970f2123520b20afe94ce30ab52197dc4db8a29f7b90a0");
}

TEST(AgePrimitives, X25519VectorIntermediates) {
  auto id = detail::parse_identity("AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0");
  auto share = detail::base64_raw_decode("TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc");
  ASSERT_TRUE(share);
  auto shared = detail::x25519(id.scalar, *share);
  ASSERT_TRUE(shared);
  EXPECT_EQ(util::hex(*shared), "3e6809a7c389ed0a1462d2e3a283ef87f1e205393ce0036916c2ddca6622a370");
  std::vector<std::uint8_t> salt(*share);
  salt.insert(salt.end(), id.public_key.begin(), id.public_key.end());
  EXPECT_EQ(util::hex(detail::hkdf_sha256(*shared, salt, detail::kX25519Label)),
            "5e7e89500119f0097a93c06cc172436782b9f8da89dd736352321e19923706b8");
  std::array<std::uint8_t, 32> zero{};
  EXPECT_FALSE(detail::x25519(id.scalar, zero));  // low-order point
}

TEST(AgePrimitives, StrictBase64) {
  EXPECT_EQ(detail::base64_raw_encode(bytes_of("age")), "YWdl");
  EXPECT_EQ(detail::base64_raw_encode(bytes_of("ag")), "YWc");
  EXPECT_EQ(detail::base64_padded_encode(bytes_of("ag")), "YWc=");
  EXPECT_TRUE(detail::base64_raw_decode("YWc"));
  EXPECT_FALSE(detail::base64_raw_decode("YWd"));   // non-zero unused bits
  EXPECT_FALSE(detail::base64_raw_decode("YWc="));  // padding in the header form
  EXPECT_FALSE(detail::base64_raw_decode("Y"));
  EXPECT_FALSE(detail::base64_raw_decode("YW c"));
  EXPECT_TRUE(detail::base64_padded_decode("YWc="));
  EXPECT_FALSE(detail::base64_padded_decode("YWc"));
  EXPECT_FALSE(detail::base64_padded_decode("YW=c"));
}

// ---- Bech32 keys (docs/formats.md §1.8) ----

TEST(AgeKeys, Bech32Vectors) {
  struct {
    const char* identity;
    const char* scalar;
    const char* recipient;
  } vectors[] = {
      {"AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
       "4242424242424242424242424242424242424242424242424242424242424242",
       "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"},
      {"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
       "ca1626252c53cf1a4dc46695e7fcc46594cb4ccadedb6712dfda0753f3ae355e",
       "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"},
  };
  for (const auto& v : vectors) {
    auto id = detail::parse_identity(v.identity);
    EXPECT_EQ(util::hex(id.scalar), v.scalar);
    EXPECT_EQ(recipient_of(v.identity), v.recipient);
    EXPECT_EQ(detail::format_identity(unhex(v.scalar)), v.identity);
    EXPECT_EQ(util::hex(detail::parse_recipient(v.recipient)), util::hex(id.public_key));
  }
  EXPECT_EQ(util::hex(detail::parse_recipient("age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef")),
            "36dcec3f5f24739a0c8b36cbb4ffa25729a94a51d41fb205a37419fe7f5adb2a");
}

TEST(AgeKeys, Bech32Rejects) {
  const std::string good = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
  EXPECT_TRUE(bech32::decode(good));
  std::string bad_sum = good;
  bad_sum.back() = bad_sum.back() == 'j' ? 'k' : 'j';
  EXPECT_FALSE(bech32::decode(bad_sum));
  std::string mixed = good;
  mixed[5] = static_cast<char>(std::toupper(mixed[5]));
  EXPECT_FALSE(bech32::decode(mixed));
  EXPECT_FALSE(bech32::decode("age1"));
  EXPECT_FALSE(bech32::decode(good.substr(0, good.size() - 1)));
  EXPECT_THROW(detail::parse_recipient(bad_sum), Error);
  EXPECT_THROW(detail::parse_recipient("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"), Error);
  // A valid Bech32 string of the wrong length is not a key.
  EXPECT_THROW(detail::parse_recipient(bech32::encode("age", bytes_of("short"))), Error);
  try {
    detail::parse_recipient("age1nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

TEST_F(AgeTest, IdentityFiles) {
  auto a = generate_key_pair(), b = generate_key_pair();
  EXPECT_TRUE(a.identity.starts_with("AGE-SECRET-KEY-1"));
  EXPECT_EQ(a.identity.size(), 74u);
  EXPECT_EQ(a.recipient.size(), 62u);
  EXPECT_EQ(recipient_of(a.identity), a.recipient);
  auto f = write_file("ids", "# created: now\r\n# public key: x\r\n\r\n" + b.identity + "\r\n\n" + a.identity + "\n");
  detail::Identities ids;
  detail::load_identity_file(f, ids);
  ASSERT_EQ(ids.x25519.size(), 2u);
  EXPECT_EQ(detail::format_recipient(ids.x25519[1].public_key), a.recipient);

  auto expect_kind = [](auto fn, ErrorKind kind) {
    try {
      fn();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_EQ(std::string(e.what()).find("AGE-SECRET-KEY-1Q"), std::string::npos);  // no secret echoed
    }
  };
  auto load = [](const std::string& path) {
    detail::Identities some;
    detail::load_identity_file(path, some);
  };
  expect_kind([&] { load((dir_ / "missing").string()); }, ErrorKind::NotFound);
  expect_kind([&] { load(write_file("bad", "not a key\n")); }, ErrorKind::Usage);
  expect_kind([&] { load(write_file("empty", "# nothing\n\n")); }, ErrorKind::Usage);
  expect_kind([&] { load(write_file("ssh", "-----BEGIN OPENSSH PRIVATE KEY-----\n")); }, ErrorKind::Usage);
  expect_kind([&] { load(write_file("ssh.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB me\n")); }, ErrorKind::Usage);
  expect_kind([&] { load(write_file("pem", "-----BEGIN RSA PRIVATE KEY-----\n")); }, ErrorKind::Unsupported);
  expect_kind([&] { load(write_file("enc", "age-encryption.org/v1\n")); }, ErrorKind::Unsupported);
}

// ---- round trips ----

TEST_F(AgeTest, RoundTripSizesPassword) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
                        std::size_t{3 * 65536}, std::size_t{3 * 65536 + 7}}) {
    SCOPED_TRACE(n);
    auto plain = make_data(n, static_cast<unsigned>(n));
    EncryptOptions eo;
    eo.password = "correct horse";
    eo.scrypt_work_factor = 10;
    auto cipher = encrypt(plain, eo);
    // One 16-byte tag per 64 KiB chunk, at least one chunk, no empty last one.
    std::size_t chunks = std::max<std::size_t>(1, (n + 65535) / 65536);
    EXPECT_EQ(cipher.size() - header_size(cipher), 16 + n + 16 * chunks);
    EXPECT_EQ(detect(cipher), Envelope::Age);
    DecryptOptions dopt;
    dopt.password = "correct horse";
    EXPECT_EQ(decrypt(cipher, dopt), plain);
    EXPECT_EQ(decrypt(cipher, dopt, 1), plain);  // one-byte reads
  }
}

// A password's key is derived on a thread while the payload is sealed: the
// payload held back for the header is bounded (kHeldWhileDeriving), the header still
// comes first, and the stream decrypts whole. scrypt 2^17 takes long enough
// here that the encryptor is fed well past the bound before the header is
// ready; whatever the timing, the bound and the order must hold.
TEST_F(AgeTest, PayloadHeldForTheDerivedHeaderIsBounded) {
  struct FirstWriteSink : test::VectorSink {
    const std::size_t* fed = nullptr;
    std::size_t fed_at_first_write = SIZE_MAX;
    void write(Bytes d) override {
      if (data.empty()) fed_at_first_write = *fed;
      test::VectorSink::write(d);
    }
  };
  const std::size_t n = 2 * detail::kHeldWhileDeriving, piece = 1u << 20;
  std::vector<std::uint8_t> plain(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = i * 0x9E3779B97F4A7C15ull;  // each 8 bytes differ: reordering shows
    std::memcpy(plain.data() + i, &v, 8);
  }
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    std::size_t fed = 0;
    FirstWriteSink out;
    out.fed = &fed;
    EncryptOptions eo;
    eo.password = "correct horse";
    eo.scrypt_work_factor = 17;
    eo.threads = threads;
    auto enc = make_encryptor(out, eo);
    for (; fed < n; fed += piece) enc->write(Bytes(plain.data() + fed, piece));
    enc->finish();
    // The bound, plus the jobs in flight on the workers and one write.
    const std::size_t in_flight = (2 * static_cast<std::size_t>(threads) + 2 + 1) * (1u << 20) + piece;
    EXPECT_LE(out.fed_at_first_write, detail::kHeldWhileDeriving + in_flight);
    std::string_view text(reinterpret_cast<const char*>(out.data.data()), 40);
    EXPECT_TRUE(text.starts_with("age-encryption.org/v1\n-> scrypt ")) << text;
    EXPECT_EQ(out.data.size() - header_size(out.data), 16 + n + 16 * (n / 65536));
    DecryptOptions d;
    d.password = "correct horse";
    EXPECT_EQ(decrypt(out.data, d, 1u << 20), plain);
  }
}

// Parallel sealing: jobs of 16 chunks (1 MiB) on several workers; the
// counters and the last-chunk flag must come out as one sequential stream
// would have them, whatever the job boundaries and write sizes.
TEST_F(AgeTest, RoundTripAcrossSealingJobsOnWorkers) {
  const std::size_t job = 16 * 65536;
  auto kp = generate_key_pair();
  DecryptOptions d;
  d.identity_files = {write_file("id", kp.identity + "\n")};
  for (int threads : {1, 2, 3}) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, job - 1, job, job + 1, 2 * job, 2 * job + 65536,
                          3 * job + 5, 9 * job + 65535}) {
      for (std::size_t piece : {std::size_t{4096}, std::size_t{65536}, job, 3 * job + 1}) {
        SCOPED_TRACE(std::to_string(threads) + " threads, " + std::to_string(n) + " bytes, writes of " +
                     std::to_string(piece));
        auto plain = make_data(n, static_cast<unsigned>(n + piece));
        EncryptOptions eo;
        eo.recipients = {kp.recipient};
        eo.threads = threads;
        auto cipher = encrypt(plain, eo, piece);
        std::size_t chunks = std::max<std::size_t>(1, (n + 65535) / 65536);
        EXPECT_EQ(cipher.size() - header_size(cipher), 16 + n + 16 * chunks);
        d.threads = threads;
        EXPECT_EQ(decrypt(cipher, d, 65536 * 5 + 3), plain);
      }
    }
  }
}

TEST_F(AgeTest, RoundTripLargeX25519MultipleRecipients) {
  auto a = generate_key_pair(), b = generate_key_pair(), c = generate_key_pair();
  auto plain = make_data(5 * 1024 * 1024 + 123);
  EncryptOptions eo;
  eo.recipients = {a.recipient, b.recipient};
  auto cipher = encrypt(plain, eo, 1 << 20);
  std::string_view text(reinterpret_cast<const char*>(cipher.data()), header_size(cipher));
  EXPECT_TRUE(text.starts_with("age-encryption.org/v1\n-> X25519 "));
  for (const auto& kp : {a, b}) {
    DecryptOptions d;
    d.identity_files = {write_file("id", "# key\n" + kp.identity + "\n")};
    EXPECT_EQ(decrypt(cipher, d, 65536 * 3 + 1), plain);
  }
  DecryptOptions wrong;
  wrong.identity_files = {write_file("other", c.identity + "\n")};
  try {
    decrypt(cipher, wrong);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Crypto);
    EXPECT_STREQ(e.what(), "wrong password or not encrypted for this identity");
  }
  // Several identity files: the one that matches may come last.
  DecryptOptions many;
  many.identity_files = {write_file("o2", c.identity + "\n"), write_file("b2", b.identity + "\n")};
  EXPECT_EQ(decrypt(cipher, many), plain);
}

TEST_F(AgeTest, WrongPasswordAndMissingCredentials) {
  EncryptOptions eo;
  eo.password = "secret";
  eo.scrypt_work_factor = 10;
  auto cipher = encrypt(bytes_of("hello"), eo);
  auto kind_of = [&](const DecryptOptions& d) {
    try {
      decrypt(cipher, d);
    } catch (const Error& e) {
      return std::make_pair(e.kind(), std::string(e.what()));
    }
    return std::make_pair(ErrorKind::Usage, std::string("no error"));
  };
  DecryptOptions d;
  d.password = "Secret";
  EXPECT_EQ(kind_of(d), std::make_pair(ErrorKind::Crypto, std::string("wrong password or not encrypted for this identity")));
  EXPECT_EQ(kind_of({}).first, ErrorKind::Crypto);
  d.password = "secret";
  d.max_scrypt_work_factor = 9;
  auto [kind, what] = kind_of(d);
  EXPECT_EQ(kind, ErrorKind::Unsupported);
  EXPECT_NE(what.find("work factor 10"), std::string::npos) << what;
}

TEST_F(AgeTest, EncryptOptionErrors) {
  test::VectorSink out;
  auto kp = generate_key_pair();
  EncryptOptions both;
  both.password = "x";
  both.recipients = {kp.recipient};
  EXPECT_THROW(make_encryptor(out, both), Error);
  EXPECT_THROW(make_encryptor(out, EncryptOptions{}), Error);
  EncryptOptions bad;
  bad.recipients = {kp.recipient, "age1notarecipient"};
  try {
    make_encryptor(out, bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
  EXPECT_TRUE(out.data.empty());
}

// Every single-byte change anywhere must make decryption fail, and no
// plaintext of the damaged chunk (or after it) may come out.
TEST_F(AgeTest, TamperedBytesAlwaysFail) {
  auto kp = generate_key_pair();
  auto plain = make_data(3 * 65536 + 1000, 7);
  EncryptOptions eo;
  eo.recipients = {kp.recipient};
  auto cipher = encrypt(plain, eo);
  DecryptOptions d;
  d.identity_files = {write_file("id", kp.identity + "\n")};
  std::size_t payload = header_size(cipher) + 16;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < payload + 64; ++i) positions.push_back(i);  // every header and nonce byte
  for (std::size_t i = payload; i < cipher.size(); i += 997) positions.push_back(i);
  for (std::size_t i = cipher.size() - 40; i < cipher.size(); ++i) positions.push_back(i);
  for (std::size_t k = 1; k <= 3; ++k) positions.push_back(payload + k * 65552 - 1);  // tags of full chunks
  for (std::size_t pos : positions) {
    SCOPED_TRACE(pos);
    auto bad = cipher;
    bad[pos] ^= 0x01;
    std::vector<std::uint8_t> got;
    bool failed = false;
    try {
      test::SpanSource src(bad, 50000);
      auto dec = make_decryptor(src, d);
      std::uint8_t buf[7000];
      while (std::size_t n = dec->read(MutableBytes(buf, sizeof buf))) got.insert(got.end(), buf, buf + n);
    } catch (const Error&) {
      failed = true;
    }
    ASSERT_TRUE(failed);
    std::size_t chunk = pos < payload ? 0 : (pos - payload) / 65552;
    ASSERT_LE(got.size(), chunk * 65536);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), plain.begin()));
  }
  // Truncation at a chunk boundary and appended bytes fail too.
  for (std::size_t cut : {payload, payload + 65552, payload + 2 * 65552, cipher.size() - 1}) {
    std::vector<std::uint8_t> shorter(cipher.begin(), cipher.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(decrypt(shorter, d), Error) << cut;
  }
  // Trailing data after a full final chunk.
  auto aligned = encrypt(make_data(2 * 65536, 9), eo);
  auto longer = aligned;
  longer.push_back(0);
  try {
    decrypt(longer, d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(aligned.size()) +
                                         " (data after the final chunk)");
  }
}

// Parallel opening: jobs of 16 chunks read ahead and opened on workers must
// report damage exactly as a sequential reader, at job boundaries too, and
// release no plaintext of a damaged chunk or after it.
TEST_F(AgeTest, DamageAcrossOpeningJobsOnWorkers) {
  const std::size_t job = 16;  // chunks
  auto kp = generate_key_pair();
  EncryptOptions eo;
  eo.recipients = {kp.recipient};
  eo.threads = 2;
  auto plain = make_data(2 * job * 65536 + 1000, 11);
  auto cipher = encrypt(plain, eo, 1 << 20);
  const std::size_t payload = header_size(cipher) + 16;
  auto chunk_at = [&](std::size_t k) { return payload + k * 65552; };
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    DecryptOptions d;
    d.identity_files = {write_file("id", kp.identity + "\n")};
    d.threads = threads;
    EXPECT_EQ(decrypt(cipher, d, 65552 * 3 + 7), plain);
    for (std::size_t k : {std::size_t{0}, job - 1, job, job + 1, 2 * job - 1, 2 * job}) {
      SCOPED_TRACE(k);
      auto bad = cipher;
      bad[chunk_at(k) + 5] ^= 0x01;
      std::vector<std::uint8_t> got;
      try {
        test::SpanSource src(bad, 100000);
        auto dec = make_decryptor(src, d);
        std::uint8_t buf[9000];
        while (std::size_t n = dec->read(MutableBytes(buf, sizeof buf))) got.insert(got.end(), buf, buf + n);
        ADD_FAILURE() << "no error";
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(chunk_at(k)) +
                                             " (chunk authentication failed)");
      }
      EXPECT_EQ(got.size(), k * 65536);  // everything before the damaged chunk, nothing of it
      EXPECT_TRUE(std::equal(got.begin(), got.end(), plain.begin()));
    }
    // Cut at a job boundary: the final chunk is missing.
    for (std::size_t k : {job, 2 * job}) {
      std::vector<std::uint8_t> cut(cipher.begin(), cipher.begin() + static_cast<std::ptrdiff_t>(chunk_at(k)));
      try {
        decrypt(cut, d);
        ADD_FAILURE() << "no error at cut " << k;
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(chunk_at(k)) +
                                             " (truncated: the final chunk is missing)");
      }
    }
    // A payload of exactly one full job, then one stray byte (read as the
    // byte past the job).
    auto aligned = encrypt(make_data(job * 65536, 12), eo);
    EXPECT_EQ(decrypt(aligned, d), make_data(job * 65536, 12));
    auto longer = aligned;
    longer.push_back(0);
    try {
      decrypt(longer, d);
      ADD_FAILURE() << "no error for a stray byte";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(aligned.size()) +
                                           " (data after the final chunk)");
    }
    // Nothing after the payload nonce.
    auto empty = encrypt({}, eo);
    std::vector<std::uint8_t> headless(empty.begin(), empty.end() - 16);
    EXPECT_THROW(decrypt(headless, d), Error);
  }
}

TEST_F(AgeTest, DamageNamesTheChunkOffset) {
  EncryptOptions eo;
  eo.password = "pw";
  eo.scrypt_work_factor = 10;
  auto cipher = encrypt(make_data(2 * 65536 + 5), eo);
  std::size_t second = header_size(cipher) + 16 + 65552;
  cipher[second + 100] ^= 0x80;
  DecryptOptions d;
  d.password = "pw";
  try {
    decrypt(cipher, d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Corrupt);
    EXPECT_EQ(std::string(e.what()), "archive is damaged at byte " + std::to_string(second) +
                                         " (chunk authentication failed)");
  }
}

// The reader and writer keep the payload key in a WipedKey32 declared before
// their worker pool. A worker that starts only while its owner is being
// destroyed must still read the key, not a wiped or racing one: the owner
// below is destroyed at once and its workers start late.
TEST(AgeShutdown, KeyOutlivesWorkersThatStartLate) {
  struct Owner {
    explicit Owner(std::atomic<int>& seen_zero)
        : key(detail::Key32{1, 2, 3}),
          pool(4, 4,
               [this, &seen_zero] {
                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                 detail::Key32 copy = key.get();
                 if (copy[0] == 0) ++seen_zero;
                 return 0;
               },
               [](int&, int&) {}) {}
    detail::WipedKey32 key;
    util::OrderedPool<int, int> pool;
  };
  std::atomic<int> seen_zero{0};
  { Owner owner(seen_zero); }
  EXPECT_EQ(seen_zero.load(), 0);
}

// Destroyed right after construction, before or while their workers start,
// with and without finishing: the sanitizer runs check their shutdown.
TEST_F(AgeTest, DestroyedAsWorkersStart) {
  auto kp = generate_key_pair();
  EncryptOptions eo;
  eo.recipients = {kp.recipient};
  eo.threads = 4;
  const auto plain = make_data(100000);
  const auto cipher = encrypt(plain, eo);
  DecryptOptions d;
  d.identity_files = {write_file("id", kp.identity + "\n")};
  d.threads = 4;
  for (int i = 0; i < 20; ++i) {
    test::VectorSink out;
    make_encryptor(out, eo).reset();
    test::SpanSource src(cipher);
    make_decryptor(src, d).reset();
  }
  EXPECT_EQ(decrypt(cipher, d), plain);
}

TEST(AgeDetect, Envelopes) {
  EXPECT_EQ(detect(bytes_of("age-encryption.org/v1\n-> X25519")), Envelope::Age);
  EXPECT_EQ(detect(bytes_of("\n  -----BEGIN AGE ENCRYPTED FILE-----\n")), Envelope::AgeArmored);
  EXPECT_EQ(detect(bytes_of("\x1f\x8b\x08\x00")), Envelope::Plain);
  EXPECT_EQ(detect(bytes_of("")), Envelope::Plain);
}

// Speed of the STREAM stage alone (set BAKTHAT_PERF_ASSERT=1 to enforce
// the 1 GB/s goal; a loaded shared machine would make it flaky otherwise).
TEST(AgePerf, StreamThroughput) {
  struct NullSink : Sink {
    std::size_t n = 0;
    void write(Bytes d) override { n += d.size(); }
    void finish() override {}
  } sink;
  auto kp = generate_key_pair();
  EncryptOptions eo;
  eo.recipients = {kp.recipient};
  std::vector<std::uint8_t> block(1 << 20, 0x5a);
  const int mib = 512;
  auto enc = make_encryptor(sink, eo);
  // CPU time, not wall time: other jobs share the machine.
  std::clock_t t0 = std::clock();
  for (int i = 0; i < mib; ++i) enc->write(block);
  enc->finish();
  double s = double(std::clock() - t0) / CLOCKS_PER_SEC;
  double gbps = mib * double(1 << 20) / s / 1e9;
  std::printf("  age encrypt: %.2f GB/s (CPU time)\n", gbps);
  if (std::getenv("BAKTHAT_PERF_ASSERT")) {
    EXPECT_GE(gbps, 1.0);
  }

  // Decryption of 64 MiB (held in memory), read in 1 MiB pieces.
  test::VectorSink cipher;
  auto enc2 = make_encryptor(cipher, eo);
  for (int i = 0; i < 64; ++i) enc2->write(block);
  enc2->finish();
  auto id = ::testing::TempDir() + "/bakthat-perf.key";
  {
    std::ofstream(id) << kp.identity << "\n";
  }
  DecryptOptions dopt;
  dopt.identity_files = {id};
  test::SpanSource src(cipher.data);
  auto dec = make_decryptor(src, dopt);
  std::remove(id.c_str());
  t0 = std::clock();
  std::size_t total = 0;
  while (std::size_t n = dec->read(MutableBytes(block.data(), block.size()))) total += n;
  s = double(std::clock() - t0) / CLOCKS_PER_SEC;
  EXPECT_EQ(total, 64u << 20);
  double dgbps = double(total) / s / 1e9;
  std::printf("  age decrypt: %.2f GB/s (CPU time)\n", dgbps);
  if (std::getenv("BAKTHAT_PERF_ASSERT")) {
    EXPECT_GE(dgbps, 1.0);
  }
}

// Interop with the age CLI (the interop target of docs/formats.md §1), when
// it is installed, at the STREAM chunk boundaries, both directions, binary
// and armored.
TEST_F(AgeTest, InteropWithAgeCli) {
  if (std::system("age --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "age not installed";
  auto kp = generate_key_pair();
  auto key = write_file("key", kp.identity + "\n");
  std::string d = dir_.string();
  auto save = [&](const std::string& name, const std::vector<std::uint8_t>& v) {
    std::ofstream(d + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
  };
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
                        std::size_t{3 * 65536}, std::size_t{200000}}) {
    SCOPED_TRACE(n);
    auto plain = make_data(n, static_cast<unsigned>(n) + 11);
    EncryptOptions eo;
    eo.recipients = {kp.recipient};
    save("ours.age", encrypt(plain, eo));
    save("plain", plain);
    ASSERT_EQ(std::system(("age -d -i " + key + " " + d + "/ours.age > " + d + "/theirs.out").c_str()), 0);
    ASSERT_EQ(std::system(("cmp -s " + d + "/theirs.out " + d + "/plain").c_str()), 0);
    for (const char* flag : {"", "-a"}) {
      ASSERT_EQ(std::system(("age -e " + std::string(flag) + " -r " + kp.recipient + " -o " + d + "/theirs.age " +
                             d + "/plain")
                                .c_str()),
                0);
      std::ifstream f(d + "/theirs.age", std::ios::binary);
      std::vector<std::uint8_t> theirs((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      DecryptOptions opt;
      opt.identity_files = {key};
      EXPECT_EQ(decrypt(theirs, opt), plain) << flag;
    }
  }
}
