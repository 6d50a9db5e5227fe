#include "sync/sync_client.hpp"

#include "bakthat/errors.hpp"
#include "crypto/primitives.hpp"
#include "net/send.hpp"
#include "util/bytes.hpp"
#include "util/json_depth.hpp"

namespace bakthat::catalog_sync {

using nlohmann::json;
namespace retry = net::retry;

SyncClient::SyncClient(SyncSettings settings, std::string client_name, const CancelToken* cancel)
    : settings_(std::move(settings)),
      client_name_(std::move(client_name)),
      http_(net::default_options("sync server", cancel)),
      policy_(retry::default_policy(cancel)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
  const std::string pair = settings_.username + ":" + settings_.password;
  authorization_ = "Basic " + crypto::detail::base64_padded_encode(util::as_bytes(pair));
}

json SyncClient::post(const std::string& resource, const std::string& body) {
  net::Request req;
  req.method = "POST";
  req.url = settings_.url + "/" + resource;
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json"},
                 {"bakthat-client", client_name_},
                 {"Authorization", authorization_}};
  req.body = util::as_bytes(body);
  req.send_body = true;
  const std::string where = "sync server " + settings_.url + ": POST /" + resource;
  auto judge = [&](const net::Response& r) -> retry::Failure {
    const std::string tag = " (" + std::to_string(r.status) + ")";
    if (r.status >= 500 || r.status == 429 || r.status == 408)
      return {ErrorKind::Storage, where + " failed, server busy or failing" + tag, true};
    if (r.status == 401 || r.status == 403)
      return {ErrorKind::Auth, "sync server " + settings_.url + " refused username '" + settings_.username +
                                   "' and its password" + tag, false};
    std::string detail = net::error_gist(r.body);
    return {ErrorKind::Storage, where + " failed" + (detail.empty() ? "" : ": " + detail) + tag, false};
  };
  net::Response resp = retry::run(policy_, [&] { return net::accept_or_raise(http_.perform(req), {}, judge); });
  json reply = json::parse(resp.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object())
    throw Error(ErrorKind::Corrupt, where + ": the reply is not a JSON object");
  if (util::json_too_deep(reply))
    throw Error(ErrorKind::Corrupt, where + ": the reply nests deeper than " + std::to_string(util::kMaxJsonDepth) +
                                        " levels");
  return reply;
}

std::string SyncClient::register_client() {
  json reply = post("clients", "");
  auto id = reply.find("_id");
  if (id == reply.end() || !(id->is_string() || id->is_number()))
    throw Error(ErrorKind::Corrupt, "sync server " + settings_.url + ": the registration reply has no _id");
  return id->is_string() ? id->get<std::string>() : id->dump();
}

SyncClient::Reply SyncClient::exchange(const json& sync_ts, const std::vector<BackupRecord>& changed) {
  json body = {{"sync_ts", sync_ts}, {"new", changed}};
  json reply = post("backups/sync", body.dump(-1, ' ', true, json::error_handler_t::replace));
  Reply out;
  out.sync_ts = reply.value("sync_ts", json());
  if (out.sync_ts.is_null())
    throw Error(ErrorKind::Corrupt, "sync server " + settings_.url + ": the reply has no sync_ts");
  auto updated = reply.find("updated");
  if (updated != reply.end() && !updated->is_null()) {
    if (!updated->is_array())
      throw Error(ErrorKind::Corrupt, "sync server " + settings_.url + ": 'updated' is not a list");
    try {
      for (const auto& row : *updated) out.updated.push_back(row.get<BackupRecord>());
    } catch (const Error& e) {
      throw Error(ErrorKind::Corrupt, "sync server " + settings_.url + ": " + e.what());
    }
  }
  return out;
}

}  // namespace bakthat::catalog_sync
