// show(), ls() and remove(): catalog and store listing and deletion.
#include <ctime>

#include "events/scope.hpp"
#include "ops/context.hpp"

namespace bakthat {

std::vector<BackupRecord> show(const ShowOptions& options) {
  ops::Context ctx(options);
  CatalogQuery q;
  q.text = options.query;
  q.tags = options.tags;
  if (!options.all_destinations) q.backend = ctx.destination();
  if (options.this_profile_only) q.backend_hash = ctx.backend_hash();
  return ctx.catalog().search(q);
}

std::vector<ObjectInfo> ls(const std::string& prefix, const Options& options) {
  ops::Context ctx(options);
  return ctx.storage().list(prefix);
}

BackupRecord remove(const std::string& name, const Options& options) {
  ops::Context ctx(options);
  events::Scope ev("delete", name, ctx.profile(), ctx.destination(), ctx.reporter());
  auto rec = ctx.catalog().latest(name, ctx.destination(), ctx.backend_hash());
  if (!rec) throw Error(ErrorKind::NotFound, "No file matched.");
  ctx.reporter().message("Deleting " + rec->stored_filename);
  try {
    ctx.storage().remove(rec->stored_filename);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound) throw;
    ctx.reporter().warning(rec->stored_filename + " was already gone from the store");
  }
  ctx.catalog().mark_deleted(rec->id);
  rec->is_deleted = true;
  rec->last_updated = std::time(nullptr);
  ops::sync_if_auto(ctx);
  return ev.done(*rec);
}

}  // namespace bakthat
