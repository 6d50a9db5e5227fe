// sync_catalog() and reset_sync(): the catalog's side of the sync protocol
// (src/sync/sync_client.hpp).
#include <ctime>

#include "ops/context.hpp"
#include "sync/sync_client.hpp"

namespace bakthat {
namespace {

// The `config` table's keys: client_id and sync_ts are the Python tool's
// (the server's id for this machine, the server's mark); sync_sent_from is
// ours: the local time the last successful sync began, from which rows
// changed here are sent again. The Python tool compared its own rows'
// times with the server's mark, which a clock difference between the two
// machines turns into rows never sent.
constexpr const char* kClientId = "client_id";
constexpr const char* kServerMark = "sync_ts";
constexpr const char* kSentFrom = "sync_sent_from";

std::int64_t integer_or(const std::optional<nlohmann::json>& v, std::int64_t fallback) {
  return v && v->is_number_integer() ? v->get<std::int64_t>() : fallback;
}

// Rows of the local destination stay on their machine: no other can reach
// that store.
bool travels(const BackupRecord& r) { return r.backend != "local"; }

// The sync server to use: the caller's, else the `sync:` block's when it
// names a url; nullopt: the destination carries the catalog.
std::optional<SyncSettings> server_of(const SyncOptions& options, Reporter& reporter) {
  if (options.settings) return options.settings;
  auto s = load_sync_settings(options.config);
  if (s) report_config_warnings(reporter, s->warnings);
  if (s && !s->url.empty()) return s;
  return std::nullopt;
}

SyncReport with_destination(ops::Context& ctx, const ops::DestinationScan& scan) {
  SyncReport report = ops::sync_with_destination(ctx, scan);
  ctx.reporter().message("Synced the catalog with " + ctx.storage().location() + ": " + std::to_string(report.sent) +
                         " sent, " + std::to_string(report.received) + " received (" +
                         std::to_string(report.inserted) + " new, " + std::to_string(report.updated) + " updated, " +
                         std::to_string(report.adopted) + " adopted)");
  return report;
}

SyncReport run(Catalog& catalog, const SyncSettings& settings, Reporter& reporter, const CancelToken* cancel) {
  catalog_sync::SyncClient client(settings, ops::host_name(), cancel);
  auto id = catalog.config_value(kClientId);
  if (!id || id->is_null()) catalog.set_config_value(kClientId, client.register_client());

  const std::int64_t started = std::time(nullptr);
  nlohmann::json mark = catalog.config_value(kServerMark).value_or(nlohmann::json(0));
  if (mark.is_null()) mark = 0;
  // A catalog the Python tool synced has no sync_sent_from: its rule was the
  // server's mark.
  const std::int64_t sent_from = integer_or(catalog.config_value(kSentFrom), integer_or(mark, 0));

  std::vector<BackupRecord> changed;
  for (auto& r : catalog.changed_since(sent_from))
    if (travels(r)) changed.push_back(std::move(r));

  auto reply = client.exchange(mark, changed);

  SyncReport report;
  report.sent = changed.size();
  report.received = reply.updated.size();
  std::vector<BackupRecord> incoming;
  for (auto& row : reply.updated)
    if (travels(row)) incoming.push_back(std::move(row));
  auto merged = catalog.merge(incoming);
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (merged[i] == Catalog::Merge::Inserted) ++report.inserted;
    if (merged[i] == Catalog::Merge::Updated) ++report.updated;
    if (merged[i] == Catalog::Merge::Conflict)
      reporter.warning("not taken from the sync server: " + incoming[i].stored_filename + " (" + incoming[i].backend +
                       "), this catalog has another backup of that name");
  }
  // Marks last: a sync cut short before here is simply done again.
  catalog.set_config_value(kServerMark, reply.sync_ts);
  catalog.set_config_value(kSentFrom, started);
  reporter.message("Synced the catalog with " + settings.url + ": " + std::to_string(report.sent) + " sent, " +
                   std::to_string(report.received) + " received (" + std::to_string(report.inserted) + " new, " +
                   std::to_string(report.updated) + " updated)");
  return report;
}

}  // namespace

namespace ops {

void sync_if_auto(Context& ctx) {
  try {
    auto settings = load_sync_settings(ctx.config_source());
    if (settings) bakthat::report_config_warnings(ctx.reporter(), settings->warnings);
    if (!settings || !settings->auto_sync) return;
    if (settings->url.empty()) {
      with_destination(ctx, {});
    } else {
      run(ctx.catalog(), *settings, ctx.reporter(), ctx.cancel());
    }
  } catch (const Error& e) {
    ctx.reporter().warning(std::string("the catalog was not synced: ") + e.what());
  }
}

}  // namespace ops

SyncReport sync_catalog(const SyncOptions& options) {
  ops::Context ctx(options);
  if (auto server = server_of(options, ctx.reporter())) return run(ctx.catalog(), *server, ctx.reporter(), ctx.cancel());
  ops::DestinationScan scan;
  scan.all = options.adopt_all;
  return with_destination(ctx, scan);
}

void reset_sync(const Options& options) {
  ops::Context ctx(options);
  Catalog& catalog = ctx.catalog();
  catalog.set_config_value(ops::destination_state_key(ctx), nullptr);
  catalog.set_config_value(kClientId, nullptr);
  catalog.set_config_value(kServerMark, 0);
  catalog.set_config_value(kSentFrom, 0);
}

}  // namespace bakthat
