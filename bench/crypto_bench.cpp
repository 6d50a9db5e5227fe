// crypto_bench: throughput of the age encryptor alone (ChaCha20-Poly1305
// STREAM, 64 KiB chunks) on the calling thread, into a sink that discards.
//
//   crypto_bench [--mb N] [--runs R] [--write KiB]
//   crypto_bench --scrypt LOG_N [--runs R]
//
// Encrypts N MiB (default 1024) of pseudo-random bytes, written in pieces of
// --write KiB (default 1024, what the compressor hands on), R times (default
// 3), and prints the median MB/s (MiB per wall second) and MB per CPU-second.
// The password uses scrypt work factor 10 so the key derivation (done once,
// before the first chunk) does not count; a backup pays it once per object.
// --scrypt times that derivation instead (N = 2^LOG_N, r = 8, p = 1, as age),
// bakthat's against OpenSSL's EVP_PBE_scrypt, alternating, R times each, and
// prints the median seconds of each.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "crypto/crypto.hpp"
#include "crypto/primitives.hpp"

using namespace bakthat;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Counts bytes and drops them: the encryptor is all that is measured.
struct DiscardSink : Sink {
  std::size_t bytes = 0;
  void write(Bytes data) override { bytes += data.size(); }
  void finish() override {}
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int scrypt_bench(int log_n, int runs) {
  const std::string password = "crypto-bench", salt = "age-encryption.org/v1/scrypt0123456789abcdef";
  const Bytes salt_bytes(reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size());
  const std::uint64_t n = std::uint64_t{1} << log_n;
  std::vector<double> ours, openssl;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    auto key = crypto::detail::scrypt(password, salt_bytes, log_n);
    ours.push_back(seconds_since(t0));
    std::uint8_t ref[32];
    t0 = Clock::now();
    if (EVP_PBE_scrypt(password.data(), password.size(), salt_bytes.data(), salt_bytes.size(), n, 8, 1,
                       2 * 1024 * n + (1u << 20), ref, sizeof ref) != 1 ||
        !std::equal(key.begin(), key.end(), ref)) {
      std::fprintf(stderr, "crypto_bench: OpenSSL's scrypt failed or disagrees\n");
      return 1;
    }
    openssl.push_back(seconds_since(t0));
    std::printf("run %d: bakthat %.3f s, OpenSSL %.3f s\n", r + 1, ours.back(), openssl.back());
  }
  std::sort(ours.begin(), ours.end());
  std::sort(openssl.begin(), openssl.end());
  std::printf("scrypt 2^%d seconds median bakthat %.3f OpenSSL %.3f\n", log_n, ours[ours.size() / 2],
              openssl[openssl.size() / 2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t size_mb = 1024, write_kib = 1024;
  int runs = 3, scrypt_log_n = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoul(argv[++i]) : 0UL; };
    if (a == "--mb") size_mb = next();
    else if (a == "--runs") runs = static_cast<int>(next());
    else if (a == "--write") write_kib = next();
    else if (a == "--scrypt") scrypt_log_n = static_cast<int>(next());
    else {
      std::fprintf(stderr, "usage: crypto_bench [--mb N] [--runs R] [--write KiB] | --scrypt LOG_N [--runs R]\n");
      return 2;
    }
  }
  if (size_mb == 0 || runs <= 0 || write_kib == 0 || scrypt_log_n < 0 || scrypt_log_n > 22) return 2;
  if (scrypt_log_n) return scrypt_bench(scrypt_log_n, runs);
  std::vector<std::uint8_t> piece(write_kib * 1024);
  std::mt19937_64 rng(7);
  for (auto& b : piece) b = static_cast<std::uint8_t>(rng());
  const std::size_t total = size_mb << 20;

  std::vector<double> wall_rates, cpu_rates;
  for (int r = 0; r < runs; ++r) {
    DiscardSink sink;
    crypto::EncryptOptions opt;
    opt.password = "crypto-bench";
    opt.scrypt_work_factor = 10;
    auto enc = crypto::make_encryptor(sink, opt);
    enc->write(Bytes(piece.data(), 1));  // header and key derivation, untimed
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    for (std::size_t done = 1; done < total;) {
      const std::size_t n = std::min(piece.size(), total - done);
      enc->write(Bytes(piece.data(), n));
      done += n;
    }
    enc->finish();
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    const double mib = static_cast<double>(total) / (1 << 20);
    wall_rates.push_back(mib / wall);
    cpu_rates.push_back(mib / cpu);
    std::printf("run %d: %.0f MB/s (%.0f MB per CPU-s), %zu bytes out\n", r + 1, mib / wall, mib / cpu, sink.bytes);
  }
  std::sort(wall_rates.begin(), wall_rates.end());
  std::sort(cpu_rates.begin(), cpu_rates.end());
  std::printf("encrypt MB/s median %.0f (MB per CPU-s %.0f)\n", wall_rates[wall_rates.size() / 2],
              cpu_rates[cpu_rates.size() / 2]);
  return 0;
}
