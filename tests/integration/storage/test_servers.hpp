// Helpers shared by the storage integration tests: the loopback servers'
// settings, test data, whole-object put/get, and the fault-injecting proxy.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bakthat/storage.hpp"

extern char** environ;

namespace bakthat::test {

// The settings tests/servers/up.sh wrote (starting the servers if needed).
inline std::map<std::string, std::string> servers() {
  const char* e = std::getenv("BAKTHAT_SERVERS_ENV");
  std::string path = e ? e : "/tmp/bakthat-servers.env";
  if (!std::ifstream(path)) {
    std::string cmd = std::string(BAKTHAT_SOURCE_DIR) + "/tests/servers/up.sh";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot start the test servers");
  }
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

inline std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; i += 8) {
    auto x = rng();
    for (std::size_t j = 0; j < 8 && i + j < n; ++j) v[i + j] = static_cast<std::uint8_t>(x >> (8 * j));
  }
  return v;
}

// Writes data in uneven slices, as a pipeline would.
inline StoredObject put(Storage& st, const std::string& name, const std::vector<std::uint8_t>& data) {
  auto w = st.create(name, std::nullopt);
  Bytes rest(data);
  std::size_t step = 1;
  while (!rest.empty()) {
    auto n = std::min(rest.size(), step);
    w->write(rest.first(n));
    rest = rest.subspan(n);
    step = step * 3 + 7;
    if (step > (3u << 20)) step = 1000;
  }
  w->finish();
  EXPECT_EQ(w->stored().size, data.size());
  return w->stored();
}

inline std::vector<std::uint8_t> get(Storage& st, const std::string& name) {
  auto src = st.open(name);
  std::vector<std::uint8_t> out, buf(77777);
  while (std::size_t n = src->read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

// Reads (then removes) faultproxy's --stats file: every kind of fault
// must have happened at least once.
inline void expect_every_fault(const std::string& stats) {
  std::string counts;
  std::getline(std::ifstream(stats), counts);
  counts = " " + counts;
  std::remove(stats.c_str());
  for (const char* kind : {" drop=", " drop_body=", " fail=", " stall="}) {
    auto at = counts.find(kind);
    ASSERT_NE(at, std::string::npos) << counts;
    EXPECT_GT(std::atoi(counts.c_str() + at + std::string(kind).size()), 0) << counts;
  }
}

// tests/e2e/faultproxy.py as a child process in front of `target`
// ("host:port"), with faultproxy's options `args`; stopped on destruction.
class Proxy {
 public:
  Proxy(const std::string& target, std::vector<std::string> args) {
    std::vector<std::string> argv = {"python3", std::string(BAKTHAT_SOURCE_DIR) + "/tests/e2e/faultproxy.py",
                                     "--target", target};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawnp(&pid_, "python3", &fa, nullptr, cargv.data(), environ) != 0)
      throw std::runtime_error("cannot start faultproxy.py");
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[64] = {0};
    if (!fgets(line, sizeof line, out)) throw std::runtime_error("faultproxy.py said nothing");
    fclose(out);
    port_ = std::atoi(line + 5);
  }
  ~Proxy() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
};

}  // namespace bakthat::test
