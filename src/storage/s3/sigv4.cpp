#include "storage/s3/sigv4.hpp"

#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include "bakthat/errors.hpp"
#include "util/bytes.hpp"
#include "util/time.hpp"

namespace bakthat::storage::s3 {
namespace {

std::array<std::uint8_t, 32> hmac(bakthat::Bytes key, std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len))
    throw Error(ErrorKind::Storage, "HMAC-SHA256 failed");
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces, as the canonical header rules ask.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

Params sorted_headers(const Params& headers) {
  Params out;
  for (const auto& [k, v] : headers) out.emplace_back(lower(k), canonical_value(v));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string canonical_query(const Params& query) {
  Params enc;
  for (const auto& [k, v] : query) enc.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string signed_headers(const Params& headers) {
  std::string out;
  for (const auto& [k, v] : sorted_headers(headers)) {
    if (!out.empty()) out += ';';
    out += k;
  }
  return out;
}

std::string canonical_request(const CanonicalInput& in) {
  std::string out = in.method + "\n" + in.path + "\n" + canonical_query(in.query) + "\n";
  for (const auto& [k, v] : sorted_headers(in.headers)) out += k + ":" + v + "\n";
  out += "\n" + signed_headers(in.headers) + "\n" + in.payload_hash;
  return out;
}

std::string credential_scope(std::string_view amz_date, std::string_view region,
                             std::string_view service) {
  return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" +
         std::string(service) + "/aws4_request";
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         util::sha256_hex(util::as_bytes(canonical_request));
}

std::array<std::uint8_t, 32> signing_key(std::string_view secret, std::string_view date,
                                         std::string_view region, std::string_view service) {
  std::string k0 = "AWS4" + std::string(secret);
  auto k = hmac(util::as_bytes(k0), date);
  k = hmac(k, region);
  k = hmac(k, service);
  return hmac(k, "aws4_request");
}

std::string signature(const SigningKeys& keys, std::string_view amz_date, std::string_view region,
                      std::string_view service, const CanonicalInput& in) {
  auto key = signing_key(keys.secret_key, amz_date.substr(0, 8), region, service);
  auto sts = string_to_sign(amz_date, credential_scope(amz_date, region, service),
                            canonical_request(in));
  return util::hex(hmac(key, sts));
}

std::string authorization(const SigningKeys& keys, std::string_view amz_date,
                          std::string_view region, std::string_view service,
                          const CanonicalInput& in) {
  return "AWS4-HMAC-SHA256 Credential=" + keys.access_key + "/" +
         credential_scope(amz_date, region, service) +
         ", SignedHeaders=" + signed_headers(in.headers) +
         ", Signature=" + signature(keys, amz_date, region, service, in);
}

std::string presign_query(const SigningKeys& keys, std::string_view amz_date,
                          std::string_view region, std::string_view service,
                          CanonicalInput in, std::int64_t expires_seconds) {
  in.payload_hash = kUnsignedPayload;
  in.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  in.query.emplace_back("X-Amz-Credential",
                        keys.access_key + "/" + credential_scope(amz_date, region, service));
  in.query.emplace_back("X-Amz-Date", std::string(amz_date));
  in.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  if (!keys.session_token.empty()) in.query.emplace_back("X-Amz-Security-Token", keys.session_token);
  in.query.emplace_back("X-Amz-SignedHeaders", signed_headers(in.headers));
  std::string sig = signature(keys, amz_date, region, service, in);
  return canonical_query(in.query) + "&X-Amz-Signature=" + sig;
}

std::string amz_date(std::int64_t unix_seconds) { return util::format_utc(unix_seconds, "%Y%m%dT%H%M%SZ"); }

}  // namespace bakthat::storage::s3
