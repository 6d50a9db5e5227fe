// Every age test vector of the C2SP CCTV suite (tests/data/age-cctv): a
// "success" file must decrypt to its payload hash, every other one must fail.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "bakthat/errors.hpp"
#include "crypto/crypto.hpp"
#include "test_streams.hpp"
#include "util/bytes.hpp"

namespace fs = std::filesystem;
using namespace bakthat;

namespace {

struct Vector {
  std::string name, expect, payload;
  std::vector<std::string> identities, passphrases;
  bool compressed = false;
  std::vector<std::uint8_t> body;
};

std::vector<std::uint8_t> inflate_all(const std::vector<std::uint8_t>& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit(&z), Z_OK);
  std::vector<std::uint8_t> out;
  std::uint8_t buf[65536];
  z.next_in = const_cast<std::uint8_t*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << rc;
    out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
  } while (rc == Z_OK);
  inflateEnd(&z);
  return out;
}

Vector load(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Vector v;
  v.name = p.filename().string();
  std::size_t pos = 0;
  for (;;) {
    auto nl = all.find('\n', pos);
    std::string line = all.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) break;
    auto colon = line.find(": ");
    std::string k = line.substr(0, colon), val = line.substr(colon + 2);
    if (k == "expect") v.expect = val;
    if (k == "payload") v.payload = val;
    if (k == "identity") v.identities.push_back(val);
    if (k == "passphrase") v.passphrases.push_back(val);
    if (k == "compressed") v.compressed = val == "zlib";
  }
  v.body.assign(all.begin() + static_cast<std::ptrdiff_t>(pos), all.end());
  if (v.compressed) v.body = inflate_all(v.body);
  return v;
}

// Post-quantum (ML-KEM-768 + X25519) stanzas came with age 1.3; OpenSSL 3.0
// has no ML-KEM, so these are refused as unsupported identities.
const std::set<std::string> kNeedsPostQuantum = {"hybrid", "hybrid_and_x25519", "hybrid_grease",
                                                 "hybrid_multiple_recipients", "armor_hybrid"};

}  // namespace

TEST(AgeCctv, EveryVector) {
  fs::path dir = fs::path(BAKTHAT_SOURCE_DIR) / "tests" / "data" / "age-cctv";
  fs::path keyfile = fs::temp_directory_path() / ("bakthat-cctv-" + std::to_string(::getpid()) + ".key");
  int count = 0;
  std::map<std::string, int> outcomes;
  // Once with one worker opening the chunks, once with three: every verdict
  // must be the same.
  for (int threads : {1, 3})
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() == "README.md") continue;
    Vector v = load(entry.path());
    SCOPED_TRACE(v.name + ", " + std::to_string(threads) + " threads");
    ++count;
    crypto::DecryptOptions opt;
    opt.threads = threads;
    if (!v.passphrases.empty()) opt.password = v.passphrases[0];
    if (!v.identities.empty()) {
      std::ofstream k(keyfile, std::ios::trunc);
      ::chmod(keyfile.c_str(), 0600);
      k << "# test identities\n\n";
      for (const auto& i : v.identities) k << i << "\n";
      k.close();
      opt.identity_files.push_back(keyfile.string());
    }
    test::SpanSource src(v.body);
    std::optional<Error> err;
    std::vector<std::uint8_t> plain;
    try {
      auto d = crypto::make_decryptor(src, opt);
      plain = test::drain(*d);
    } catch (const Error& e) {
      err = e;
    }
    if (kNeedsPostQuantum.count(v.name)) {
      ASSERT_TRUE(err.has_value());
      EXPECT_EQ(err->kind(), ErrorKind::Unsupported) << err->what();
      outcomes["unsupported (post-quantum)"]++;
      continue;
    }
    if (v.expect == "success") {
      ASSERT_FALSE(err.has_value()) << err->what();
      EXPECT_EQ(util::sha256_hex(plain), v.payload);
    } else {
      ASSERT_TRUE(err.has_value()) << "decrypted although expecting " << v.expect;
      std::string what = err->what();
      if (v.name.starts_with("hybrid") || v.name == "armor_garbage_leading") {
        // Any failure: refused post-quantum identity, or not recognisably age.
      } else if (v.expect == "no match") {
        EXPECT_EQ(err->kind(), ErrorKind::Crypto) << what;
      } else if (v.name == "scrypt_work_factor_23" || v.name == "scrypt_work_factor_overflow") {
        EXPECT_EQ(err->kind(), ErrorKind::Unsupported) << what;
      } else {
        EXPECT_EQ(err->kind(), ErrorKind::Corrupt) << what;
        if (v.expect == "payload failure") {
          EXPECT_NE(what.find("damaged at byte"), std::string::npos) << what;
        }
        if (v.expect == "armor failure") {
          EXPECT_NE(what.find("armor"), std::string::npos) << what;
        }
      }
    }
    outcomes[v.expect]++;
  }
  fs::remove(keyfile);
  EXPECT_EQ(count, 2 * 143);
  for (const auto& [k, n] : outcomes) std::printf("  %-28s %d\n", k.c_str(), n);
}
