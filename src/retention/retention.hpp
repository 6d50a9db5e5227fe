// Retention decisions, free of catalog and storage so they can be tested on
// their own: interval strings, and the grandfather-father-son rotation of the
// Python package grandfatherson 1.2+ (docs/formats.md §3), in UTC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bakthat/config.hpp"

namespace bakthat::retention {

// Instants are Unix time in microseconds (UTC): the catalog has seconds, but
// grandfatherson's own test vectors use sub-second datetimes.
using Micros = std::int64_t;
constexpr Micros kMicrosPerSecond = 1'000'000;

// Seconds of "3M2D8h20m5s": one or more <positive integer><unit>, units
// s m h D W M Y (a month is 30 days, a year 365; m is minutes, as in the
// Python tool; d, w and y, which cannot be mistaken, as D, W and Y). Throws
// Error(Usage) quoting the text for anything else (empty, zero, no unit,
// unknown unit, overflow).
std::int64_t parse_interval_seconds(const std::string& text);

// The same interval in words, for messages: "6m" -> "6 minutes",
// "1D2h" -> "1 day 2 hours". Throws as parse_interval_seconds.
std::string interval_in_words(const std::string& text);

// Why each instant is kept: one reason per unit that keeps it, e.g.
// "daily 2026-11-24", "weekly 2026-11-21", "monthly 2026-10", "yearly 2026",
// "hourly 2026-11-24 13h", "minutely 2026-11-24 13:05",
// "secondly 2026-11-24 13:05:07", or "future". Empty: delete it.
using Reasons = std::vector<std::string>;

// For each of `instants` (in any order), the reasons it is kept by rotation
// `r` at `now`, exactly as grandfatherson.to_keep(...) decides: every unit
// with a count N keeps the oldest instant of each of the last N periods of
// that unit counted back from the one holding `now` (weeks start on
// r.first_week_day, Monday = 0), instants after `now` are always kept, and
// the kept set is the union over units. grandfatherson works on a set;
// here equal instants stay distinct items and, of equal instants, only the
// first in input order can be a period's oldest (so callers order ties, e.g.
// by catalog id), while every equal future instant is kept.
// Throws Error(Usage) when a count is negative or first_week_day is not 0..6.
std::vector<Reasons> rotate(const std::vector<Micros>& instants, const Rotation& r, Micros now);

// "2026-11-24 13:05:07" (UTC), for messages.
std::string format_utc(Micros t);

}  // namespace bakthat::retention
