// make_rows_bench COUNT: stores COUNT tiny backups (bench-N.YYYYMMDDHHMMSS.tgz)
// at the default destination of ~/.bakthat.yml, each with its row entry in
// the destination's row log, written by the product's own code (RowLog), on
// 16 threads. The rows are what a backup writes, without the archive work.
//
// make_rows_bench --row-cost COUNT: writes COUNT times, one after another,
// the entries one backup writes there (its pending note and its row, with
// ops::note_pending and ops::note_row, as backup() calls them) and prints
// the mean seconds per backup: the time rows add to a backup, set against
// a backup's own time in destination-sync.py.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bakthat/bakthat.hpp"
#include "ops/context.hpp"
#include "ops/names.hpp"
#include "storage/factory.hpp"
#include "sync/row_log.hpp"
#include "util/bytes.hpp"

namespace {

int row_cost(long count) {
  using namespace bakthat;
  ops::Context ctx(Options{});
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    BackupRecord r;
    r.backend = ctx.destination();
    r.backend_hash = ctx.backend_hash();
    r.backup_date = 1600000000 + i;
    r.last_updated = r.backup_date;
    r.filename = "row-cost";
    r.stored_filename = ops::stored_name(r.filename, r.backup_date, ".tgz", false);
    r.metadata = {{"is_enc", false}, {"client", "bench"}, {"format", "tar"}};
    if (ops::note_pending(ctx, r).empty()) return 1;
    r.size = 1;
    r.metadata["sha256"] = std::string(64, '0');
    if (ops::note_row(ctx, r).empty()) return 1;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("%.4f\n", took.count() / static_cast<double>(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bakthat;
  if (argc == 3 && std::string(argv[1]) == "--row-cost") return row_cost(std::atol(argv[2]));
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_rows_bench COUNT | make_rows_bench --row-cost COUNT\n");
    return 2;
  }
  const long count = std::atol(argv[1]);
  Profile profile = load_profile({});
  const std::string destination = profile.default_destination;
  const std::string hash = storage::backend_hash(profile, destination);
  std::atomic<long> next{0};
  std::atomic<int> failures{0};
  auto work = [&] {
    auto store = storage::make_storage(profile, destination);
    auto rows = storage::make_row_storage(profile, destination);
    catalog_sync::RowLog log(*rows);
    for (long i; (i = next++) < count;) {
      try {
        BackupRecord r;
        r.backend = destination;
        r.backend_hash = hash;
        r.backup_date = 1700000000 + i;
        r.last_updated = r.backup_date;
        r.filename = "bench-" + std::to_string(i % 100);
        r.stored_filename = ops::stored_name(r.filename, r.backup_date, ".tgz", false);
        r.tags = "bench";
        const std::string body = "x";
        auto w = store->create(r.stored_filename, body.size());
        w->write(util::as_bytes(body));
        w->finish();
        r.size = static_cast<std::int64_t>(body.size());
        r.metadata = {{"is_enc", false}, {"client", "bench"}, {"format", "tar"}, {"sha256", ""}};
        log.append({false, r});
      } catch (const std::exception& e) {
        if (failures++ < 5) std::fprintf(stderr, "%s\n", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  std::printf("%ld backups with their rows, %d failures\n", count, failures.load());
  return failures ? 1 : 0;
}
