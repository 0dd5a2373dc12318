// Reference port of aiapy.calibrate's header and intensity corrections (see calibrate_reference.hpp):
//  * update_pointing — aiapy 0.10.2 and 0.12.1 calibrate/meta.py update_pointing;
//  * degradation, correct_degradation — 0.10.2 calibrate/prep.py + util._select_epoch_from_correction_table,
//    0.12.1 calibrate/prep.py + utils._select_epoch_from_correction_table;
//  * normalize_exposure — sunpy 7.0.5 GenericMap.__truediv__ (= map * (1/value)), _new_instance_from_op
//    (BUNIT from the result unit) and AIAMap.unit (BUNIT, else PIXLUNIT).
// Header times follow sunpy: AIAMap.reference_date (T_OBS first) and GenericMap.date (DATE-OBS first),
// parsed with sunpy.time.parse_time; time arithmetic is astropy's (aia_time.hpp).
#include "reference/calibrate_reference.hpp"
#include "core/strings.hpp"
#include "reference/register_reference.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.hpp"

namespace aiaccel::reference {
namespace {

// ---- numpy argsort(kind='quicksort') of a unicode array (numpy 2.4 string_aquicksort_ +
// string_aheapsort_): introsort, median-of-3 pivot, insertion sort below 16 elements. Unstable for
// more than 16 equal keys, which decides the row order of aiapy 0.10.2's table.sort("DATE").
void heap_argsort(const std::vector<std::string>& key, std::size_t* first, std::ptrdiff_t n) {
    std::size_t* a = first - 1;  // 1-based heap
    const auto less = [&](std::size_t x, std::size_t y) { return key[x] < key[y]; };
    // Moves `tmp` down from position i of the heap a[1..n].
    const auto sift_down = [&](std::size_t tmp, std::ptrdiff_t i, std::ptrdiff_t n_heap) {
        for (std::ptrdiff_t j = i << 1; j <= n_heap; j += j) {
            if (j < n_heap && less(a[j], a[j + 1])) ++j;
            if (!less(tmp, a[j])) break;
            a[i] = a[j];
            i = j;
        }
        a[i] = tmp;
    };
    for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift_down(a[l], l, n);
    for (; n > 1;) {
        const std::size_t tmp = a[n];
        a[n] = a[1];
        --n;
        sift_down(tmp, 1, n);
    }
}

std::vector<std::size_t> numpy_quicksort_argsort(const std::vector<std::string>& key) {
    std::vector<std::size_t> idx(key.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    if (idx.size() < 2) return idx;
    const auto less = [&](std::size_t x, std::size_t y) { return key[x] < key[y]; };
    std::size_t* v = idx.data();
    std::ptrdiff_t pl = 0, pr = static_cast<std::ptrdiff_t>(idx.size()) - 1;
    int depth = 0;
    for (std::size_t n = idx.size(); n >>= 1;) ++depth;
    depth *= 2;
    std::vector<std::pair<std::ptrdiff_t, std::ptrdiff_t>> stack;
    std::vector<int> depths;
    for (;;) {
        if (depth < 0) {
            heap_argsort(key, v + pl, pr - pl + 1);
        } else {
            while (pr - pl > 15) {
                const std::ptrdiff_t pm = pl + ((pr - pl) >> 1);
                if (less(v[pm], v[pl])) std::swap(v[pm], v[pl]);
                if (less(v[pr], v[pm])) std::swap(v[pr], v[pm]);
                if (less(v[pm], v[pl])) std::swap(v[pm], v[pl]);
                const std::size_t pivot = v[pm];
                std::ptrdiff_t pi = pl, pj = pr - 1;
                std::swap(v[pm], v[pj]);
                for (;;) {
                    do ++pi;
                    while (less(v[pi], pivot));
                    do --pj;
                    while (less(pivot, v[pj]));
                    if (pi >= pj) break;
                    std::swap(v[pi], v[pj]);
                }
                std::swap(v[pi], v[pr - 1]);
                if (pi - pl < pr - pi) {
                    stack.emplace_back(pi + 1, pr);
                    pr = pi - 1;
                } else {
                    stack.emplace_back(pl, pi - 1);
                    pl = pi + 1;
                }
                depths.push_back(--depth);
            }
            for (std::ptrdiff_t pi = pl + 1; pi <= pr; ++pi) {  // insertion sort (stable)
                const std::size_t vi = v[pi];
                std::ptrdiff_t pj = pi;
                while (pj > pl && less(vi, v[pj - 1])) {
                    v[pj] = v[pj - 1];
                    --pj;
                }
                v[pj] = vi;
            }
        }
        if (stack.empty()) break;
        std::tie(pl, pr) = stack.back();
        stack.pop_back();
        depth = depths.back();
        depths.pop_back();
    }
    return idx;
}

// ---- header access as sunpy does it ----------------------------------------------------------

std::string format_fixed0(double v, int width) {  // Python f"{v:0{width}.0f}"
    char buf[64];
    std::snprintf(buf, sizeof buf, "%0*.0f", width, v);
    return buf;
}

double wavelength_angstrom(const AiaImage& img) {
    const auto unit = img.header.get_string("WAVEUNIT");
    if (unit && *unit != "angstrom" && *unit != "Angstrom" && *unit != "A")
        throw file_error(ErrorKind::unsupported, img.path, "WAVEUNIT '" + *unit + "' (only angstrom is supported)");
    return img.aia().wavelength();
}

void check_timesys(const AiaImage& img) {
    const auto ts = img.header.get_string("TIMESYS");
    if (ts && *ts != "UTC" && *ts != "utc")
        throw file_error(ErrorKind::unsupported, img.path, "TIMESYS '" + *ts + "' (only UTC header times are supported)");
}

// First present, non-empty keyword of `keys`, parsed as sunpy.time.parse_time does. When `skip_bad`,
// an unparsable value falls through to the next keyword (sunpy's is_time() guard on DATE-OBS).
UtcTime header_time(const AiaImage& img, std::initializer_list<const char*> keys, bool skip_bad, const char* what) {
    check_timesys(img);
    for (const char* k : keys) {
        const auto s = img.header.get_string(k);
        if (!s || s->empty()) continue;
        try {
            return parse_utc(*s, TimeParser::sunpy, img.path + ": " + k);
        } catch (const Error&) {
            if (!skip_bad) throw;
        }
    }
    std::string list;
    for (const char* k : keys) append_joined(list, ", ", k);
    throw file_error(ErrorKind::missing_keyword, img.path, std::string("no ") + what + " keyword (" + list + ")");
}

// AIAMap.reference_date: T_OBS, else GenericMap.reference_date (DATE-AVG, DATE-OBS, DATE-BEG, DATE-END).
UtcTime reference_date(const AiaImage& img) {
    const auto t_obs = img.header.get_string("T_OBS");
    if (t_obs && !t_obs->empty()) return header_time(img, {"T_OBS"}, false, "observation time");
    const auto avg = img.header.get_string("DATE-AVG");
    if (avg && !avg->empty()) return header_time(img, {"DATE-AVG"}, false, "observation time");
    return header_time(img, {"DATE-OBS", "DATE_OBS", "DATE-BEG", "DATE-END"}, true, "observation time");
}
// GenericMap.date: DATE-OBS (or DATE_OBS), DATE-BEG, DATE-AVG, DATE-END.
UtcTime map_date(const AiaImage& img) {
    return header_time(img, {"DATE-OBS", "DATE_OBS", "DATE-BEG", "DATE-AVG", "DATE-END"}, true, "observation date");
}

double require_number(const AiaImage& img, const char* key) {
    if (!img.header.has(key)) throw file_error(ErrorKind::missing_keyword, img.path, std::string(key) + " is missing");
    const auto v = img.header.get_double(key);
    if (!v) throw file_error(ErrorKind::missing_keyword, img.path, std::string(key) + " is not a number");
    return *v;
}

// ---- the map's unit (AIAMap.unit + GenericMap._parse_fits_unit) and astropy's to_string ---------
// Only units this port can format exactly are accepted; others are refused rather than guessed.
struct MapUnit {
    std::string name;  // "" = dimensionless (no BUNIT/PIXLUNIT)
};
MapUnit map_unit(const AiaImage& img) {
    const char* key = img.header.has("BUNIT") ? "BUNIT" : img.header.has("PIXLUNIT") ? "PIXLUNIT" : nullptr;
    if (!key) return {};
    const std::string s = img.header.get_string(key).value_or("");
    if (s.empty()) return {};
    if (s == "DN" || s == "ct") return {s};
    throw file_error(ErrorKind::unsupported, img.path, std::string(key) + " '" + s + "': only DN, ct or no unit are supported for map arithmetic");
}

}  // namespace

// ---- update_pointing ---------------------------------------------------------------------------

PointingUpdate update_pointing(AiaImage& img, const PointingTable& table, AiapyVersion version, const FullDiskCheckFn& contains_full_disk) {
    const bool v010 = version == AiapyVersion::v0_10_2;
    PointingUpdate res;
    if (v010) {
        // aiapy 0.10.2 checks contains_full_disk first, then the shape; both refuse with ValueError. The
        // shape is checked first here (cheap, and contains_full_disk needs a helioprojective WCS):
        // the same images are refused, only the message of a both-ways-bad image differs.
        if (img.data.rows() != 4096 || img.data.cols() != 4096)
            throw file_error(ErrorKind::bad_value, img.path,
                             "aiapy 0.10.2 update_pointing needs a full-resolution 4096x4096 image, this one is " + std::to_string(img.data.cols()) +
                                 "x" + std::to_string(img.data.rows()) + " (aiapy 0.12.1 semantics accept cut-outs)");
        const bool full_disk = contains_full_disk ? contains_full_disk(img) : reference::contains_full_disk(img).full_disk;
        if (!full_disk)
            throw file_error(ErrorKind::bad_value, img.path, "aiapy 0.10.2 update_pointing needs an image that contains the full solar disk");
    } else {
        const double c1 = require_number(img, "CDELT1"), c2 = require_number(img, "CDELT2");
        if (!(std::fabs(c1 / 0.6 - 1) < 0.01 && std::fabs(c2 / 0.6 - 1) < 0.01))
            res.warnings.push_back("Input map has plate scale " + FitsHeader::format_real(c1) + ", " + FitsHeader::format_real(c2) +
                                   " arcsec / pix which is significantly different than 0.6 arcsec / pix; "
                                   "the updated pointing is likely incorrect.");
    }

    // Row: first with T_START <= T_OBS < T_STOP (comparisons in UTC, as astropy).
    const UtcTime t = reference_date(img);
    const TimeParser table_parser = v010 ? TimeParser::astropy : TimeParser::sunpy;
    std::size_t row = table.rows.size();
    for (std::size_t i = 0; i < table.rows.size() && row == table.rows.size(); ++i) {
        const auto& r = table.rows[i];
        const std::string where = table.path + ":" + std::to_string(r.line);
        if (compare(t, parse_utc(r.t_start, table_parser, where + ": T_START")) >= 0 &&
            compare(t, parse_utc(r.t_stop, table_parser, where + ": T_STOP")) < 0)
            row = i;
    }
    if (row == table.rows.size())
        throw file_error(ErrorKind::bad_value, img.path,
                         "no row of the pointing table " + table.path + " covers " + t.text + " (T_START " +
                             (table.rows.empty() ? "-" : table.rows.front().t_start) + " to T_STOP " +
                             (table.rows.empty() ? "-" : table.rows.back().t_stop) + ")");
    res.row = row;

    const std::string w = format_fixed0(wavelength_angstrom(img), 3);
    const auto value = [&](const char* q) {
        const std::string name = "A_" + w + "_" + q;
        const int c = table.column(name);
        if (c < 0) throw file_error(ErrorKind::bad_value, table.path, "no column " + name + " for this " + w + " A image (" + img.path + ")");
        return table.rows[row].values[static_cast<std::size_t>(c)];
    };
    const double x0 = value("X0"), y0 = value("Y0"), cdelt = value("IMSCALE"), instrot = value("INSTROT");
    const double crota2 = instrot + require_number(img, "SAT_ROT");

    std::vector<std::pair<const char*, double>> updates;
    if (v010) {
        updates = {{"CRPIX1", x0 + 1}, {"CRPIX2", y0 + 1}, {"X0_MP", x0}, {"Y0_MP", y0}, {"CDELT1", cdelt}, {"CDELT2", cdelt}, {"CROTA2", crota2}};
    } else {
        // sunpy reference_pixel = CRPIX − 1 (CRPIX defaults to (NAXIS + 1)/2); aiapy adds 1 back.
        const auto crpix_or_centre = [&](const char* key, std::size_t n) {
            return img.header.has(key) ? require_number(img, key) : (static_cast<double>(n) + 1) / 2.0;
        };
        double crpix1 = (crpix_or_centre("CRPIX1", img.data.cols()) - 1) + 1;
        double crpix2 = (crpix_or_centre("CRPIX2", img.data.rows()) - 1) + 1;
        if (img.header.has("X0_MP") && img.header.has("Y0_MP")) {
            crpix1 += x0 - require_number(img, "X0_MP");
            crpix2 += y0 - require_number(img, "Y0_MP");
        } else {
            res.warnings.push_back("x0_mp and/or y0_mp keywords are missing. Skipping reference pixel update.");
        }
        updates = {{"CRPIX1", crpix1}, {"CRPIX2", crpix2}, {"CDELT1", cdelt}, {"CDELT2", cdelt}, {"CROTA2", crota2}, {"X0_MP", x0}, {"Y0_MP", y0}};
    }
    for (const auto& [key, v] : updates) {
        if (std::isnan(v)) {
            std::string k = key;
            for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            res.warnings.push_back("Missing value in pointing table for " + k + ". This key will not be updated.");
        } else {
            img.header.set_double(key, v);
        }
    }
    for (const char* pc : {"PC1_1", "PC1_2", "PC2_1", "PC2_2"}) img.header.erase(pc);
    return res;
}

// ---- degradation -------------------------------------------------------------------------------

DegradationTerms degradation_terms(int channel, const UtcTime& obstime, const ResponseTable& table, const DegradationOptions& opt) {
    if (!find_channel(channel))
        throw Error(ErrorKind::bad_value, "degradation: " + std::to_string(channel) + " A is not an AIA channel (" + known_channels_text() + ")");
    const bool v010 = opt.version == AiapyVersion::v0_10_2;
    const bool no_suffix = channel == 1600 || channel == 1700 || channel == 4500;
    const std::string wave_str = format_fixed0(channel, 1) + (no_suffix ? "" : "_THIN");

    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < table.rows.size(); ++i)
        if (table.rows[i].wave_str == wave_str) rows.push_back(i);
    int version = opt.calibration_version;
    if (v010) {
        std::vector<std::string> dates;
        for (std::size_t i : rows) dates.push_back(table.rows[i].date);
        const auto order = numpy_quicksort_argsort(dates);
        std::vector<std::size_t> sorted;
        for (std::size_t k : order) sorted.push_back(rows[k]);
        rows = std::move(sorted);
        if (rows.empty())
            throw file_error(
                ErrorKind::bad_value, table.path,
                "no calibration for " + std::to_string(channel) + " A (WAVE_STR " + wave_str + ")" + (channel == 4500 ? "; max version is 3" : ""));
    } else {
        if (channel == 4500) version = std::min(version, 3);
        std::vector<std::size_t> kept;
        for (std::size_t i : rows)
            if (table.rows[i].ver_num == version) kept.push_back(i);
        rows = std::move(kept);
        if (rows.empty())
            throw file_error(
                ErrorKind::bad_value, table.path,
                "no calibration for " + std::to_string(channel) + " A (WAVE_STR " + wave_str + ") and version " + std::to_string(version));
    }

