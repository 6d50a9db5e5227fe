// Where the S3 destination's credentials and endpoint come from: the
// profile first, then the AWS environment variables, then the AWS shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
// section AWS_PROFILE or "default").
#pragma once

#include <optional>
#include <string>

#include "bakthat/config.hpp"
#include "storage/s3/sigv4.hpp"

namespace bakthat::storage::s3 {

// The keys requests are signed with, in that order; nullopt when no access
// key / secret key pair can be found. The one copy of the chain: signing and
// the catalog's backend_hash both use it.
std::optional<SigningKeys> find_credentials(const Profile& profile);

// find_credentials, throwing Config when it finds none.
SigningKeys resolve_credentials(const Profile& profile);

// The keys of one section of an AWS credentials file (INI); empty when the
// file or section does not exist.
SigningKeys read_credentials_file(const std::string& path, const std::string& section);

// s3_endpoint, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else "" (AWS).
std::string resolve_endpoint(const Profile& profile);

}  // namespace bakthat::storage::s3
