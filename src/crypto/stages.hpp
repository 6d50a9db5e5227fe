// The concrete stages behind crypto.hpp's factories; make_decryptor picks
// among the readers by what the object starts with.
#pragma once

#include <memory>
#include <string>

#include "crypto/crypto.hpp"

namespace bakthat::crypto::detail {

// The plaintext of an age v1 binary stream (docs/formats.md §1); unwraps the
// file key and checks the header MAC before returning.
std::unique_ptr<Source> make_age_reader(Source& in, const DecryptOptions& options);

// The age binary stream inside an ASCII-armored one (docs/formats.md §1.9);
// any departure from strict PEM throws Corrupt.
std::unique_ptr<Source> make_armor_reader(Source& in);

// The plaintext of a beefish (bakthat 0.6) stream; in Auto mode, throws
// Crypto when neither the ECB nor the CBC variant decrypts to gzip magic or
// to clearly structured bytes (a wrong password).
std::unique_ptr<Source> make_beefish_reader(Source& in, const std::string& password, BeefishMode mode);

}  // namespace bakthat::crypto::detail
