// UTC/TAI time handling as astropy 7.2 + pyerfa 2.0.1.5 (ERFA 2.0.1) + sunpy 7.0 do it for aiapy.
// See aia_time.hpp. The arithmetic of each step follows, operation for operation, the routine named
// in its comment (astropy.time.utils.day_frac / two_sum / two_product, ERFA eraJd2cal, eraDtf2d,
// eraUtctai, astropy's parse_times.c); the calendar conversions are exact integer arithmetic.
#include "reference/aia_time.hpp"

#include <array>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/error.hpp"

namespace aiaccel::reference {
namespace {

constexpr double kDaySec = 86400.0;
constexpr double kMjdZero = 2400000.5;

// TAI − UTC (s) from the first day of (year, month) on; IERS Bulletin C values as shipped by ERFA 2.0.1.
struct LeapStep {
    int year, month;
    double tai_minus_utc;
};
constexpr std::array<LeapStep, 28> kLeapSteps{{
    {1972, 1, 10.0}, {1972, 7, 11.0}, {1973, 1, 12.0}, {1974, 1, 13.0}, {1975, 1, 14.0}, {1976, 1, 15.0}, {1977, 1, 16.0},
    {1978, 1, 17.0}, {1979, 1, 18.0}, {1980, 1, 19.0}, {1981, 7, 20.0}, {1982, 7, 21.0}, {1983, 7, 22.0}, {1985, 7, 23.0},
    {1988, 1, 24.0}, {1990, 1, 25.0}, {1991, 1, 26.0}, {1992, 7, 27.0}, {1993, 7, 28.0}, {1994, 7, 29.0}, {1996, 1, 30.0},
    {1997, 7, 31.0}, {1999, 1, 32.0}, {2006, 1, 33.0}, {2009, 1, 34.0}, {2012, 7, 35.0}, {2015, 7, 36.0}, {2017, 1, 37.0},
}};

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return kDays[m - 1] + (m == 2 && is_leap_year(y) ? 1 : 0);
}

// Days since 1970-01-01 of a proleptic Gregorian date (exact integer arithmetic).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
struct Civil {
    int year, month, day;
};
Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}
constexpr std::int64_t kMjdOfUnixEpoch = 40587;  // MJD of 1970-01-01
constexpr std::int64_t kJdnOfUnixEpoch = 2440588;  // Julian day number of 1970-01-01

double mjd_of(int y, int m, int d) { return static_cast<double>(days_from_civil(y, m, d) + kMjdOfUnixEpoch); }

// ERFA eraJd2cal: calendar date and fraction of day (from 0h) of the two-part JD dj1 + dj2, with the
// fraction formed by Klein's compensated summation of the parts' fractions and 0.5.
struct CalDate {
    int year, month, day;
    double fd;
};
CalDate jd_to_calendar(double dj1, double dj2) {
    const double dj = dj1 + dj2;
    if (dj < -68569.5 || dj > 1e9) throw Error(ErrorKind::bad_value, "Julian date out of range");
    const auto nearest = [](double a) { return a < 0.0 ? std::ceil(a - 0.5) : std::floor(a + 0.5); };
    double d = nearest(dj1);
    const double f1 = dj1 - d;
    long jd = static_cast<long>(d);
    d = nearest(dj2);
    const double f2 = dj2 - d;
    jd += static_cast<long>(d);

    double s = 0.5, cs = 0.0;
    for (const double x : {f1, f2}) {
        const double t = s + x;
        cs += std::fabs(s) >= std::fabs(x) ? (s - t) + x : (x - t) + s;
        s = t;
        if (s >= 1.0) {
            ++jd;
            s -= 1.0;
        }
    }
    double f = s + cs;
    cs = f - s;
    if (f < 0.0) {  // negative fraction: borrow a day
        f = s + 1.0;
        cs += (1.0 - f) + s;
        s = f;
        f = s + cs;
        cs = f - s;
        --jd;
    }
    if ((f - 1.0) >= -DBL_EPSILON / 4.0) {  // a fraction that rounds to 1: carry a day
        const double t = s - 1.0;
        cs += (s - t) - 1.0;
        s = t;
        f = s + cs;
        if (-DBL_EPSILON / 2.0 < f) {
            ++jd;
            f = std::max(f, 0.0);
        }
    }
    const Civil c = civil_from_days(jd - kJdnOfUnixEpoch);
    return {c.year, c.month, c.day, f};
}

