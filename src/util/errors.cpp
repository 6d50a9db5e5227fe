#include "bakthat/errors.hpp"

namespace bakthat {

int exit_status(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Usage: return 2;
    case ErrorKind::Config: return 3;
    case ErrorKind::NotFound: return 4;
    case ErrorKind::Crypto: return 5;
    case ErrorKind::Corrupt: return 6;
    case ErrorKind::Conflict: return 7;
    case ErrorKind::Unsafe: return 8;
    case ErrorKind::Auth: return 9;
    case ErrorKind::Storage: return 10;
    case ErrorKind::Io: return 11;
    case ErrorKind::Partial: return 12;
    case ErrorKind::Unsupported: return 13;
    case ErrorKind::Interrupted: return 130;
  }
  return 1;
}

}  // namespace bakthat
