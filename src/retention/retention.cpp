#include "retention/retention.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <numeric>

#include "bakthat/errors.hpp"

namespace bakthat::retention {

namespace {

namespace chr = std::chrono;

constexpr Micros kMin = std::numeric_limits<Micros>::min();
constexpr Micros kMinute = 60 * kMicrosPerSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;
// Python's datetime range (years 1..9999): grandfatherson works inside it,
// and std::chrono's civil year (a short) is exact well beyond it.
constexpr Micros kFirst = -62135596800LL * kMicrosPerSecond;
constexpr Micros kLast = 253402300800LL * kMicrosPerSecond - 1;

Micros floor_to(Micros t, Micros unit) {
  Micros q = t / unit;
  if (t % unit < 0) --q;
  return q * unit;
}

chr::sys_days day_of(Micros t) { return chr::sys_days{chr::days{floor_to(t, kDay) / kDay}}; }
Micros micros_of(chr::sys_days d) { return Micros{d.time_since_epoch().count()} * kDay; }

// mask(now) - steps * unit, or "no lower bound" when that falls before
// every representable instant (grandfatherson would raise; keeping all of
// the past is the meaning of a count that large).
Micros back_from(Micros mask_now, std::int64_t steps, Micros unit) {
  __int128 s = static_cast<__int128>(mask_now) - static_cast<__int128>(steps) * unit;
  return s < kFirst ? kMin : static_cast<Micros>(s);
}

// Day 1 of the month `months` months (may be negative) after year/month,
// or kMin when that is before year 1.
Micros month_start(int year, unsigned month, std::int64_t months) {
  std::int64_t t = 12LL * year + (month - 1) + months;
  std::int64_t y = t >= 0 ? t / 12 : -((-t + 11) / 12);
  std::int64_t m = t - 12 * y;
  if (y < 1) return kMin;
  return micros_of(chr::sys_days{chr::year{static_cast<int>(y)} / chr::month{static_cast<unsigned>(m + 1)} / 1});
}

std::string date_text(chr::sys_days d) {
  chr::year_month_day ymd{d};
  char b[32];
  std::snprintf(b, sizeof b, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return b;
}

// One grandfatherson filter: how a unit masks an instant to its period, and
// where its N periods begin.
struct Unit {
  const char* adjective;
  int Rotation::*count;
  Micros (*mask)(Micros t, int first_week_day);
  Micros (*start)(Micros mask_now, Micros now, std::int64_t n, int first_week_day);
  std::string (*label)(Micros mask);
};

Micros weekday_python(Micros t) {
  // std::chrono counts Sunday = 0; Python's calendar counts Monday = 0.
  return (chr::weekday{day_of(t)}.c_encoding() + 6) % 7;
}

const Unit kUnits[] = {
    {"secondly", &Rotation::seconds,
     [](Micros t, int) { return floor_to(t, kMicrosPerSecond); },
     [](Micros m, Micros, std::int64_t n, int) { return back_from(m, n - 1, kMicrosPerSecond); },
     [](Micros m) { return format_utc(m); }},
    {"minutely", &Rotation::minutes,
     [](Micros t, int) { return floor_to(t, kMinute); },
     [](Micros m, Micros, std::int64_t n, int) { return back_from(m, n - 1, kMinute); },
     [](Micros m) { return format_utc(m).substr(0, 16); }},
    {"hourly", &Rotation::hours,
     [](Micros t, int) { return floor_to(t, kHour); },
     [](Micros m, Micros, std::int64_t n, int) { return back_from(m, n - 1, kHour); },
     [](Micros m) { return format_utc(m).substr(0, 13) + "h"; }},
    {"daily", &Rotation::days,
     [](Micros t, int) { return floor_to(t, kDay); },
     [](Micros m, Micros, std::int64_t n, int) { return back_from(m, n - 1, kDay); },
     [](Micros m) { return date_text(day_of(m)); }},
    {"weekly", &Rotation::weeks,
     [](Micros t, int fwd) { return floor_to(t, kDay) - ((weekday_python(t) - fwd + 7) % 7) * kDay; },
     [](Micros m, Micros, std::int64_t n, int) { return back_from(m, n - 1, 7 * kDay); },
     [](Micros m) { return date_text(day_of(m)); }},
    {"monthly", &Rotation::months,
     [](Micros t, int) {
       chr::year_month_day ymd{day_of(t)};
       return micros_of(chr::sys_days{ymd.year() / ymd.month() / 1});
     },
     [](Micros, Micros now, std::int64_t n, int) {
       chr::year_month_day ymd{day_of(now)};
       return month_start(int(ymd.year()), unsigned(ymd.month()), -(n - 1));
     },
     [](Micros m) { return date_text(day_of(m)).substr(0, 7); }},
    {"yearly", &Rotation::years,
     [](Micros t, int) {
       chr::year_month_day ymd{day_of(t)};
       return micros_of(chr::sys_days{ymd.year() / chr::January / 1});
     },
     [](Micros, Micros now, std::int64_t n, int) {
       chr::year_month_day ymd{day_of(now)};
       return month_start(int(ymd.year()), 1, -12 * (n - 1));
     },
     [](Micros m) { return date_text(day_of(m)).substr(0, 4); }},
};

[[noreturn]] void bad_interval(const std::string& text, const std::string& why) {
  throw Error(ErrorKind::Usage, "bad interval '" + text + "': " + why +
                                    " (expected <number><unit>..., units s m h d/D w/W M y/Y, e.g. 3M2D8h)");
}

// An interval unit: its letters (m is minutes and M months, as the Python
// tool read them; the other units take either case), seconds and name.
struct IntervalUnit {
  char lower, upper;
  std::int64_t seconds;
  const char* name;
};
constexpr IntervalUnit kIntervalUnits[] = {
    {'s', 's', 1, "second"},       {'m', 'm', 60, "minute"},          {'h', 'h', 3600, "hour"},
    {'d', 'D', 86400, "day"},      {'w', 'W', 7 * 86400, "week"},     {'M', 'M', 30 * 86400, "month"},
    {'y', 'Y', 365 * 86400, "year"},
};

// Calls term(count, unit) for each <number><unit> of an interval string, in
// order; throws Usage quoting the text for anything that is not one.
template <class Term>
void for_each_term(const std::string& text, Term term) {
  if (text.empty()) bad_interval(text, "it is empty");
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t digits = i;
    std::int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[i] - '0', &n))
        bad_interval(text, "it is too large");
      ++i;
    }
    if (i == digits) bad_interval(text, "'" + text.substr(i, 1) + "' is not a number");
    if (i == text.size()) bad_interval(text, "the number " + text.substr(digits) + " has no unit");
    const IntervalUnit* unit = nullptr;
    for (const auto& u : kIntervalUnits)
      if (text[i] == u.lower || text[i] == u.upper) unit = &u;
    if (!unit) bad_interval(text, "unknown unit '" + text.substr(i, 1) + "'");
    if (n == 0) bad_interval(text, "a count must be positive");
    term(n, *unit);
    ++i;
  }
}

}  // namespace

