// Golden access helpers for the tests (validate::GoldenStore over $AIACCEL_TESTDATA).
#include "tests/golden_support.hpp"

#include <cstdlib>

#include "tests/test_support.hpp"

namespace aiaccel::test {

const validate::GoldenStore& golden_store() {
    static const validate::GoldenStore store(testdata(), std::getenv("AIA_DATA_DIR") ? std::getenv("AIA_DATA_DIR") : "");
    return store;
}

std::optional<nlohmann::json> golden_item(const std::string& aiapy_version, const std::string& item) {
    return golden_store().item(aiapy_version, item);
}

Image<double> golden_array(const nlohmann::json& item, const std::string& key) { return golden_store().array(item, key); }

double golden_double(const nlohmann::json& v) { return validate::golden_double(v); }

}  // namespace aiaccel::test
