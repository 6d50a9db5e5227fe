// codec_bench: speed and ratio of the compression stages.
//
//   codec_bench [--file PATH] [--mb N] [--codec gzip|zstd] [--level L]
//               [--threads N] [--sweep] [--rss REPEAT] [--decode]
//               [--out PATH]
//
// Without --file it generates N MiB (default 128) mixed like the backup
// benchmark: 40% source-like text, 20% logs, 40% random bytes. Reports the
// compressor (input MB/s), the decompressor (output MB/s) and the ratio;
// --sweep instead runs every gzip engine/level on one thread over 1 MiB
// blocks, the numbers used to pick the default (see gzip_member.cpp);
// --rss compresses the input REPEAT times into a counting sink and reports
// the peak RSS beyond the input, i.e. the compressor's own memory; --decode
// only decompresses --file (e.g. a .tgz made by pigz) with --codec; --out
// saves the compressed output.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "codec/gzip_member.hpp"

using namespace bakthat;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::uint8_t> generate(std::size_t total) {
  std::mt19937_64 rng(42);
  std::vector<std::string> words;
  const char* syl[] = {"ba", "ke", "ri", "mo", "tu", "sa", "ne", "lo", "pi", "da", "str", "ch", "th"};
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) w += syl[rng() % 13];
    words.push_back(w);
  }
  // Zipf-ish pick: squaring a uniform favours the first words.
  auto word = [&] {
    double u = static_cast<double>(rng() % 1000000) / 1e6;
    return words[static_cast<std::size_t>(u * u * u * static_cast<double>(words.size()))];
  };
  std::vector<std::uint8_t> out;
  out.reserve(total);
  auto put = [&](const std::string& s) { out.insert(out.end(), s.begin(), s.end()); };
  const std::size_t text_end = total * 4 / 10, log_end = total * 6 / 10;
  while (out.size() < text_end) {  // files of 1-50 KB of code-like text
    const std::size_t file_end = out.size() + 1024 + rng() % (49 * 1024);
    while (out.size() < file_end) {
      std::string line(4 * (rng() % 4), ' ');
      line += word() + " = " + word() + "." + word() + "(" + word() + ", " +
              std::to_string(rng() % 1000) + ");\n";
      put(line);
    }
  }
  long t = 1704067200;
  while (out.size() < log_end) {
    t += static_cast<long>(rng() % 3);
    char line[256];
    std::snprintf(line, sizeof line, "2024-01-%02ld %02ld:%02ld:%02ld.%03d INFO [api] request served path=/api/v1/%s status=%d dur_ms=%d\n",
                  1 + (t / 86400) % 28, (t / 3600) % 24, (t / 60) % 60, t % 60,
                  static_cast<int>(rng() % 10) * 100, word().c_str(), rng() % 5 ? 200 : 404,
                  static_cast<int>(rng() % 40));
    put(line);
  }
  out.resize(std::max(out.size(), log_end));
  while (out.size() < total) out.push_back(static_cast<std::uint8_t>(rng()));
  out.resize(total);
  return out;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
// CPU seconds of the whole process (all threads): steadier than wall time on
// a shared machine.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
double mb(std::size_t n) { return static_cast<double>(n) / (1024.0 * 1024.0); }

