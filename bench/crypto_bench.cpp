// crypto_bench: throughput of the age encryptor alone (ChaCha20-Poly1305
// STREAM, 64 KiB chunks) on the calling thread, into a sink that discards.
//
//   crypto_bench [--mb N] [--runs R] [--write KiB]
//
// Encrypts N MiB (default 1024) of pseudo-random bytes, written in pieces of
// --write KiB (default 1024, what the compressor hands on), R times (default
// 3), and prints the median MB/s (MiB per wall second) and MB per CPU-second.
// The password uses scrypt work factor 10 so the key derivation (done once,
// before the first chunk) does not count; a backup pays it once per object.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "crypto/crypto.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  std::size_t size_mb = 1024, write_kib = 1024;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoul(argv[++i]) : 0UL; };
    if (a == "--mb") size_mb = next();
    else if (a == "--runs") runs = static_cast<int>(next());
    else if (a == "--write") write_kib = next();
    else {
      std::fprintf(stderr, "usage: crypto_bench [--mb N] [--runs R] [--write KiB]\n");
      return 2;
    }
  }
  if (size_mb == 0 || runs <= 0 || write_kib == 0) return 2;
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
