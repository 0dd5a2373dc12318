// Access to the aiapy goldens in testdata/golden/aiapy-<version>/ for the tests: thin wrappers over
// validate/golden_store.hpp (the one reader `aiaccel validate` uses too), rooted at $AIACCEL_TESTDATA.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/image.hpp"
#include "validate/golden_store.hpp"

namespace aiaccel::test {

// The store over $AIACCEL_TESTDATA (real files from testdata/aia, else $AIA_DATA_DIR).
const validate::GoldenStore& golden_store();
// items/<item with ':' → '__'>.json of that aiapy version, or nullopt when that golden is absent.
std::optional<nlohmann::json> golden_item(const std::string& aiapy_version, const std::string& item);
// Array stored with an item (its "files" entry `key`), read through our FITS reader.
Image<double> golden_array(const nlohmann::json& item, const std::string& key);
// {"hex": ...} / {"repr": ...} / number → double, bit-exact for hex.
double golden_double(const nlohmann::json& v);

}  // namespace aiaccel::test
