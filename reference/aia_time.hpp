// UTC instants exactly as astropy.time (astropy 7.2) holds them, for the time logic of aiapy's
// calibration code: parsing the strings aiapy sees (header T_OBS / DATE-OBS, table T_START / T_STOP),
// ordering them (astropy Time comparison, done in UTC) and differencing them in days (astropy Time
// subtraction, done in TAI, so leap seconds count — docs/algorithms.md §7.12).
//
// Representation: astropy's two-double Julian date (jd1 integer-valued, |jd2| <= 0.5, normalised by
// astropy.time.utils.day_frac). For UTC this is the "quasi-JD" of ERFA eraDtf2d: a day holding a leap
// second is 86401 s long. The conversions reproduce the floating-point steps of ERFA 2.0.1
// (eraCal2jd, eraJd2cal, eraDat, eraDtf2d, eraUtctai; pyerfa 2.0.1.5) and of astropy's fast C time
// parser (astropy/time/src/parse_times.c) so that differences come out bit-identical.
// Leap seconds: TAI−UTC from 1972-01-01 (10 s) to 2017-01-01 (37 s), the IERS table ERFA ships;
// instants before 1972 are refused (pre-1972 UTC drift is not needed for SDO, launched 2010).
#pragma once

#include <string>
#include <string_view>

namespace aiaccel::reference {

struct JdPair {
    double jd1 = 0, jd2 = 0;
};

// Which Python path parsed the string; the two turn fractional seconds into a double differently.
enum class TimeParser {
    // astropy.time.Time(s, scale='utc'): the C fast parser accumulates the fraction digit by digit
    // (v += d·m, m = 0.1, 0.01 …). A trailing 'Z' makes the fast parser fail and astropy's Python
    // parser take over, which adds float(".fff") to the integer seconds.
    astropy,
    // sunpy.time.parse_time(s) (sunpy 7.0): strptime, re-formatted as "YYYY-MM-DDTHH:MM:SS.ffffff"
    // and handed to the astropy fast parser. Longer fractions are cut to 6 digits when the 7th digit
    // is '0' (sunpy's trailing-zero regex matches a prefix), else strptime fails and sunpy falls
    // back to astropy.time.Time(s).
    sunpy,
};

struct UtcTime {
    std::string text;  // the string as given
    JdPair jd;  // astropy's UTC (jd1, jd2)
};

// Accepted forms: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS[.f…]" with 'T' or ' ' and an
// optional trailing 'Z'. Anything else (other calendars, TAI strings such as JSOC's "…_TAI", dates
// before 1972) throws Error(bad_value) whose message starts with `context` (e.g. "file.fits: T_OBS").
UtcTime parse_utc(std::string_view text, TimeParser parser, std::string_view context);

// Sign of a − b as astropy's Time comparison computes it: (a.jd1 − b.jd1) + (a.jd2 − b.jd2), in UTC.
int compare(const UtcTime& a, const UtcTime& b);

// (a − b).to(u.day).value as astropy computes it: both converted to TAI (erfa.utctai + day_frac), the
// pairs subtracted and normalised (day_frac), then jd1 + jd2.
double tai_days_between(const UtcTime& a, const UtcTime& b);

// TAI − UTC in seconds at 0h UTC of this date (leap-second table above). Throws before 1972.
double tai_minus_utc(int year, int month, int day);

namespace time_detail {  // the building blocks, exposed for the tests
JdPair day_frac(double a, double b);  // astropy.time.utils.day_frac(a, b)
JdPair day_frac(double a, double b, double divisor);  // day_frac(a, b, divisor=…)
JdPair utc_to_tai(JdPair utc);  // day_frac(*erfa.utctai(jd1, jd2))
JdPair utc_from_civil(int year, int month, int day, int hour, int minute, double second);  // dtf2d + day_frac
}  // namespace time_detail

}  // namespace aiaccel::reference
