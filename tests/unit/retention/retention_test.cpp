// Retention: interval strings, grandfatherson's worked examples
// (docs/formats.md §3.4, verified against grandfatherson 1.3), and a
// property test against an independent reference that numbers periods
// instead of masking dates.
#include "retention/retention.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bakthat/errors.hpp"

namespace bakthat::retention {
namespace {

// ---- an independent civil calendar (Hinnant's days_from_civil /
// civil_from_days), so the reference shares no date code with retention.cpp.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil { std::int64_t y; unsigned m, d; };
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

std::int64_t fdiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Micros at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int us = 0) {
  return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * kMicrosPerSecond) + us;
}
// grandfatherson turns a `date` now into that day's last microsecond.
Micros end_of(int y, unsigned mo, unsigned d) { return at(y, mo, d, 23, 59, 59, 999999); }

// ---- the reference: a unit with count N keeps t when t <= now, its period
// index is one of the N indexes ending at now's, and no smaller input shares
// its index. Inputs must be distinct.
std::int64_t period(int unit, Micros t, int fwd) {
  std::int64_t day = fdiv(t, 86400 * kMicrosPerSecond);
  switch (unit) {
    case 0: return fdiv(t, kMicrosPerSecond);
    case 1: return fdiv(t, 60 * kMicrosPerSecond);
    case 2: return fdiv(t, 3600 * kMicrosPerSecond);
    case 3: return day;
    case 4: return fdiv(day + 3 - fwd, 7);  // 1970-01-01 was a Thursday (3)
    case 5: { Civil c = civil_from_days(day); return c.y * 12 + c.m - 1; }
    default: return civil_from_days(day).y;
  }
}

std::set<Micros> reference_keep(const std::vector<Micros>& in, const Rotation& r, Micros now) {
  const int counts[] = {r.seconds, r.minutes, r.hours, r.days, r.weeks, r.months, r.years};
  std::set<Micros> keep;
  for (Micros t : in)
    if (t > now) keep.insert(t);
  for (int unit = 0; unit < 7; ++unit) {
    if (counts[unit] == 0) continue;
    std::int64_t pnow = period(unit, now, r.first_week_day);
    std::map<std::int64_t, Micros> oldest;
    for (Micros t : in) {
      if (t > now) continue;
      std::int64_t p = period(unit, t, r.first_week_day);
      if (p <= pnow - counts[unit]) continue;
      auto [it, fresh] = oldest.emplace(p, t);
      if (!fresh && t < it->second) it->second = t;
    }
    for (auto& [p, t] : oldest) keep.insert(t);
  }
  return keep;
}

std::set<Micros> kept(const std::vector<Micros>& in, const Rotation& r, Micros now) {
  auto reasons = rotate(in, r, now);
  EXPECT_EQ(reasons.size(), in.size());
  std::set<Micros> out;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!reasons[i].empty()) out.insert(in[i]);
  return out;
}

std::vector<Micros> daily_1999() {
  std::vector<Micros> v;
  for (Micros t = at(1999, 1, 1); t <= at(1999, 12, 31); t += 86400 * kMicrosPerSecond) v.push_back(t);
  return v;
}

std::set<Micros> days_1999(std::initializer_list<std::pair<unsigned, unsigned>> md) {
  std::set<Micros> s;
  for (auto [m, d] : md) s.insert(at(1999, m, d));
  return s;
}

Rotation rot(int days, int weeks, int months, int fwd = 5) {
  Rotation r;
  r.days = days;
  r.weeks = weeks;
  r.months = months;
  r.first_week_day = fwd;
  return r;
}

// ---- interval strings

TEST(Interval, Parses) {
  EXPECT_EQ(parse_interval_seconds("5s"), 5);
  EXPECT_EQ(parse_interval_seconds("1m"), 60);
  EXPECT_EQ(parse_interval_seconds("2h"), 7200);
  EXPECT_EQ(parse_interval_seconds("30D"), 30 * 86400);
  EXPECT_EQ(parse_interval_seconds("1W"), 7 * 86400);
  EXPECT_EQ(parse_interval_seconds("1M"), 30 * 86400);
  EXPECT_EQ(parse_interval_seconds("1Y"), 365 * 86400);
  EXPECT_EQ(parse_interval_seconds("3M2D8h20m5s"), 3 * 30 * 86400 + 2 * 86400 + 8 * 3600 + 20 * 60 + 5);
  EXPECT_EQ(parse_interval_seconds("1D1D"), 2 * 86400);  // as the original: units may repeat
  EXPECT_EQ(parse_interval_seconds("007m"), 420);
  // d, w and y cannot be mistaken; m stays minutes and M months.
  EXPECT_EQ(parse_interval_seconds("3d"), 3 * 86400);
  EXPECT_EQ(parse_interval_seconds("2w"), 14 * 86400);
  EXPECT_EQ(parse_interval_seconds("1y"), 365 * 86400);
  EXPECT_EQ(parse_interval_seconds("6m"), 360);
}

