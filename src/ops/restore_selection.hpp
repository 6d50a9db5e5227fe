// Restoring part of a tar backup, listing it, and writing it as a tar
// stream, by its index (backup_index.hpp) and ranged reads of its object.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bakthat/bakthat.hpp"
#include "crypto/crypto.hpp"
#include "ops/backup_index.hpp"
#include "ops/context.hpp"
#include "ops/names.hpp"

namespace bakthat::ops {

// The record `name` picks, how its bytes are wrapped, and how to decrypt
// them (asking for the password now, before any download). `one_file`:
// refuse a backup of several files (restore --stdout).
struct Located {
  BackupRecord record;
  NameInfo info;
  std::optional<crypto::DecryptOptions> decrypt;
};
Located locate(Context& ctx, const std::string& name, const Options& options, bool one_file = false);

// Decryption with `password` and the identities `options` and the profile
// name.
crypto::DecryptOptions decrypt_options(const Context& ctx, const Options& options,
                                       const std::optional<std::string>& password);

// The index of a located tar backup: its stored index, checked against the
// row's index_sha256 before a byte of it is used (Corrupt when it differs),
// or, for a backup without one, made by reading the whole archive.
BackupIndex load_index(Context& ctx, const Located& found);

// Makes the index of a located tar backup that has none (an older one, the
// Python tool's, an adopted object) by reading it whole once, stores it
// (encrypted to what opens the backup: with its age header when it is
// binary age) and records its sha256 in the row, here and at the
// destination. A backup whose index is in place is left as it is.
void index_backup(Context& ctx, Located& found);

// An entry's path as a selection names it: without a leading "./" or "/"
// and a trailing "/".
std::string normalized_path(std::string path);

// Throws Corrupt: "the backup's index does not match its archive: WHAT".
[[noreturn]] void index_mismatch(const std::string& what);

// Whether RestoreOptions select part of a backup (paths, include, exclude).
bool selects_part(const RestoreOptions& options);

// Restores the entries `options` select into target_dir (which exists), or,
// with as_tar, writes them as a tar stream to options.out, fetching only
// their bytes where the backup allows (a gzip or plain tar with an index,
// encrypted or not: only the age chunks holding them are fetched and
// opened, docs/formats.md §13).
RestoreResult restore_selection(Context& ctx, const Located& found, const RestoreOptions& options,
                                const std::string& target_dir);

// Bytes [begin, end) of the uncompressed tar stream of a located backup,
// fetched as restore_selection fetches them (only the members holding
// them, where the backup allows). Throws Corrupt when the archive ends
// before `end`. `store`, `found` and `index` must outlive it.
std::unique_ptr<Source> open_tar_range(Storage& store, const Located& found, const BackupIndex& index,
                                       std::uint64_t begin, std::uint64_t end, const CancelToken* cancel);

}  // namespace bakthat::ops
