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

}  // namespace aiaccel::test
