// The age v1 header (docs/formats.md §1.1-1.3): stanzas, their canonical text,
// and the strict parser. Shared by the writer and the reader so the bytes
// one writes are exactly what the other accepts.
#pragma once

#include <array>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "crypto/byte_reader.hpp"
#include "crypto/primitives.hpp"

namespace bakthat::crypto::detail {

inline constexpr std::string_view kAgeIntro = "age-encryption.org/v1\n";
inline constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";
inline constexpr std::string_view kScryptLabel = "age-encryption.org/v1/scrypt";
inline constexpr std::string_view kX25519Label = "age-encryption.org/v1/X25519";
inline constexpr std::string_view kSshEd25519Label = "age-encryption.org/v1/ssh-ed25519";
inline constexpr std::string_view kSshRsaLabel = "age-encryption.org/v1/ssh-rsa";
inline constexpr std::size_t kChunk = 64 * 1024;
inline constexpr std::size_t kSealedChunk = kChunk + ChaChaPoly::kTag;
inline constexpr std::size_t kFileKey = 16;
inline constexpr std::size_t kPayloadNonce = 16;

// Chunks are sealed and opened in jobs of kJobChunks (1 MiB of payload, so a
// job's work dwarfs handing it between threads) on at most kMaxWorkers
// threads: each does over 2 GB/s, so more would only hold more jobs in
// memory. Slots bound the jobs in flight.
inline constexpr std::size_t kJobChunks = 16;
inline constexpr int kMaxWorkers = 4;
inline int chunk_workers(int threads) { return threads < 1 ? 1 : threads > kMaxWorkers ? kMaxWorkers : threads; }
inline std::size_t job_slots(int workers) { return 2 * static_cast<std::size_t>(workers) + 2; }

// Bounds the payload sealed while a password's header is derived: enough
// for the core ROMix leaves free to go on compressing for most of the
// derivation (~80 MB at ~1 s here), not more, since held memory is fresh
// memory, dear on a VM. Measured on the project's 2-core VM
// (bench/results/2026-11-26.md, "where a password backup's extra time
// goes"; password backups of the 1 GB set against plain ones, medians of 5 interleaved rounds): 16 MiB 1.29x,
// 1.30x, 1.39x; 96 MiB 1.07x, 1.25x, 1.29x; 48 MiB 1.31x where 16 made 1.39x
// and 96 1.29x. Peak RSS 180 / 212 / 261 MB.
inline constexpr std::size_t kHeldWhileDeriving = 48u << 20;

struct Stanza {
  std::string type;
  std::vector<std::string> args;
  std::vector<std::uint8_t> body;
};

struct Header {
  std::vector<Stanza> stanzas;
  std::string mac_input;  // the header from the intro through "---"
  Key32 mac{};
};

// "-> type args...\n" then the body in 64-column lines ending with a short one.
std::string serialize_stanza(const Stanza& s);

// Reads and checks the header's syntax (not its MAC). Throws Corrupt naming
// the byte where the header goes wrong.
Header parse_header(ByteReader& in);

// The wrap key of an ssh-ed25519 stanza from `dh`, X25519 of the ephemeral
// secret and the key's Montgomery form `x25519_public` (writer) or of the
// identity's scalar and the `share` (reader): X25519 by the tweak HKDF
// derives from the key's `wire` encoding, then HKDF with salt share ||
// x25519_public. nullopt for a low-order result.
std::optional<Key32> ssh_ed25519_wrap_key(const Key32& dh, Bytes wire, Bytes share, Bytes x25519_public);

// The 12-byte STREAM nonce of chunk `counter`.
void stream_nonce(std::uint64_t counter, bool last, std::uint8_t out[12]);

using FileKey = std::array<std::uint8_t, kFileKey>;

// A header's text, intro through the MAC line, as a file starts with it.
std::string header_text(const Header& h);

}  // namespace bakthat::crypto::detail

namespace bakthat::crypto {

// crypto.hpp's SharedHeader: the file key and the header's text (a
// password's still being derived on a thread).
class SharedHeader {
 public:
  SharedHeader() = default;
  SharedHeader(const SharedHeader&) = delete;
  SharedHeader& operator=(const SharedHeader&) = delete;
  ~SharedHeader() { detail::wipe(file_key.data(), file_key.size()); }
  detail::FileKey file_key{};
  std::shared_future<std::string> header;
};

}  // namespace bakthat::crypto
