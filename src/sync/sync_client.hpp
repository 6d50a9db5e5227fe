// The sync server's protocol, as the Python bakthat 0.6 (BakSyncer) and its
// server (bakthat-syncserver) speak it: JSON over HTTP, basic auth, and a
// `bakthat-client` header naming the machine.
//
//   POST {url}/clients       (no body)        -> {"_id": ID, ...}
//   POST {url}/backups/sync  {"sync_ts": T, "new": [row, ...]}
//                                             -> {"updated": [row, ...], "sync_ts": T2}
//
// Rows are catalog rows as JSON (catalog.hpp's to_json). T is the server's
// opaque mark of what this machine has received; the reply carries the rows
// other machines sent since T, and the mark to send next time.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bakthat/catalog.hpp"
#include "bakthat/config.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"

namespace bakthat::catalog_sync {

class SyncClient {
 public:
  // `client_name` goes in the bakthat-client header (the host name);
  // `cancel` ends requests and waits between retries (Interrupted).
  SyncClient(SyncSettings settings, std::string client_name, const CancelToken* cancel = nullptr);

  // Registers this machine; returns the id the server gave it.
  std::string register_client();

  struct Reply {
    std::vector<BackupRecord> updated;  // ids as the server sent them
    nlohmann::json sync_ts;
  };
  // Sends the rows changed here and receives the others'. Transient
  // failures are retried; a refused password is an Auth error, a reply that
  // is not the protocol's a Corrupt one.
  Reply exchange(const nlohmann::json& sync_ts, const std::vector<BackupRecord>& changed);

 private:
  nlohmann::json post(const std::string& resource, const std::string& body);

  SyncSettings settings_;
  std::string client_name_;
  std::string authorization_;
  net::Client http_;
  net::retry::Policy policy_;
};

}  // namespace bakthat::catalog_sync