struct VectorSink : Sink {
  std::vector<std::uint8_t> data;
  void write(Bytes b) override { data.insert(data.end(), b.begin(), b.end()); }
  void finish() override {}
};
struct SpanSource : Source {
  Bytes data;
  std::size_t pos = 0;
  std::size_t read(MutableBytes out) override {
    const std::size_t n = std::min(out.size(), data.size() - pos);
    std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};

void sweep(const std::vector<std::uint8_t>& input) {
  using namespace bakthat::codec::gzip;
  struct Case {
    const char* name;
    EngineChoice choice;
  };
  const Case cases[] = {
      {"isal-1", {Engine::Isal, 1}},       {"isal-2", {Engine::Isal, 2}},
      {"isal-3", {Engine::Isal, 3}},       {"libdeflate-1", {Engine::Libdeflate, 1}},
      {"libdeflate-2", {Engine::Libdeflate, 2}}, {"libdeflate-3", {Engine::Libdeflate, 3}},
      {"libdeflate-4", {Engine::Libdeflate, 4}}, {"libdeflate-5", {Engine::Libdeflate, 5}},
      {"libdeflate-6", {Engine::Libdeflate, 6}},
  };
  std::printf("%-14s %10s %8s %12s\n", "engine", "MB/s", "ratio", "out bytes");
  for (const Case& c : cases) {
    MemberCompressor mc(c.choice);
    std::vector<std::uint8_t> out;
    std::size_t total = 0;
    auto t0 = Clock::now();
    for (std::size_t pos = 0; pos < input.size(); pos += kBlockSize) {
      const std::size_t n = std::min(kBlockSize, input.size() - pos);
      total += mc.compress(Bytes(input.data() + pos, n), out);
    }
    const double s = seconds_since(t0);
    std::printf("%-14s %10.1f %8.3f %12zu\n", c.name, mb(input.size()) / s,
                static_cast<double>(input.size()) / static_cast<double>(total), total);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, codec_name = "gzip";
  std::size_t size_mb = 128;
  std::optional<int> level;
  int threads = 2;
  bool do_sweep = false;
  int rss_repeat = 0;
  bool decode_only = false;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--file") file = next();
    else if (a == "--mb") size_mb = std::stoul(next());
    else if (a == "--codec") codec_name = next();
    else if (a == "--level") level = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--sweep") do_sweep = true;
    else if (a == "--rss") rss_repeat = std::stoi(next());
    else if (a == "--decode") decode_only = true;
    else if (a == "--out") out_path = next();
    else {
      std::fprintf(stderr, "usage: codec_bench [--file PATH] [--mb N] [--codec gzip|zstd] [--level L] [--threads N] [--sweep]\n");
      return 2;
    }
  }
  std::vector<std::uint8_t> input;
  if (!file.empty()) {
    std::ifstream f(file, std::ios::binary);
    input.assign(std::istreambuf_iterator<char>(f), {});
  } else {
    input = generate(size_mb << 20);
  }
  std::printf("input %.1f MiB (%s)\n", mb(input.size()), file.empty() ? "generated mix" : file.c_str());
  if (do_sweep) {
    sweep(input);
    return 0;
  }

  codec::CompressOptions opt;
  opt.codec = codec_name == "zstd" ? codec::Codec::Zstd : codec::Codec::Gzip;
  opt.level = level;
  opt.threads = threads;
  if (decode_only) {
    SpanSource src;
    src.data = input;
    std::vector<std::uint8_t> buf(64 * 1024);
    std::size_t total = 0;
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    auto d = codec::make_decompressor(src, opt.codec, threads);
    while (std::size_t n = d->read(buf)) total += n;
    std::printf("decode: %.1f MiB out, %.1f MB/s (%.1f MB per CPU-s)\n", mb(total), mb(total) / seconds_since(t0),
                mb(total) / (cpu_seconds() - cpu0));
    return 0;
  }
  if (rss_repeat > 0) {
    struct CountingSink : Sink {
      std::size_t n = 0;
      void write(Bytes b) override { n += b.size(); }
      void finish() override {}
    } counter;
    const long before = peak_rss_kb();
    auto c = codec::make_compressor(counter, opt);
    for (int r = 0; r < rss_repeat; ++r) {
      for (std::size_t pos = 0; pos < input.size(); pos += 64 * 1024) {
        c->write(Bytes(input.data() + pos, std::min<std::size_t>(64 * 1024, input.size() - pos)));
      }
    }
    c->finish();
    std::printf("%s threads %d: peak RSS grew by %.1f MiB while compressing %.0f MiB\n", codec_name.c_str(),
                threads, static_cast<double>(peak_rss_kb() - before) / 1024.0,
                mb(input.size()) * rss_repeat);
    return 0;
  }
  VectorSink sink;
  sink.data.reserve(input.size() + input.size() / 8);
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  {
    auto c = codec::make_compressor(sink, opt);
    for (std::size_t pos = 0; pos < input.size(); pos += 64 * 1024) {
      c->write(Bytes(input.data() + pos, std::min<std::size_t>(64 * 1024, input.size() - pos)));
    }
    c->finish();
  }
  const double cs = seconds_since(t0), ccpu = cpu_seconds() - cpu0;
  if (!out_path.empty()) {
    std::ofstream(out_path, std::ios::binary)
        .write(reinterpret_cast<const char*>(sink.data.data()), static_cast<std::streamsize>(sink.data.size()));
  }

  SpanSource src;
  src.data = sink.data;
  std::vector<std::uint8_t> buf(64 * 1024);
  std::size_t total = 0;
  bool same = true;
  cpu0 = cpu_seconds();
  t0 = Clock::now();
  {
    auto d = codec::make_decompressor(src, opt.codec, threads);
    while (std::size_t n = d->read(buf)) {
      same = same && total + n <= input.size() && std::memcmp(buf.data(), input.data() + total, n) == 0;
      total += n;
    }
  }
  const double ds = seconds_since(t0), dcpu = cpu_seconds() - cpu0;
  same = same && total == input.size();
  std::printf("%s level %s threads %d: compress %.1f MB/s (%.1f MB per CPU-s), decompress %.1f MB/s "
              "(%.1f MB per CPU-s), ratio %.3f, out %zu bytes, %s\n",
              codec_name.c_str(), level ? std::to_string(*level).c_str() : "default", threads,
              mb(input.size()) / cs, mb(input.size()) / ccpu, mb(input.size()) / ds, mb(input.size()) / dcpu,
              static_cast<double>(input.size()) / static_cast<double>(sink.data.size()),
              sink.data.size(), same ? "round trip OK" : "ROUND TRIP MISMATCH");
  return same ? 0 : 1;
}
