// Reference vs real aiapy for the calibration functions of a prep run — aiapy.calibrate
// update_pointing, degradation, correct_degradation (0.10.2 calibrate/{meta,prep}.py, 0.12.1 the
// same) and exposure normalisation (sunpy `map / map.exposure_time`) — against the goldens
// (testdata/golden/aiapy-<v>/items/{update_pointing,degradation,correct_degradation,exposure}.json).
// The calibration golden tests and `aiaccel validate --stages prep` both call these.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "validate/golden_store.hpp"
#include "validate/verdict.hpp"

namespace aiaccel::validate {

struct CalibrationComparison {
    std::string what, version;  // "update_pointing", "0.12.1"
    // No pixel comparison (has_image = false). Extras, judged with the "prep" rows of the table:
    // factor_rel (worst relative error of a degradation factor), crpix_abs (worst |ΔCRPIX| px),
    // header_mismatch (header values not bit-identical, keys present/absent wrongly, warning counts),
    // data_mismatch (output pixels, sha256, BUNIT, shape not identical; input changed), dtype_mismatch,
    // refusal_mismatch (aiapy refused and we did not, or the reverse). `problems` says which.
    Measurement measurement;
    int results = 0, refusals = 0;  // golden results checked; of those, refusals matched
    int factors = 0, factors_bitwise = 0;  // degradation factors compared / bit-identical
    int header_values = 0, header_exact = 0;
    int outputs = 0;  // output maps compared bit for bit
    std::string summary() const;
};

CalibrationComparison calibration_comparison(std::string what, std::string version);  // empty, all extras 0
void merge(CalibrationComparison& into, const CalibrationComparison& part);  // worst-of / sums

// Each returns nullopt when the golden record (or one it needs, e.g. full_disk) is absent. `input`
// keeps only the results on that golden input key ("" = all); `table` only that table ("V10", "V8");
// `item` names the record ("correct_degradation:synoptic" holds the synoptic files' results).
std::optional<CalibrationComparison> degradation_vs_golden(const GoldenStore& g, std::string_view version, std::string_view table = "");
std::optional<CalibrationComparison> correct_degradation_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input = "",
                                                                   std::string_view item = "correct_degradation");
std::optional<CalibrationComparison> exposure_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input = "",
                                                        std::string_view item = "exposure");
std::optional<CalibrationComparison> update_pointing_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input = "");

}  // namespace aiaccel::validate
