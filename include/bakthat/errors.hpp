// Errors raised by the bakthat library.
//
// Every failure the library reports is a bakthat::Error carrying a kind and a
// one-line message a user can act on ("S3: bucket 'x' does not exist"). The
// command line prints what() on one line and maps kind() to an exit status;
// library callers can catch the kind they care about.
#pragma once

#include <stdexcept>
#include <string>

namespace bakthat {

enum class ErrorKind {
  Usage,        // bad arguments or options
  Config,       // the configuration file or a value in it is wrong
  NotFound,     // no backup, object or file of that name
  Io,           // local file system failure
  Storage,      // a destination refused or failed a request
  Auth,         // credentials refused
  Crypto,       // wrong password / identity, or not encrypted for us
  Corrupt,      // data does not match its checksum or format
  Conflict,     // would overwrite something without --force
  Unsafe,       // an archive entry would land outside the target
  Partial,      // the operation finished but some items failed
  Unsupported,  // the destination or build cannot do this
  Interrupted,  // cancelled by a signal or the user
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Exit status the command line uses for an error of this kind.
int exit_status(ErrorKind kind) noexcept;

}  // namespace bakthat
