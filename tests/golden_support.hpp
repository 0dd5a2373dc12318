// Access to the aiapy goldens in testdata/golden/aiapy-<version>/ (tools/oracle/golden_aiapy.py).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/image.hpp"

namespace aiaccel::test {

// items/<item with ':' → '__'>.json of that aiapy version, or nullopt when that golden is absent.
std::optional<nlohmann::json> golden_item(const std::string& aiapy_version, const std::string& item);
// Array stored with an item (its "files" entry `key`), read through our FITS reader.
Image<double> golden_array(const nlohmann::json& item, const std::string& key);
// {"hex": ...} / {"repr": ...} / number → double, bit-exact for hex.
double golden_double(const nlohmann::json& v);
// The oracle's reductions: arr.reshape(R/16, 16, C/16, 16).sum(axis=(1, 3)), and a window given as
// {"row0", "row1", "col0", "col1"} (inclusive).
Image<double> block_sum16(const Image<double>& a);
Image<double> window_of(const Image<double>& a, const nlohmann::json& w);

}  // namespace aiaccel::test
