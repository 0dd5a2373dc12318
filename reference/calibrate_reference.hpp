// Reference header/data corrections of aiapy.calibrate: update_pointing (master-pointing table from a
// local file), degradation / correct_degradation (SSW response table), exposure normalisation.
// Ports aiapy 0.10.2 (calibrate/meta.py, prep.py, util.py) and 0.12.1 (meta.py, prep.py, utils.py)
// with the sunpy 7.0.5 map semantics they rely on (reference_date, date, map arithmetic).
// docs/algorithms.md §3.1, §3.5, §5, §7.11, §7.12. Tables are always local files; nothing is fetched.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/aia_image.hpp"
#include "core/aiapy_version.hpp"
#include "reference/aia_time.hpp"

namespace aiaccel::reference {

// --- master pointing table -----------------------------------------------------------------
// The table aiapy reads with astropy.io.ascii (the LMSAL/GitHub CSV, or a JSOC export saved as text):
// a header line naming the columns, then one row per 3-hour window. Comma-separated if the header
// line holds a comma, else whitespace-separated; lines starting with '#' (e.g. an ECSV preamble) are
// skipped. Needed: T_START, T_STOP and, per channel WWW ("094" … "4500"), A_WWW_X0, A_WWW_Y0,
// A_WWW_IMSCALE, A_WWW_INSTROT. Empty cells are missing values (NaN, as aiapy's filled(nan)).
struct PointingTable {
    struct Row {
        std::string t_start, t_stop;  // as written
        std::vector<double> values;  // one per value_columns entry; NaN where the cell is empty
        std::size_t line = 0;  // 1-based line in the file
    };
    std::string path;
    std::vector<std::string> value_columns;  // every A_<channel>_{X0,Y0,IMSCALE,INSTROT} column
    std::vector<Row> rows;

    int column(std::string_view name) const;  // index into Row::values, or −1
};
// Throws Error(unreadable) if the file cannot be read, Error(bad_value) naming file, line and column
// for a malformed table (missing column, wrong field count, non-numeric value, unparsable time).
PointingTable read_pointing_table(const std::string& path);

struct PointingUpdate {
    std::size_t row = 0;  // index of the table row used
    std::vector<std::string> warnings;  // what aiapy warns about (AIApyUserWarning), in its words
};

// sunpy.map.maputils.contains_full_disk; aiapy 0.10.2 refuses maps without the full disk. The check
// belongs to the register port (register_reference.hpp), so it is passed in here.
using FullDiskCheckFn = std::function<bool(const AiaImage&)>;

// aiapy update_pointing. Row: the first with T_START <= T_OBS < T_STOP (sunpy AIAMap.reference_date);
// none → Error(bad_value). Updates CRPIX1/2, CDELT1/2, CROTA2 (= INSTROT + SAT_ROT), X0_MP, Y0_MP, skips
// any whose table value is NaN (warning), removes PC1_1 … PC2_2. Data untouched.
//  * 0.10.2: CRPIX = X0 + 1. Refuses (Error(bad_value), naming the file) images that are not 4096×4096
//    or do not contain the full disk (`contains_full_disk`, default: reference::contains_full_disk).
//  * 0.12.1: CRPIX = ((CRPIX − 1) + 1) + (X0_table − X0_MP header) (works for cut-outs); skips that
//    shift (warning) when X0_MP/Y0_MP are absent; warns when CDELT is not within 1 % of 0.6″.
PointingUpdate update_pointing(AiaImage& img, const PointingTable& table, AiapyVersion version = kDefaultAiapyVersion,
                               const FullDiskCheckFn& contains_full_disk = {});

// --- degradation ------------------------------------------------------------------------------
// An SSW AIA response table (aia_V*_response_table.txt): whitespace-separated, header line first.
struct ResponseTable {
    struct Row {
        std::string date, wave_str, t_start, t_stop;  // DATE, WAVE_STR, T_START, T_STOP as written
        double ver_num = 0, wavelnth = 0, eff_area = 0, eff_wvln = 0, effa_p1 = 0, effa_p2 = 0, effa_p3 = 0;
        std::size_t line = 0;
    };
    std::string path;
    std::vector<Row> rows;  // file order
};
ResponseTable read_response_table(const std::string& path);

struct DegradationOptions {
    AiapyVersion version = kDefaultAiapyVersion;
    // 0.12.1 only (0.10.2 has no such argument and does not filter VER_NUM): keep rows with
    // VER_NUM == calibration_version (4500 Å: min(calibration_version, 3)).
    int calibration_version = 10;
};

struct DegradationTerms {
    std::size_t first_row = 0, epoch_row = 0;  // indices into ResponseTable::rows
    double dt_days = 0;  // obstime − T_START(epoch), in TAI days
    double ratio = 0;  // EFF_AREA(epoch) / EFF_AREA(first)
    double poly = 0;  // ((P1·dt + P2·dt²) + P3·dt³) + 1
    double factor = 0;  // poly · ratio
};
// aiapy degradation(channel, obstime) for one time. Rows of WAVE_STR "171_THIN" ("1600", "1700",
// "4500" without suffix); 0.10.2 sorts them by DATE (numpy's unstable quicksort, as astropy's
// Table.sort), 0.12.1 filters VER_NUM; first row = launch epoch, epoch = last row with
// T_START <= obstime < T_STOP. Errors (bad_value): unknown channel, no rows, no valid epoch.
DegradationTerms degradation_terms(int channel, const UtcTime& obstime, const ResponseTable& table, const DegradationOptions& opt = {});
double degradation(int channel, const UtcTime& obstime, const ResponseTable& table, const DegradationOptions& opt = {});

// aiapy correct_degradation(map) = map / degradation(map.wavelength, map.date): data·(1/d) in float64
// (t = DATE-OBS as sunpy parses it), dtype float64, BUNIT = the map's unit as astropy writes it.
// Returns the factor d.
double correct_degradation(AiaImage& img, const ResponseTable& table, const DegradationOptions& opt = {});

// --- exposure ----------------------------------------------------------------------------------
// sunpy `map / map.exposure_time` (the documented replacement of normalize_exposure): data·(1/EXPTIME)
// in float64 (numpy ≥ 2: the 0-d float64 divisor is strongly typed), dtype float64, BUNIT = unit + " / s"
// ("DN / s" for AIA, whose unit comes from PIXLUNIT). XPOSURE is used instead when present and non-zero.
// Errors: missing_keyword without EXPTIME; bad_value for a zero/negative/non-finite exposure (sunpy
// would divide by it); unsupported for a TIMEUNIT other than s or a BUNIT this port cannot format.
void normalize_exposure(AiaImage& img);

}  // namespace aiaccel::reference
