// show(), periodic_backups(), ls(), location() and remove(): catalog and
// store listing and deletion.
#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "events/scope.hpp"
#include "ops/context.hpp"
#include "ops/incremental.hpp"
#include "storage/factory.hpp"

namespace bakthat {

std::vector<BackupRecord> show(const ShowOptions& options) {
  ops::Context ctx(options);
  CatalogQuery q;
  q.text = options.query;
  q.tags = options.tags;
  if (!options.all_destinations) q.backend = ctx.destination();
  if (options.this_profile_only) {
    // The rows of every store the profile reaches (its bucket, vault, Swift
    // container and local store; the Python bakthat matched its S3 and
    // Glacier hashes), not only those of its default destination.
    std::set<std::string> hashes;
    auto destinations = storage::configured_destinations(ctx.profile());
    destinations.push_back(ctx.destination());
    for (const auto& d : destinations)
      for (auto& h : storage::lookup_hashes(ctx.profile(), d)) hashes.insert(std::move(h));
    q.backend_hashes.assign(hashes.begin(), hashes.end());
  }
  auto rows = ctx.catalog().search(q);
  // A new machine: the backups are at the destination, not yet here.
  if (rows.empty() && q.text.empty() && q.tags.empty() && ctx.destination() != "local")
    ctx.reporter().message("No backups in this machine's catalog: `bakthat sync` takes in the rows kept at the " +
                           ctx.destination() + " destination");
  return rows;
}

std::vector<PeriodicBackups> periodic_backups(const ShowOptions& options, std::int64_t now) {
  if (now == 0) now = std::time(nullptr);
  std::map<std::string, std::vector<BackupRecord>> by_key;
  for (auto& r : show(options)) {
    auto key = r.metadata.find("periodic_key");
    if (key != r.metadata.end() && key->is_string()) by_key[key->get<std::string>()].push_back(std::move(r));
  }
  std::vector<PeriodicBackups> out;
  for (auto& [key, rows] : by_key) {
    PeriodicBackups p;
    p.key = key;
    p.count = rows.size();
    std::vector<std::int64_t> dates;
    for (const auto& r : rows) {
      p.total_size += r.size;
      dates.push_back(r.backup_date);
    }
    std::sort(dates.begin(), dates.end());
    p.latest = dates.back();
    if (dates.size() > 1) {
      std::vector<std::int64_t> gaps;
      for (std::size_t i = 1; i < dates.size(); ++i) gaps.push_back(dates[i] - dates[i - 1]);
      std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
      p.interval = gaps[gaps.size() / 2];
      p.late = p.interval > 0 && now - p.latest > p.interval + p.interval / 2;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<ObjectInfo> ls(const std::string& prefix, const Options& options) {
  ops::Context ctx(options);
  auto out = ctx.storage().list(prefix);
  std::erase_if(out, [](const ObjectInfo& o) { return storage::is_reserved(o.name); });
  return out;
}

std::string location(const Options& options) {
  ops::Context ctx(options);
  return ctx.storage().location();
}

BackupRecord remove(const std::string& name, const Options& options) {
  ops::Context ctx(options);
  events::Scope ev("delete", name, ctx.profile(), ctx.destination(), ctx.reporter());
  BackupRecord rec = ctx.matches_to_delete(name).front();
  if (auto needing = ops::dependent_of(ctx, rec)) {
    throw Error(ErrorKind::Usage, "not deleting " + rec.stored_filename + ": the incremental level " +
                                      needing->stored_filename + " is built on it (delete that first, or let "
                                      "delete_older_than / rotate_backups remove the whole chain)");
  }
  ctx.reporter().message("Deleting " + rec.stored_filename);
  ops::delete_backup(ctx, rec);
  ops::sync_if_auto(ctx);
  return ev.done(rec);
}

}  // namespace bakthat
