#pragma once

#include <deque>
#include <future>

namespace bakthat::storage::transfer {

// Waits for every future, keeping none of their errors: used when a
// transfer is already failing or being abandoned.
template <class T>
void drain(std::deque<std::future<T>>& futures) {
  for (auto& f : futures) {
    try {
      if (f.valid()) f.get();
    } catch (...) {
    }
  }
  futures.clear();
}

}  // namespace bakthat::storage::transfer