std::pair<double, double> two_sum(double a, double b) {  // astropy.time.utils.two_sum (Shewchuk)
    const double x = a + b;
    double eb = x - a;
    double ea = x - eb;
    eb = b - eb;
    ea = a - ea;
    return {x, ea + eb};
}
std::pair<double, double> split(double a) {  // astropy.time.utils.split
    const double c = 134217729.0 * a;
    const double abig = c - a;
    const double ah = c - abig;
    return {ah, a - ah};
}
std::pair<double, double> two_product(double a, double b) {  // astropy.time.utils.two_product
    const double x = a * b;
    const auto [ah, al] = split(a);
    const auto [bh, bl] = split(b);
    double y = x - ah * bh;
    y -= al * bh;
    y -= ah * bl;
    y = al * bl - y;
    return {x, y};
}
double np_sign(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : v; }  // numpy.sign (NaN and ±0 kept)

JdPair finish_day_frac(double sum12, double err12) {
    double day = std::nearbyint(sum12);  // numpy.round: half to even
    const auto [frac0, check] = two_sum(sum12 - day, err12);
    const double excess = frac0 * np_sign(check) != 0.5 ? std::nearbyint(frac0) : std::nearbyint(frac0 + 2 * check);
    day += excess;
    double frac = sum12 - day;
    frac += err12;
    return {day, frac};
}

double delta_at_or_throw(int y, int m, int d) {
    const int key = 12 * y + m;
    for (auto it = kLeapSteps.rbegin(); it != kLeapSteps.rend(); ++it)
        if (key >= 12 * it->year + it->month) return it->tai_minus_utc;
    throw Error(ErrorKind::bad_value,
                "date " + std::to_string(y) + "-" + std::to_string(m) + "-" + std::to_string(d) +
                    " is before 1972-01-01: UTC before leap seconds is not supported");
}

bool is_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
int to_int(std::string_view s) {
    int v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

}  // namespace

namespace time_detail {

JdPair day_frac(double a, double b) {
    const auto [s, e] = two_sum(a, b);
    return finish_day_frac(s, e);
}

JdPair day_frac(double a, double b, double divisor) {
    const auto [sum12, err12] = two_sum(a, b);
    const double q1 = sum12 / divisor;
    const auto [p1, p2] = two_product(q1, divisor);
    auto [d1, d2] = two_sum(sum12, -p1);
    d2 += err12;
    d2 -= p2;
    const double q2 = (d1 + d2) / divisor;
    const auto [s, e] = two_sum(q1, q2);
    return finish_day_frac(s, e);
}

JdPair utc_from_civil(int year, int month, int day, int hour, int minute, double second) {
    // ERFA eraDtf2d with scale "UTC": the day is 86400 s plus any leap second inserted at its end.
    const double dj = kMjdZero + mjd_of(year, month, day);
    const double dat0 = delta_at_or_throw(year, month, day);
    const CalDate tomorrow = jd_to_calendar(dj, 1.5);
    const double dat24 = delta_at_or_throw(tomorrow.year, tomorrow.month, tomorrow.day);
    const double dleap = dat24 - (2.0 * dat0 - dat0);  // no intra-day drift after 1972
    const double day_len = kDaySec + dleap;
    const double time = (60.0 * static_cast<double>(60 * hour + minute) + second) / day_len;
    return day_frac(dj, time);
}

JdPair utc_to_tai(JdPair utc) {
    // ERFA eraUtctai, then astropy's day_frac (Time._set_scale).
    const bool big1 = std::fabs(utc.jd1) >= std::fabs(utc.jd2);
    const double u1 = big1 ? utc.jd1 : utc.jd2;
    const double u2 = big1 ? utc.jd2 : utc.jd1;
    const CalDate today = jd_to_calendar(u1, u2);
    const double dat0 = delta_at_or_throw(today.year, today.month, today.day);
    const double dat12 = dat0;
    const CalDate tomorrow = jd_to_calendar(u1 + 1.5, u2 - today.fd);
    const double dat24 = delta_at_or_throw(tomorrow.year, tomorrow.month, tomorrow.day);
    const double dlod = 2.0 * (dat12 - dat0);
    const double dleap = dat24 - (dat0 + dlod);
    double fd = today.fd;
    fd *= (kDaySec + dleap) / kDaySec;  // undo the stretched leap-second day
    fd *= (kDaySec + dlod) / kDaySec;
    double a2 = kMjdZero - u1;
    a2 += mjd_of(today.year, today.month, today.day);
    a2 += fd + dat0 / kDaySec;
    return big1 ? day_frac(u1, a2) : day_frac(a2, u1);
}

}  // namespace time_detail

double tai_minus_utc(int year, int month, int day) { return delta_at_or_throw(year, month, day); }