std::int64_t parse_interval_seconds(const std::string& text) {
  std::int64_t total = 0;
  for_each_term(text, [&](std::int64_t n, const IntervalUnit& unit) {
    if (__builtin_mul_overflow(n, unit.seconds, &n) || __builtin_add_overflow(total, n, &total))
      bad_interval(text, "it is too large");
  });
  return total;
}

std::string interval_in_words(const std::string& text) {
  parse_interval_seconds(text);
  std::string out;
  for_each_term(text, [&](std::int64_t n, const IntervalUnit& unit) {
    out += (out.empty() ? "" : " ") + std::to_string(n) + " " + unit.name + (n == 1 ? "" : "s");
  });
  return out;
}

std::vector<Reasons> rotate(const std::vector<Micros>& instants, const Rotation& r, Micros now) {
  if (r.first_week_day < 0 || r.first_week_day > 6)
    throw Error(ErrorKind::Usage, "first_week_day must be 0 (Monday) to 6 (Sunday), not " +
                                      std::to_string(r.first_week_day));
  auto in_range = [](Micros t) { return t >= kFirst && t <= kLast; };
  if (!in_range(now)) throw Error(ErrorKind::Usage, "rotation: 'now' is outside years 1..9999");
  for (Micros t : instants)
    if (!in_range(t)) throw Error(ErrorKind::Usage, "rotation: a date is outside years 1..9999");

  std::vector<Reasons> out(instants.size());
  for (std::size_t i = 0; i < instants.size(); ++i)
    if (instants[i] > now) out[i].push_back("future");

  // Oldest first; equal instants keep their input order.
  std::vector<std::size_t> order(instants.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return instants[a] < instants[b]; });

  for (const Unit& u : kUnits) {
    int n = r.*u.count;
    if (n < 0) throw Error(ErrorKind::Usage, std::string("rotation: a negative count for ") + u.adjective);
    if (n == 0) continue;
    Micros start = u.start(u.mask(now, r.first_week_day), now, n, r.first_week_day);
    bool have_last = false;
    Micros last = 0;
    for (std::size_t i : order) {
      Micros t = instants[i];
      if (t < start || t > now) continue;
      Micros m = u.mask(t, r.first_week_day);
      // Masks never decrease along ascending instants: a new mask is a new
      // period, and its first instant is the period's oldest.
      if (have_last && m == last) continue;
      have_last = true;
      last = m;
      out[i].push_back(std::string(u.adjective) + " " + u.label(m));
    }
  }
  return out;
}

std::string format_utc(Micros t) {
  Micros day = floor_to(t, kDay);
  std::int64_t secs = (t - day) / kMicrosPerSecond;
  char b[16];
  std::snprintf(b, sizeof b, " %02d:%02d:%02d", int(secs / 3600), int(secs / 60 % 60), int(secs % 60));
  return date_text(day_of(t)) + b;
}

}  // namespace bakthat::retention
