// delete_older_than() and rotate_backups(): the catalog's backups that
// retention lets go (decided by retention/retention.hpp), then their removal
// from the store and the catalog.
#include <algorithm>
#include <ctime>
#include <limits>
#include <map>

#include "events/scope.hpp"
#include "ops/context.hpp"
#include "ops/incremental.hpp"
#include "retention/retention.hpp"

namespace bakthat {

namespace {

std::int64_t now_of(const RetentionOptions& options) {
  return options.now ? options.now : static_cast<std::int64_t>(std::time(nullptr));
}

// Rotation works within Python's datetime range (years 1..9999); a catalog
// date outside it can only be a damaged row, pinned to the nearest end.
retention::Micros micros_of(std::int64_t seconds) {
  return std::clamp<std::int64_t>(seconds, -62135596800LL, 253402300799LL) * retention::kMicrosPerSecond;
}

// The matching backups of this destination and store, oldest first (equal
// dates by catalog id, so the earlier row is the one a rotation keeps).
std::vector<RetentionDecision> candidates(const std::string& name, ops::Context& ctx) {
  if (name.empty()) throw Error(ErrorKind::Usage, "a backup name is required");
  std::vector<RetentionDecision> out;
  for (auto& rec : ctx.matches_to_delete(name)) {
    RetentionDecision d;
    d.record = std::move(rec);
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const RetentionDecision& a, const RetentionDecision& b) {
    if (a.record.backup_date != b.record.backup_date) return a.record.backup_date < b.record.backup_date;
    return a.record.id < b.record.id;
  });
  return out;
}

// An incremental level needs every level below it: a kept one keeps its
// parent (which keeps its own), saying so; a chain none of whose levels is
// kept goes whole.
void keep_bases(std::vector<RetentionDecision>& decisions) {
  std::map<std::string, std::size_t> by_stored;
  for (std::size_t i = 0; i < decisions.size(); ++i) by_stored[decisions[i].record.stored_filename] = i;
  // Newest first: a parent is older than its level, so it is reached after
  // it and passes the keep on.
  for (std::size_t i = decisions.size(); i-- > 0;) {
    if (!decisions[i].keep) continue;
    auto level = ops::level_of(decisions[i].record);
    if (!level || level->parent.empty()) continue;
    auto it = by_stored.find(level->parent);
    if (it == by_stored.end()) continue;
    RetentionDecision& parent = decisions[it->second];
    parent.keep = true;
    parent.reasons.push_back("base of " + decisions[i].record.stored_filename + " (incremental level " +
                             std::to_string(level->level) + ")");
  }
}

// Deletes every decision not kept (ops::delete_backup), newest first: an
// incremental chain goes from its last level down, so that a deletion
// stopped half-way (killed, a store failing) never leaves a level whose
// base is gone. One failure does not stop the others: it lands in that
// decision's error.
void carry_out(ops::Context& ctx, std::vector<RetentionDecision>& decisions, bool dry_run) {
  if (dry_run || std::all_of(decisions.begin(), decisions.end(), [](auto& d) { return d.keep; })) return;
  // Opened once up front: a store that cannot be reached at all is one clear
  // error before anything is touched, not the same failure per backup.
  ctx.storage();
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    RetentionDecision& d = *it;
    if (d.keep) continue;
    const std::string& stored = d.record.stored_filename;
    ctx.reporter().message("Deleting " + stored);
    try {
      ops::delete_backup(ctx, d.record);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) throw;
      d.error = e.what();
    } catch (const std::exception& e) {
      d.error = e.what();
    }
    if (!d.error.empty()) ctx.reporter().warning("could not delete " + stored + ": " + d.error);
  }
}

}  // namespace

std::int64_t parse_interval(const std::string& text) { return retention::parse_interval_seconds(text); }

std::vector<RetentionDecision> delete_older_than(const std::string& name, const std::string& interval,
                                                 const RetentionOptions& options) {
  const std::int64_t seconds = parse_interval(interval);
  ops::Context ctx(options);
  events::Scope ev("delete_older_than", name, ctx.profile(), ctx.destination(), ctx.reporter());
  const std::int64_t now = now_of(options);
  const std::int64_t cutoff =
      now < std::numeric_limits<std::int64_t>::min() + seconds ? std::numeric_limits<std::int64_t>::min()
                                                               : now - seconds;
  if (seconds < 86400)
    ctx.reporter().warning(interval + " = " + retention::interval_in_words(interval) +
                           " (less than a day; months are M, days d)");
  auto decisions = candidates(name, ctx);
  for (auto& d : decisions) {
    d.keep = d.record.backup_date >= cutoff;
    if (d.keep) d.reasons.push_back("within " + interval);
  }
  if (!options.include_newest && !decisions.back().keep) {
    decisions.back().keep = true;
    decisions.back().reasons.push_back("newest");
  }
  keep_bases(decisions);
  carry_out(ctx, decisions, options.dry_run);
  if (!options.dry_run) ops::sync_if_auto(ctx);
  return ev.done(std::move(decisions));
}

std::vector<RetentionDecision> rotate_backups(const std::string& name, const RetentionOptions& options) {
  ops::Context ctx(options);
  events::Scope ev("rotate_backups", name, ctx.profile(), ctx.destination(), ctx.reporter());
  const Rotation& rotation = ctx.profile().rotation;
  if (!rotation.configured()) {
    const std::string& profile = ctx.profile().name;
    std::string where = options.config.conf_yaml ? "the profile's conf" : config_path(options.config);
    throw Error(ErrorKind::Config,
                "no rotation configured for profile '" + profile + "': run `bakthat configure_backups_rotation" +
                    (profile == "default" ? "" : " --profile " + profile) + "` or add a `rotation:` section to " +
                    where);
  }
  auto decisions = candidates(name, ctx);
  std::vector<retention::Micros> instants;
  instants.reserve(decisions.size());
  for (auto& d : decisions) instants.push_back(micros_of(d.record.backup_date));
  auto reasons = retention::rotate(instants, rotation, micros_of(now_of(options)));
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    decisions[i].keep = !reasons[i].empty();
    decisions[i].reasons = std::move(reasons[i]);
  }
  keep_bases(decisions);
  carry_out(ctx, decisions, options.dry_run);
  if (!options.dry_run) ops::sync_if_auto(ctx);
  return ev.done(std::move(decisions));
}

}  // namespace bakthat
