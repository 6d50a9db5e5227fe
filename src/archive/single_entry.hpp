// The content of a one-file tar archive as a plain stream (restore --stdout
// of a file backup).
#pragma once

#include "bakthat/stream.hpp"

namespace bakthat::archive {

// Writes the content of the first regular file in the tar stream `in` to
// out (without finishing out), then reads `in` to its end. Throws Usage when
// the archive holds more than one file or none.
void extract_single_to(Source& in, Sink& out);

}  // namespace bakthat::archive
