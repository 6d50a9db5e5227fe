// The pure pieces of the Swift object API (docs/formats.md §6.3, §6.4): URLs,
// container listings, Static Large Object manifests and segment names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bakthat/storage.hpp"

namespace bakthat::storage::swift {

using Params = std::vector<std::pair<std::string, std::string>>;

// {storage_url}/{container}[/{object}][?query]. Names are UTF-8 and every
// byte but A-Z a-z 0-9 - _ . ~ is percent-encoded, '/' included, so that no
// client or proxy can normalize a name ("a/../b") on the way.
std::string object_url(const std::string& storage_url, const std::string& container,
                       const std::string& object, const Params& query = {});
// The path part of a URL ("http://h:1/v1/AUTH_x" -> "/v1/AUTH_x").
std::string url_path(const std::string& url);

// One page of a `?format=json` container listing. Listings hold UTC times
// without a zone, e.g. 2014-01-15T16:41:49.390270.
std::vector<ObjectInfo> parse_listing(const std::string& json_body);
std::int64_t parse_listing_time(const std::string& iso);

struct Segment {
  std::string container, name;
  std::string etag;  // MD5 hex
  std::uint64_t size = 0;
};
// The body of `PUT ...?multipart-manifest=put`.
std::string slo_manifest(const std::vector<Segment>& segments);

// Where a large object's segments go: "<container>_segments" (swiftclient's
// convention, so its tools find them), named "<object>/<upload id>/<index>"
// with an 8-digit index, so one upload's segments list in order.
std::string segment_container(const std::string& container);
std::string segment_name(const std::string& object, const std::string& upload_id, int index);

// Reads a bulk-delete reply (`DELETE ?multipart-manifest=delete`, JSON):
// "" when it succeeded, else its status and first error.
std::string bulk_delete_failure(const std::string& json_body);

// TempURL (middleware/tempurl.py): the query that lets `method` on the
// object at `path` (as in url_path) until `expires` (Unix seconds).
std::string temp_url_query(const std::string& key, const std::string& method, std::int64_t expires,
                           const std::string& path);

}  // namespace bakthat::storage::swift

namespace bakthat::storage::swift {

// Segment sizes. A manifest lists at most 1,000 segments (slo
// max_manifest_segments); each is at most 5 GiB (max_file_size), and at
// least 1 MiB for clusters older than 2015. The size doubles every 100
// segments, so a stream of unknown size still fits (up to ~100 TiB) while
// small uploads stay in small segments.
inline constexpr std::uint64_t kMiB = 1u << 20;
inline constexpr std::uint64_t kDefaultSegmentSize = 16 * kMiB;
inline constexpr std::uint64_t kMinSegmentSize = 1 * kMiB;
inline constexpr std::uint64_t kMaxSegmentSize = 5ull << 30;
inline constexpr int kMaxSegments = 1000;
inline constexpr int kSegmentsPerDoubling = 100;

// The first segment's size: `configured` (0: the default) raised so an
// object of size_hint bytes fits in kMaxSegments, within the limits.
std::uint64_t first_segment_size(std::uint64_t configured, std::optional<std::uint64_t> size_hint);
// Size of segment `index` (0-based) when the first is `first`.
std::uint64_t segment_size_for(std::uint64_t first, int index);

}  // namespace bakthat::storage::swift
