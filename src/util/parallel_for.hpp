// Independent jobs over an index range on a few threads: the shape of the
// concurrent GETs and removals of many small objects, whose time is the
// network's round trips, not the CPU.
#pragma once

#include <cstddef>
#include <functional>

namespace bakthat::util {

// Calls job(i) for every i in [0, count) on at most `threads` threads, the
// caller's among them, each taking the next index as it finishes one. The
// first exception a job throws stops the handing out of indices; it is
// rethrown once every job already started has returned.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& job);

}  // namespace bakthat::util
