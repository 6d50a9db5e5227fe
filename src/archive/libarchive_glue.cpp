#include "archive/libarchive_glue.hpp"

namespace bakthat::archive::detail {

ArchiveHandle::~ArchiveHandle() {
  if (a == nullptr) return;
  if (reader) {
    archive_read_free(a);
  } else {
    archive_write_free(a);
  }
}

namespace {
locale_t utf8_locale() {
  // Created once and kept for the process: newlocale is not cheap, and a
  // locale_t in use by a thread must outlive that use.
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (l == static_cast<locale_t>(nullptr)) {
      l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", static_cast<locale_t>(nullptr));
    }
    return l;
  }();
  return loc;
}
}  // namespace

Utf8LocaleScope::Utf8LocaleScope() {
  locale_t loc = utf8_locale();
  if (loc != static_cast<locale_t>(nullptr)) {
    previous_ = uselocale(loc);
    active_ = true;
  }
}

Utf8LocaleScope::~Utf8LocaleScope() {
  if (active_) uselocale(previous_);
}

std::string error_of(struct archive* a, const char* fallback) {
  const char* msg = archive_error_string(a);
  return (msg != nullptr && *msg != '\0') ? std::string(msg) : std::string(fallback);
}

}  // namespace bakthat::archive::detail