    const TimeParser parser = v010 ? TimeParser::astropy : TimeParser::sunpy;
    std::size_t epoch = table.rows.size();
    UtcTime epoch_start;
    for (std::size_t i : rows) {
        const auto& r = table.rows[i];
        const std::string where = table.path + ":" + std::to_string(r.line);
        UtcTime start = parse_utc(r.t_start, parser, where + ": T_START");
        if (compare(obstime, start) >= 0 && compare(obstime, parse_utc(r.t_stop, parser, where + ": T_STOP")) < 0) {
            epoch = i;  // the last valid row wins (most recent entry)
            epoch_start = std::move(start);
        }
    }
    if (epoch == table.rows.size())
        throw file_error(ErrorKind::bad_value, table.path, "no valid calibration epoch for " + obstime.text + " (" + wave_str + ")");

    DegradationTerms d;
    d.first_row = rows.front();
    d.epoch_row = epoch;
    const auto& e = table.rows[epoch];
    d.dt_days = tai_days_between(obstime, epoch_start);
    d.ratio = e.eff_area / table.rows[d.first_row].eff_area;
    // dt is a numpy float64 scalar: dt**2 and dt**3 are C pow() calls (a volatile exponent keeps the
    // compiler from turning pow(dt, 2) into dt*dt).
    volatile double two = 2.0, three = 3.0;
    const double dt = d.dt_days;
    d.poly = ((e.effa_p1 * dt + e.effa_p2 * std::pow(dt, static_cast<double>(two))) + e.effa_p3 * std::pow(dt, static_cast<double>(three))) + 1.0;
    d.factor = d.poly * d.ratio;
    return d;
}

double degradation(int channel, const UtcTime& obstime, const ResponseTable& table, const DegradationOptions& opt) {
    return degradation_terms(channel, obstime, table, opt).factor;
}

double correct_degradation(AiaImage& img, const ResponseTable& table, const DegradationOptions& opt) {
    const double wl = wavelength_angstrom(img);
    const auto ch = find_channel(wl);
    if (!ch) throw file_error(ErrorKind::not_aia, img.path, "WAVELNTH " + FitsHeader::format_real(wl) + " is not an AIA channel");
    const MapUnit unit = map_unit(img);
    const double d = degradation(ch->wavelength, map_date(img), table, opt);
    const double inv = 1.0 / d;  // sunpy: map / d = map * (1/d)
    for (double& v : img.data.pixels()) v = v * inv;
    img.dtype = PixelType::f64;
    img.header.set_string("BUNIT", unit.name);
    return d;
}

// ---- exposure ----------------------------------------------------------------------------------

void normalize_exposure(AiaImage& img) {
    const auto timeunit = img.header.get_string("TIMEUNIT");
    if (timeunit && *timeunit != "s") throw file_error(ErrorKind::unsupported, img.path, "TIMEUNIT '" + *timeunit + "' (only s is supported)");
    // GenericMap.exposure_time: meta.get('xposure') or meta.get('exptime').
    const auto xposure = img.header.get_double("XPOSURE");
    const bool use_x = xposure && *xposure != 0.0;
    const char* key = use_x ? "XPOSURE" : "EXPTIME";
    if (!use_x && !img.header.has("EXPTIME")) throw file_error(ErrorKind::missing_keyword, img.path, "EXPTIME (exposure time) is missing");
    const double t = use_x ? *xposure : require_number(img, "EXPTIME");
    if (!(t > 0.0) || !std::isfinite(t))
        throw file_error(ErrorKind::bad_value, img.path, std::string(key) + " = " + FitsHeader::format_real(t) + " s is not a usable exposure time");
    const MapUnit unit = map_unit(img);
    const double inv = 1.0 / t;  // sunpy: map / q = map * (1/q); a 0-d float64 → float64 result (numpy >= 2)
    for (double& v : img.data.pixels()) v = v * inv;
    img.dtype = PixelType::f64;
    img.header.set_string("BUNIT", (unit.name.empty() ? std::string("1") : unit.name) + " / s");
}

}  // namespace aiaccel::reference
