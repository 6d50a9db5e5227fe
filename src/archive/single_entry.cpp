#include "archive/single_entry.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

#include "bakthat/errors.hpp"

namespace bakthat::archive {
namespace {

struct ReadState {
  Source* in;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(1 << 20);
};

la_ssize_t read_cb(struct archive*, void* data, const void** out) {
  auto* s = static_cast<ReadState*>(data);
  std::size_t n = s->in->read(s->buf);
  *out = s->buf.data();
  return static_cast<la_ssize_t>(n);
}

}  // namespace

void extract_single_to(Source& in, Sink& out) {
  ReadState state{&in};
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_all(a.get());
  archive_read_support_filter_none(a.get());
  if (archive_read_open(a.get(), &state, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    throw Error(ErrorKind::Corrupt, std::string("not a tar archive: ") + archive_error_string(a.get()));
  int files = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) throw Error(ErrorKind::Corrupt, std::string("damaged archive: ") + archive_error_string(a.get()));
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    if (++files > 1) throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file");
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(a.get(), &block, &size, &offset)) == ARCHIVE_OK)
      out.write(Bytes(static_cast<const std::uint8_t*>(block), size));
    if (r != ARCHIVE_EOF) throw Error(ErrorKind::Corrupt, std::string("damaged archive: ") + archive_error_string(a.get()));
  }
  if (files == 0) throw Error(ErrorKind::Usage, "--stdout needs a backup of a single file");
  while (in.read(state.buf) > 0) {}
}

}  // namespace bakthat::archive
