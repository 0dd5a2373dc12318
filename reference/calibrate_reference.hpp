// Reference header/data corrections of aiapy.calibrate: update_pointing (master-pointing table from a
// local file), degradation / correct_degradation (SSW response table), exposure normalisation.
// ALGORITHMS.md §3.1, §3.5, §5.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/aia_image.hpp"
#include "core/aiapy_version.hpp"

namespace aiaccel::reference {

// --- master pointing table -----------------------------------------------------------------
struct PointingRow {
    std::string t_start, t_stop;  // ISO times as in the table
    // Per channel (wavelength → X0, Y0, IMSCALE, INSTROT); NaN = missing value.
    struct Values { int wavelength; double x0, y0, imscale, instrot; };
    std::vector<Values> values;
};
struct PointingTable {
    std::string path;
    std::vector<PointingRow> rows;
};
PointingTable read_pointing_table(const std::string& path);  // format: see testdata/golden/README.md
void update_pointing(AiaImage& img, const PointingTable& table, AiapyVersion version = kDefaultAiapyVersion);

// --- degradation ------------------------------------------------------------------------------
struct ResponseTable;  // opaque rows of an SSW response table
std::shared_ptr<const ResponseTable> read_response_table(const std::string& path);
double degradation(int channel, const std::string& time_utc, const ResponseTable& table,
                   AiapyVersion version = kDefaultAiapyVersion, int calibration_version = 10);
void correct_degradation(AiaImage& img, const ResponseTable& table,
                         AiapyVersion version = kDefaultAiapyVersion, int calibration_version = 10);

// --- exposure ----------------------------------------------------------------------------------
// map / map.exposure_time as sunpy does it: data · (1/EXPTIME), BUNIT "DN / s"? (see source), dtype rules.
void normalize_exposure(AiaImage& img);

}  // namespace aiaccel::reference
