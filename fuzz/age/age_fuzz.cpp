// The decryptor a restore puts in front of every downloaded object
// (crypto::make_decryptor): envelope detection, the age v1 header and
// STREAM payload (binary or armored), else beefish. It holds the password
// "password" and the identity of most C2SP CCTV vectors, so those (and
// files made for it) decrypt all the way; scrypt above 2^10 is refused, so
// an input cannot make one run slow.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "crypto/crypto.hpp"
#include "fuzz_util.hpp"

namespace {

constexpr const char* kIdentity = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

struct IdentityFile {
  std::string path;
  IdentityFile() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/bakthat-fuzz-identity-XXXXXX";
    int fd = ::mkstemp(path.data());
    if (fd < 0) std::abort();
    std::string text = std::string("# fuzz\n") + kIdentity + "\n";
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::abort();
    ::close(fd);
  }
  ~IdentityFile() { std::remove(path.c_str()); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const IdentityFile identity;
  bakthat::crypto::DecryptOptions options;
  options.password = "password";
  options.identity_files = {identity.path};
  options.max_scrypt_work_factor = 10;
  bakthat::fuzz::SpanSource in({data, size});
  try {
    auto d = bakthat::crypto::make_decryptor(in, options);
    bakthat::fuzz::drain(*d);
  } catch (const std::exception&) {
  }
  return 0;
}
