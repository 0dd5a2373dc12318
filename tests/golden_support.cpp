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

Image<double> block_sum16(const Image<double>& a) {
    Image<double> b(a.rows() / 16, a.cols() / 16, 0.0);
    for (std::size_t i = 0; i < a.rows(); ++i)
        for (std::size_t j = 0; j < a.cols(); ++j) b(i / 16, j / 16) += a(i, j);
    return b;
}

Image<double> window_of(const Image<double>& a, const nlohmann::json& w) {
    const auto r0 = w.at("row0").get<std::size_t>(), r1 = w.at("row1").get<std::size_t>();
    const auto c0 = w.at("col0").get<std::size_t>(), c1 = w.at("col1").get<std::size_t>();
    Image<double> out(r1 - r0 + 1, c1 - c0 + 1);
    for (std::size_t i = r0; i <= r1; ++i)
        for (std::size_t j = c0; j <= c1; ++j) out(i - r0, j - c0) = a(i, j);
    return out;
}

}  // namespace aiaccel::test
