#include "ops/glacier_inventory.hpp"

#include <algorithm>

#include "bakthat/catalog.hpp"
#include "catalog/glacier_tables.hpp"

namespace bakthat::ops {
namespace {

class CatalogInventory : public storage::glacier::InventoryStore {
 public:
  explicit CatalogInventory(const std::string& path) : backups_(path), tables_(path) {}

  std::optional<std::string> archive_id(const std::string& name) override { return tables_.archive_id(name); }
  void put_archive(const std::string& name, const std::string& archive_id) override {
    tables_.put_inventory(name, archive_id);
  }
  void remove_archive(const std::string& name) override { tables_.remove_inventory(name); }
  std::vector<std::pair<std::string, std::string>> archives(const std::string& prefix) override {
    return tables_.inventory(prefix);
  }
  std::optional<std::string> job_id(const std::string& name) override { return tables_.job_id(name); }
  void put_job(const std::string& name, const std::string& job_id) override { tables_.put_job(name, job_id); }
  void remove_job(const std::string& name) override { tables_.remove_job(name); }

  std::optional<Recorded> recorded(const std::string& name) override {
    auto row = backups_.by_stored_filename(name);
    if (!row) return std::nullopt;
    Recorded out;
    out.size = static_cast<std::uint64_t>(std::max<std::int64_t>(row->size, 0));
    out.modified = row->backup_date;
    auto id = row->metadata.find("provider_id");
    if (!row->is_deleted && row->backend == "glacier" && id != row->metadata.end() && id->is_string())
      out.archive_id = id->get<std::string>();
    return out;
  }

 private:
  Catalog backups_;
  catalog::GlacierTables tables_;
};

}  // namespace

std::shared_ptr<storage::glacier::InventoryStore> catalog_inventory(const std::string& catalog_path) {
  return std::make_shared<CatalogInventory>(catalog_path);
}

}  // namespace bakthat::ops
