// Builds the Storage for a destination name from a profile, wrapped in the
// retry layer where the destination talks to a network.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bakthat/config.hpp"
#include "bakthat/storage.hpp"

namespace bakthat::storage {

// destination: "local", "s3", "glacier" or "swift". Throws Config when the
// profile lacks what the destination needs, Usage for an unknown name.
std::unique_ptr<Storage> make_storage(const Profile& profile, const std::string& destination);

// The catalog's backend_hash for this profile and destination.
std::string backend_hash(const Profile& profile, const std::string& destination);

// The destinations this profile configures: local always, s3 and swift with
// s3_bucket (swift also needs auth_url), glacier with a vault or a bucket.
std::vector<std::string> configured_destinations(const Profile& profile);

}  // namespace bakthat::storage