TEST(Interval, InWords) {
  EXPECT_EQ(interval_in_words("6m"), "6 minutes");
  EXPECT_EQ(interval_in_words("1D2h"), "1 day 2 hours");
  EXPECT_EQ(interval_in_words("3M1w"), "3 months 1 week");
  EXPECT_THROW(interval_in_words("3x"), Error);
}

TEST(Interval, RejectsAndQuotes) {
  for (std::string bad : {"", "0D", "3", "3x", "D", "3D ", " 3D", "3D2", "3H", "3S", "-3D", "+3D", "3.5D", "3DD",
                          "99999999999999999999s", "9223372036854775807Y", "300000000000Y",
                          "9223372036854775807s1s"}) {
    try {
      parse_interval_seconds(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Usage) << bad;
      EXPECT_NE(std::string(e.what()).find("'" + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Interval, LargestThatFits) {
  EXPECT_EQ(parse_interval_seconds("9223372036854775807s"), INT64_MAX);
  EXPECT_EQ(parse_interval_seconds("9223372036854775806s1s"), INT64_MAX);
}

// ---- docs/formats.md §3.4

TEST(Example, A_Readme) {
  auto keep = kept(daily_1999(), rot(7, 4, 3), end_of(1999, 12, 31));
  EXPECT_EQ(keep, days_1999({{10, 1}, {11, 1}, {12, 1}, {12, 4}, {12, 11}, {12, 18}, {12, 25}, {12, 26},
                             {12, 27}, {12, 28}, {12, 29}, {12, 30}, {12, 31}}));
}

TEST(Example, B_Monday) {
  auto keep = kept(daily_1999(), rot(7, 4, 3, 0), end_of(1999, 12, 31));
  EXPECT_EQ(keep, days_1999({{10, 1}, {11, 1}, {12, 1}, {12, 6}, {12, 13}, {12, 20}, {12, 25}, {12, 26},
                             {12, 27}, {12, 28}, {12, 29}, {12, 30}, {12, 31}}));
}

TEST(Example, C_Years) {
  Rotation r;
  r.years = 2;
  EXPECT_EQ(kept(daily_1999(), r, end_of(1999, 12, 31)), days_1999({{1, 1}}));
}

TEST(Example, D_Datetimes) {
  std::vector<Micros> in;
  for (int s = 0; s < 86400; ++s) in.push_back(at(1999, 12, 31) + Micros{s} * kMicrosPerSecond);
  Rotation r;
  r.hours = 2;
  r.minutes = 10;
  r.seconds = 10;
  std::set<Micros> want{at(1999, 12, 31, 22), at(1999, 12, 31, 23)};
  for (int m = 50; m < 60; ++m) want.insert(at(1999, 12, 31, 23, m));
  for (int s = 50; s < 60; ++s) want.insert(at(1999, 12, 31, 23, 59, s));
  EXPECT_EQ(kept(in, r, at(1999, 12, 31, 23, 59, 59)), want);
}

TEST(Example, E_Thursday) {
  Micros now = at(2000, 1, 1, 1, 1, 1, 1);
  std::vector<Micros> in{at(2000, 1, 1, 1), at(2000, 1, 1), at(1999, 12, 31, 23, 59, 59, 999999),
                         at(1999, 12, 18), at(1999, 12, 4)};
  Rotation r;
  r.first_week_day = 3;
  r.weeks = 3;
  EXPECT_EQ(kept(in, r, now), (std::set<Micros>{at(1999, 12, 18), at(1999, 12, 31, 23, 59, 59, 999999)}));
  r.weeks = 5;
  EXPECT_EQ(kept(in, r, now),
            (std::set<Micros>{at(1999, 12, 4), at(1999, 12, 18), at(1999, 12, 31, 23, 59, 59, 999999)}));
  r.first_week_day = 5;
  r.weeks = 2;
  EXPECT_EQ(kept(in, r, now), (std::set<Micros>{at(1999, 12, 31, 23, 59, 59, 999999), at(2000, 1, 1)}));
}

TEST(Example, F_MonthsAcrossYears) {
  std::vector<Micros> in{at(2000, 1, 1), at(1999, 12, 1), at(1999, 1, 1), at(1998, 12, 1), at(1997, 12, 1)};
  for (Micros now : {at(2000, 1, 1), end_of(2000, 1, 1)}) {
    Rotation r;
    r.months = 12;
    std::set<Micros> want{at(1999, 12, 1), at(2000, 1, 1)};
    EXPECT_EQ(kept(in, r, now), want);
    r.months = 13;
    want.insert(at(1999, 1, 1));
    EXPECT_EQ(kept(in, r, now), want);
    r.months = 14;
    want.insert(at(1998, 12, 1));
    EXPECT_EQ(kept(in, r, now), want);
    r.months = 25;  // 1997-12 is 25 months before 2000-01: the 26th period
    EXPECT_EQ(kept(in, r, now), want);
    r.months = 26;
    want.insert(at(1997, 12, 1));
    EXPECT_EQ(kept(in, r, now), want);
    r.months = 36;
    EXPECT_EQ(kept(in, r, now), want);
  }
}

TEST(Example, G_FutureAlwaysKept) {
  Micros now = at(2000, 1, 1);
  std::vector<Micros> in{at(2000, 1, 1, 0, 0, 0, 1), at(2001, 1, 1), at(1999, 1, 1), now};
  Rotation none;
  auto reasons = rotate(in, none, now);
  EXPECT_EQ(reasons[0], Reasons{"future"});
  EXPECT_EQ(reasons[1], Reasons{"future"});
  EXPECT_TRUE(reasons[2].empty());
  EXPECT_TRUE(reasons[3].empty());
  EXPECT_EQ(kept(in, rot(1, 1, 1), now), (std::set<Micros>{in[0], in[1], now}));
}

TEST(Example, H_LeapYear) {
  std::vector<Micros> in{at(2004, 3, 1), at(2004, 2, 29), at(2004, 2, 28), at(2004, 2, 27)};
  for (Micros now : {at(2004, 3, 1), end_of(2004, 3, 1)}) {
    EXPECT_EQ(kept(in, rot(2, 0, 0), now), (std::set<Micros>{at(2004, 2, 29), at(2004, 3, 1)}));
    EXPECT_EQ(kept(in, rot(3, 0, 0), now), (std::set<Micros>{at(2004, 2, 28), at(2004, 2, 29), at(2004, 3, 1)}));
  }
}

TEST(Example, I_BakthatLike) {
  std::vector<Micros> in;
  for (int i = 0; i < 80; ++i) in.push_back(at(2013, 5, 1, 3) + Micros{i} * 12 * 3600 * kMicrosPerSecond);
  auto reasons = rotate(in, rot(3, 2, 2), at(2013, 6, 10, 12));
  std::map<Micros, Reasons> got;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!reasons[i].empty()) got[in[i]] = reasons[i];
  std::map<Micros, Reasons> want{
      {at(2013, 5, 1, 3), {"monthly 2013-05"}},
      {at(2013, 6, 1, 3), {"weekly 2013-06-01", "monthly 2013-06"}},
      {at(2013, 6, 8, 3), {"daily 2013-06-08", "weekly 2013-06-08"}},
      {at(2013, 6, 9, 3), {"daily 2013-06-09"}},
  };
  EXPECT_EQ(got, want);
}

// ---- details

TEST(Rotate, ReasonLabels) {
  Rotation r;
  r.seconds = r.minutes = r.hours = r.days = r.weeks = r.months = r.years = 1;
  Micros t = at(2026, 11, 24, 13, 5, 7, 250000);
  auto reasons = rotate({t}, r, t);
  EXPECT_EQ(reasons[0], (Reasons{"secondly 2026-11-24 13:05:07", "minutely 2026-11-24 13:05", "hourly 2026-11-24 13h",
                                 "daily 2026-11-24", "weekly 2026-11-21", "monthly 2026-11", "yearly 2026"}));
}

TEST(Rotate, EqualInstantsKeepTheFirstInInputOrder) {
  Micros a = at(2020, 5, 5, 10), b = at(2020, 5, 5, 12);
  auto reasons = rotate({b, a, a}, rot(1, 0, 0), at(2020, 5, 5, 23));
  EXPECT_TRUE(reasons[0].empty());
  EXPECT_EQ(reasons[1], Reasons{"daily 2020-05-05"});
  EXPECT_TRUE(reasons[2].empty());
  // Future instants are all kept, equal or not.
  auto future = rotate({b, b}, rot(1, 0, 0), a);
  EXPECT_EQ(future[0], Reasons{"future"});
  EXPECT_EQ(future[1], Reasons{"future"});
}

TEST(Rotate, HugeCountsKeepTheWholePast) {
  Rotation r;
  r.days = r.weeks = r.months = r.years = r.seconds = INT32_MAX;
  std::vector<Micros> in{at(1, 1, 1), at(1, 1, 2), at(500, 6, 1), at(9999, 12, 31)};
  EXPECT_EQ(kept(in, r, end_of(9999, 12, 31)), std::set<Micros>(in.begin(), in.end()));
}

TEST(Rotate, RejectsBadRotations) {
  Rotation r = rot(1, 0, 0, 7);
  EXPECT_THROW(rotate({0}, r, 0), Error);
  r = rot(-1, 0, 0);
  EXPECT_THROW(rotate({0}, r, 0), Error);
  EXPECT_THROW(rotate({at(10000, 1, 1)}, rot(1, 0, 0), 0), Error);
}

TEST(Rotate, PreEpochDates) {
  std::vector<Micros> in{at(1969, 12, 31, 23, 59, 59), at(1969, 12, 31, 1), at(1969, 12, 27), at(1969, 12, 26, 23)};
  // 1969-12-27 was a Saturday.
  EXPECT_EQ(kept(in, rot(1, 1, 0), at(1969, 12, 31, 23, 59, 59)),
            (std::set<Micros>{at(1969, 12, 31, 1), at(1969, 12, 27)}));
}

TEST(FormatUtc, Renders) {
  EXPECT_EQ(format_utc(at(2026, 11, 24, 13, 5, 7, 999999)), "2026-11-24 13:05:07");
  EXPECT_EQ(format_utc(at(1969, 12, 31, 23, 59, 59, 1)), "1969-12-31 23:59:59");
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00");
}

// ---- property: the kept sets match the reference on random inputs.

TEST(Property, MatchesReference) {
  std::mt19937_64 rng(20240607);
  const Micros scales[] = {kMicrosPerSecond, 60 * kMicrosPerSecond, 3600 * kMicrosPerSecond,
                           86400 * kMicrosPerSecond, 40 * 86400 * kMicrosPerSecond,
                           800 * 86400 * kMicrosPerSecond};
  const int iterations = 4000;
  int kept_total = 0, deleted_total = 0;
  for (int it = 0; it < iterations; ++it) {
    Micros now = at(1950, 1, 1) + static_cast<Micros>(rng() % static_cast<std::uint64_t>(at(2060, 1, 1) - at(1950, 1, 1)));
    if (rng() % 4 == 0) now -= now % kMicrosPerSecond;           // whole seconds, as in the catalog
    if (rng() % 8 == 0) now = now - now % (86400 * kMicrosPerSecond) + 86400 * kMicrosPerSecond - 1;  // a date's end
    Micros scale = scales[rng() % std::size(scales)];
    std::set<Micros> distinct;
    int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      Micros back = static_cast<Micros>(rng() % static_cast<std::uint64_t>(scale * 30));
      Micros t = now - back + (rng() % 10 == 0 ? scale : 0);  // some in the future
      if (rng() % 2) t -= t % kMicrosPerSecond;
      if (rng() % 3 == 0) t -= t % (86400 * kMicrosPerSecond);  // midnight edges
      distinct.insert(t);
    }
    std::vector<Micros> in(distinct.begin(), distinct.end());
    std::shuffle(in.begin(), in.end(), rng);
    Rotation r;
    auto pick = [&] { return rng() % 3 == 0 ? 0 : static_cast<int>(rng() % 12); };
    r.seconds = pick(); r.minutes = pick(); r.hours = pick(); r.days = pick();
    r.weeks = pick(); r.months = pick(); r.years = pick();
    r.first_week_day = static_cast<int>(rng() % 7);
    auto got = kept(in, r, now);
    auto want = reference_keep(in, r, now);
    ASSERT_EQ(got, want) << "iteration " << it << " now " << format_utc(now) << " fwd " << r.first_week_day;
    kept_total += static_cast<int>(got.size());
    deleted_total += static_cast<int>(in.size() - got.size());
  }
  // Both outcomes were exercised plenty.
  EXPECT_GT(kept_total, iterations);
  EXPECT_GT(deleted_total, iterations);
}

// Every unit on its own, with counts from 1 upwards, on dense daily inputs:
// the count of kept dates is what calendar periods say.
TEST(Property, DailyInputsKeepOnePerPeriod) {
  std::vector<Micros> in;
  for (Micros t = at(1995, 1, 1); t <= at(2001, 12, 31); t += 86400 * kMicrosPerSecond) in.push_back(t);
  for (int fwd = 0; fwd < 7; ++fwd)
    for (int n = 1; n <= 40; n += 3) {
      Micros now = end_of(2001, 12, 31) - (n * 86400LL * kMicrosPerSecond);
      Rotation r;
      r.first_week_day = fwd;
      r.weeks = n;
      auto got = kept(in, r, now);
      EXPECT_EQ(got, reference_keep(in, r, now));
      // weeks: the n-1 whole weeks before now's week, plus now's week (which
      // holds now, so the future days after now are kept too).
      std::size_t future = std::count_if(in.begin(), in.end(), [&](Micros t) { return t > now; });
      EXPECT_EQ(got.size(), static_cast<std::size_t>(n) + future);
    }
}

}  // namespace
}  // namespace bakthat::retention
