#include "util/time.h"

#include <chrono>
#include <cstdio>

namespace ck {
namespace {

using namespace std::chrono;

constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct Civil {
  year_month_day date;
  hh_mm_ss<milliseconds> time;
  weekday day;
};

Civil ToCivil(Millis t) {
  sys_time<milliseconds> tp{milliseconds(t)};
  sys_days days = floor<std::chrono::days>(tp);
  return {year_month_day(days), hh_mm_ss<milliseconds>(tp - days), weekday(days)};
}

Millis FromCivil(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  sys_days days{year(y) / month(mo) / day(d)};
  return duration_cast<milliseconds>(days.time_since_epoch()).count() + ((h * 60 + mi) * 60 + s) * 1000LL + ms;
}


}  // namespace

bool ParseDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return true;
}

Millis SystemClock::Now() const {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatInstant(Millis t) {
  Civil c = ToCivil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(c.date.year()),
                static_cast<unsigned>(c.date.month()), static_cast<unsigned>(c.date.day()),
                static_cast<int>(c.time.hours().count()), static_cast<int>(c.time.minutes().count()),
                static_cast<int>(c.time.seconds().count()), static_cast<int>(c.time.subseconds().count()));
  return buf;
}

std::string FormatHttpDate(Millis t) {
  Civil c = ToCivil(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", kDays[c.day.c_encoding()].data(),
                static_cast<unsigned>(c.date.day()), kMonths[static_cast<unsigned>(c.date.month()) - 1].data(),
                static_cast<int>(c.date.year()), static_cast<int>(c.time.hours().count()),
                static_cast<int>(c.time.minutes().count()), static_cast<int>(c.time.seconds().count()));
  return buf;
}

std::optional<Millis> ParseHttpDate(std::string_view text) {
  // "Wed, 25 Nov 2026 10:15:30 GMT"
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return std::nullopt;
  int d = 0, y = 0, h = 0, mi = 0, s = 0;
  if (!ParseDigits(text, 5, 2, d) || !ParseDigits(text, 12, 4, y) || !ParseDigits(text, 17, 2, h) || !ParseDigits(text, 20, 2, mi) ||
      !ParseDigits(text, 23, 2, s)) {
    return std::nullopt;
  }
  std::string_view mon = text.substr(8, 3);
  for (unsigned m = 0; m < 12; ++m) {
    if (kMonths[m] != mon) continue;
    if (!year_month_day(year(y) / month(m + 1) / day(d)).ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
    return FromCivil(y, m + 1, d, h, mi, s);
  }
  return std::nullopt;
}

std::optional<TimeRange> ParseFhirDateTimeRange(std::string_view text) {
  int y = 0, mo = 1, d = 1;
  if (!ParseDigits(text, 0, 4, y)) return std::nullopt;
  if (text.size() == 4) return TimeRange{FromCivil(y, 1, 1), FromCivil(y + 1, 1, 1)};
  if (text[4] != '-' || !ParseDigits(text, 5, 2, mo) || mo < 1 || mo > 12) return std::nullopt;
  if (text.size() == 7) {
    year_month next = year(y) / month(mo) + months(1);
    return TimeRange{FromCivil(y, mo, 1), FromCivil(static_cast<int>(next.year()), static_cast<unsigned>(next.month()), 1)};
  }
  if (text[7] != '-' || !ParseDigits(text, 8, 2, d) || !year_month_day(year(y) / month(mo) / day(d)).ok()) return std::nullopt;
  Millis day_start = FromCivil(y, mo, d);
  if (text.size() == 10) return TimeRange{day_start, day_start + 86'400'000};
  int h = 0, mi = 0, s = 0, ms = 0;
  if (text[10] != 'T' || !ParseDigits(text, 11, 2, h) || text.size() < 16 || text[13] != ':' || !ParseDigits(text, 14, 2, mi)) {
    return std::nullopt;
  }
  std::size_t pos = 16;
  Millis precision = 60'000;
  if (pos < text.size() && text[pos] == ':') {
    if (!ParseDigits(text, pos + 1, 2, s)) return std::nullopt;
    pos += 3;
    precision = 1000;
    if (pos < text.size() && text[pos] == '.') {
      std::size_t start = ++pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;
      std::string frac(text.substr(start, pos - start));
      frac.resize(3, '0');
      ms = std::stoi(frac);
      precision = 1;
    }
  }
  if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  Millis offset = 0;
  if (pos < text.size()) {
    char sign = text[pos];
    int oh = 0, om = 0;
    if (sign == 'Z' && pos + 1 == text.size()) {
      offset = 0;
    } else if ((sign == '+' || sign == '-') && text.size() == pos + 6 && ParseDigits(text, pos + 1, 2, oh) &&
               text[pos + 3] == ':' && ParseDigits(text, pos + 4, 2, om)) {
      offset = (oh * 60 + om) * 60'000LL * (sign == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  Millis start = day_start + ((h * 60 + mi) * 60 + s) * 1000LL + ms - offset;
  return TimeRange{start, start + precision};
}

}  // namespace ck
