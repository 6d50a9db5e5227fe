// Internal glue between libarchive's C API and bakthat: owning handles, a
// UTF-8 locale scope, and the error state shared by client callbacks.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <exception>
#include <memory>
#include <string>

#include "bakthat/errors.hpp"

namespace bakthat::archive::detail {

struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

// An archive handle that knows whether it reads or writes, so one deleter
// can free it.
struct ArchiveHandle {
  struct archive* a = nullptr;
  bool reader = false;
  ArchiveHandle(struct archive* handle, bool is_reader) : a(handle), reader(is_reader) {}
  ArchiveHandle(const ArchiveHandle&) = delete;
  ArchiveHandle& operator=(const ArchiveHandle&) = delete;
  ~ArchiveHandle();
  struct archive* get() const { return a; }
};

// libarchive converts names between the locale's charset and the UTF-8 that
// pax headers hold; in the "C" locale every non-ASCII name would be stored as
// raw bytes flagged hdrcharset=BINARY. This scope switches only the calling
// thread to C.UTF-8 (uselocale), leaving the process locale alone.
class Utf8LocaleScope {
 public:
  Utf8LocaleScope();
  ~Utf8LocaleScope();
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

 private:
  locale_t previous_ = nullptr;
  bool active_ = false;
};

// Exceptions must not unwind through libarchive's C frames: a client
// callback catches into this, returns failure, and the C++ side rethrows the
// original error (keeping its kind) once libarchive has returned.
struct CallbackState {
  std::exception_ptr error;
  void rethrow_if_any() {
    if (error) {
      auto e = error;
      error = nullptr;
      std::rethrow_exception(e);
    }
  }
};

// The libarchive error message of a, or fallback when there is none.
std::string error_of(struct archive* a, const char* fallback);

}  // namespace bakthat::archive::detail
