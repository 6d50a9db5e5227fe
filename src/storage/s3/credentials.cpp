#include "storage/s3/credentials.hpp"

#include <cstdlib>
#include <fstream>

#include "bakthat/errors.hpp"

namespace bakthat::storage::s3 {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

SigningKeys read_credentials_file(const std::string& path, const std::string& section) {
  SigningKeys keys;
  std::ifstream in(path);
  if (!in) return keys;
  std::string line, current;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = trim(line.substr(1, line.size() - 2));
      continue;
    }
    if (current != section) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") keys.access_key = v;
    else if (k == "aws_secret_access_key") keys.secret_key = v;
    else if (k == "aws_session_token") keys.session_token = v;
  }
  return keys;
}

std::optional<SigningKeys> find_credentials(const Profile& profile) {
  if (!profile.access_key.empty() && !profile.secret_key.empty())
    return SigningKeys{profile.access_key, profile.secret_key, profile.session_token};
  if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty())
    return SigningKeys{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  std::string path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty() && !env("HOME").empty()) path = env("HOME") + "/.aws/credentials";
  std::string section = env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  if (!path.empty()) {
    auto keys = read_credentials_file(path, section);
    if (!keys.access_key.empty() && !keys.secret_key.empty()) return keys;
  }
  return std::nullopt;
}

SigningKeys resolve_credentials(const Profile& profile) {
  if (auto keys = find_credentials(profile)) return *keys;
  throw Error(ErrorKind::Config,
              "S3: no credentials (set access_key and secret_key in the profile, "
              "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)");
}

std::string resolve_endpoint(const Profile& profile) {
  if (!profile.s3_endpoint.empty()) return profile.s3_endpoint;
  if (!env("AWS_ENDPOINT_URL_S3").empty()) return env("AWS_ENDPOINT_URL_S3");
  return env("AWS_ENDPOINT_URL");
}

}  // namespace bakthat::storage::s3
