// The glacier vault destination's InventoryStore in the catalog file: its
// `inventory` and `jobs` tables (catalog/glacier_tables.hpp) and, for
// recorded(), the backups' rows of the glacier destination.
#pragma once

#include <memory>
#include <string>

#include "storage/glacier/inventory_store.hpp"

namespace bakthat::ops {

// Opens the catalog at `catalog_path` (creating it if needed) with
// connections of its own, which the returned store keeps.
std::shared_ptr<storage::glacier::InventoryStore> catalog_inventory(const std::string& catalog_path);

}  // namespace bakthat::ops