UtcTime parse_utc(std::string_view text, TimeParser parser, std::string_view context) {
    const std::string ctx(context);
    const auto fail = [&](const std::string& why) { return Error(ErrorKind::bad_value, ctx + ": time '" + std::string(text) + "' " + why); };
    std::string_view s = text;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.find("TAI") != std::string_view::npos) throw fail("is on the TAI scale; only UTC strings (ISO 8601, optional 'Z') are supported");
    const bool z = !s.empty() && s.back() == 'Z';
    if (z) s.remove_suffix(1);

    // YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]]
    const auto bad = [&] { return fail("is not an ISO 8601 UTC time (YYYY-MM-DD[THH:MM[:SS[.fff]]][Z])"); };
    if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !is_digits(s.substr(0, 4)) || !is_digits(s.substr(5, 2)) || !is_digits(s.substr(8, 2)))
        throw bad();
    const int year = to_int(s.substr(0, 4)), month = to_int(s.substr(5, 2)), day = to_int(s.substr(8, 2));
    int hour = 0, minute = 0, isec = 0;
    char sep = 'T';
    std::string_view digits;
    bool has_time = false;
    if (s.size() > 10) {
        sep = s[10];
        if ((sep != 'T' && sep != ' ') || s.size() < 16 || s[13] != ':' || !is_digits(s.substr(11, 2)) || !is_digits(s.substr(14, 2))) throw bad();
        hour = to_int(s.substr(11, 2));
        minute = to_int(s.substr(14, 2));
        has_time = true;
        if (s.size() > 16) {
            if (s.size() < 19 || s[16] != ':' || !is_digits(s.substr(17, 2))) throw bad();
            isec = to_int(s.substr(17, 2));
            if (s.size() > 19) {
                if (s[19] != '.' || !is_digits(s.substr(20))) throw bad();
                digits = s.substr(20);
            }
        }
    }
    if (z && !has_time) throw bad();
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) throw fail("is not a valid date");
    if (hour > 23 || minute > 59) throw fail("is not a valid time of day");

    // Fractional seconds: which parser's arithmetic applies (see TimeParser).
    bool use_python_float = z;  // astropy: 'Z' → Python parser
    if (parser == TimeParser::sunpy) {
        // sunpy's _regex_parse_time cuts the fraction to 6 digits when the 7th is '0' (it tests the
        // prefix "\d{6}0+", so later non-zero digits are dropped too); strptime's %f takes <= 6 digits.
        bool fits_six = digits.size() <= 6 || digits[6] == '0';
        bool has_sunpy_format = !(z && sep == ' ');
        if (fits_six && has_sunpy_format) {
            use_python_float = false;  // strptime → "SS.ffffff" → astropy fast parser
            if (digits.size() > 6) digits = digits.substr(0, 6);
        }
    }
    double frac = 0.0;
    if (!digits.empty()) {
        if (use_python_float) {
            const std::string f = "0." + std::string(digits);
            std::from_chars(f.data(), f.data() + f.size(), frac);
        } else {
            double mult = 0.1;  // parse_times.c: v += digit * mult; mult /= 10
            for (char c : digits) {
                frac += static_cast<int>(c - '0') * mult;
                mult /= 10.0;
            }
        }
    }
    const double second = static_cast<double>(isec) + frac;

    if (year < 1972) throw fail("is before 1972-01-01: UTC before leap seconds is not supported");
    // Seconds may reach 60.x only in a minute that ends with a leap second (ERFA's limit).
    double seclim = 60.0;
    if (hour == 23 && minute == 59) {
        const std::int64_t next = days_from_civil(year, month, day) + 1;
        const Civil c = civil_from_days(next);
        seclim += tai_minus_utc(c.year, c.month, c.day) - tai_minus_utc(year, month, day);
    }
    if (second >= seclim) throw fail("has seconds beyond the end of its minute");
    return {std::string(text), time_detail::utc_from_civil(year, month, day, hour, minute, second)};
}

int compare(const UtcTime& a, const UtcTime& b) {
    const double d = (a.jd.jd1 - b.jd.jd1) + (a.jd.jd2 - b.jd.jd2);
    return d > 0.0 ? 1 : d < 0.0 ? -1 : 0;
}

double tai_days_between(const UtcTime& a, const UtcTime& b) {
    const JdPair ta = time_detail::utc_to_tai(a.jd);
    const JdPair delta = time_detail::day_frac(ta.jd1, ta.jd2, 1.0);  // TimeDelta(jd1, jd2, format='jd')
    const JdPair tb = time_detail::utc_to_tai(b.jd);
    const JdPair d = time_detail::day_frac(delta.jd1 - tb.jd1, delta.jd2 - tb.jd2);
    return d.jd1 + d.jd2;
}

}  // namespace aiaccel::reference
