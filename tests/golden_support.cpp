// Golden access helpers.
#include "tests/golden_support.hpp"

#include <cstdlib>
#include <fstream>

#include "core/fits_io.hpp"
#include "tests/test_support.hpp"

namespace aiaccel::test {

std::optional<nlohmann::json> golden_item(const std::string& aiapy_version, const std::string& item) {
    std::string name = item;
    for (std::size_t p = name.find(':'); p != std::string::npos; p = name.find(':')) name.replace(p, 1, "__");
    std::ifstream in(testdata() / "golden" / ("aiapy-" + aiapy_version) / "items" / (name + ".json"));
    if (!in) return std::nullopt;
    return nlohmann::json::parse(in);
}

Image<double> golden_array(const nlohmann::json& item, const std::string& key) {
    std::string rel = item.at("files").at(key).at("file").get<std::string>();  // "testdata/golden/..."
    const std::string prefix = "testdata/";
    if (rel.rfind(prefix, 0) == 0) rel = rel.substr(prefix.size());
    return read_fits((testdata() / rel).string()).data;
}

double golden_double(const nlohmann::json& v) {
    if (v.is_object()) {
        if (v.contains("hex")) return std::strtod(v.at("hex").get<std::string>().c_str(), nullptr);
        return std::strtod(v.at("repr").get<std::string>().c_str(), nullptr);
    }
    return v.get<double>();
}

}  // namespace aiaccel::test
