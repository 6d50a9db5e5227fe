// The catalog file's Glacier tables (docs/formats.md §11): `inventory`
// (archive_id UNIQUE, filename), the vault destination's name -> archive id
// map, and `jobs`, its retrieval job of each name. They belong to the
// Python tool's schema, so every catalog file has them; they are apart
// from the public Catalog, which is about backups: the glacier destination
// reaches them through its own interface (storage/glacier/inventory_store.hpp,
// implemented over this class in ops).
//
// A GlacierTables is a connection of its own to the catalog file (WAL, busy
// timeout, like Catalog's), shared by the threads of a process: its calls
// are serialized.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bakthat::catalog {

class GlacierTables {
 public:
  // Opens (creating if needed) the catalog file and its tables.
  explicit GlacierTables(const std::string& path);
  ~GlacierTables();
  GlacierTables(const GlacierTables&) = delete;
  GlacierTables& operator=(const GlacierTables&) = delete;

  void put_inventory(const std::string& filename, const std::string& archive_id);
  std::optional<std::string> archive_id(const std::string& filename) const;
  void remove_inventory(const std::string& filename);
  // (filename, archive_id) of every inventory row whose filename starts with
  // prefix, in filename order.
  std::vector<std::pair<std::string, std::string>> inventory(const std::string& prefix) const;
  void put_job(const std::string& filename, const std::string& job_id);
  std::optional<std::string> job_id(const std::string& filename) const;
  void remove_job(const std::string& filename);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bakthat::catalog
