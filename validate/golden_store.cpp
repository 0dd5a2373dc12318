// Golden records, arrays and inputs (see golden_store.hpp).
#include "validate/golden_store.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>

#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;

double golden_double(const nlohmann::json& v) {
    if (v.is_object()) {
        if (v.contains("hex")) return std::strtod(v.at("hex").get<std::string>().c_str(), nullptr);
        return std::strtod(v.at("repr").get<std::string>().c_str(), nullptr);
    }
    if (v.is_string()) return std::strtod(v.get<std::string>().c_str(), nullptr);  // "nan", "inf", "-inf"
    return v.get<double>();
}

GoldenStore::GoldenStore(fs::path testdata, fs::path data_dir) : testdata_(std::move(testdata)), data_dir_(std::move(data_dir)) {}

fs::path GoldenStore::item_path(std::string_view version, std::string_view item) const {
    std::string name(item);
    for (std::size_t p = name.find(':'); p != std::string::npos; p = name.find(':')) name.replace(p, 1, "__");
    return testdata_ / "golden" / ("aiapy-" + std::string(version)) / "items" / (name + ".json");
}

std::optional<nlohmann::json> GoldenStore::item(std::string_view version, std::string_view item) const {
    const fs::path p = item_path(version, item);
    std::ifstream in(p);
    if (!in) return std::nullopt;
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw file_error(ErrorKind::bad_value, p.string(), std::string("golden record is not valid JSON: ") + e.what());
    }
}

fs::path GoldenStore::resolve(const std::string& recorded) const {
    const std::string prefix = "testdata/";
    return recorded.rfind(prefix, 0) == 0 ? testdata_ / recorded.substr(prefix.size()) : testdata_ / recorded;
}

Image<double> GoldenStore::array(const nlohmann::json& item, const std::string& key) const {
    return read_fits(resolve(item.at("files").at(key).at("file").get<std::string>()).string()).data;
}

const std::map<std::string, std::string>& GoldenStore::input_files() {
    static const std::map<std::string, std::string> m = {
        {"aia_171_level1", "aia_171_level1.fits"},
        {"aia_171_cutout", "aia_171_cutout.fits"},
        {"lowres_1600", kDerived1600Source},
        {"cutout_1600_lev1", "20120606_040731_UTC.0041.fits"},
        {"cutout_1600_lev15_ssw", "AIA20120606_040729_1600.fits"},
        // The JSOC synoptic level-1.5 1024² images (AIA_DATA_DIR/synoptic, MANIFEST.md): no goldens yet.
        {"synoptic_0094", "synoptic/AIA20140101_0000_0094.fits"},
        {"synoptic_0131", "synoptic/AIA20140101_0000_0131.fits"},
        {"synoptic_0171", "synoptic/AIA20140101_0000_0171.fits"},
        {"synoptic_0193", "synoptic/AIA20140101_0000_0193.fits"},
        {"synoptic_0211", "synoptic/AIA20140101_0000_0211.fits"},
        {"synoptic_0335", "synoptic/AIA20140101_0000_0335.fits"},
    };
    return m;
}

fs::path GoldenStore::real_file(const std::string& name) const {
    std::error_code ec;
    const fs::path a = testdata_ / "aia" / name;
    if (fs::is_regular_file(a, ec)) return a;
    if (!data_dir_.empty() && fs::is_regular_file(data_dir_ / name, ec)) return data_dir_ / name;
    throw file_error(ErrorKind::unreadable, name,
                     fmt::format("not found in {} nor in {} (AIA_DATA_DIR; tools/fetch-data fetches it)", (testdata_ / "aia").string(),
                                 data_dir_.empty() ? std::string("<no data folder>") : data_dir_.string()));
}

const AiaImage& GoldenStore::input(const std::string& key) const {
    {
        std::lock_guard lock(mutex_);
        if (auto it = inputs_.find(key); it != inputs_.end()) return *it->second;
    }
    std::shared_ptr<const AiaImage> img;
    if (key == kDerivedKey) {
        img = std::make_shared<const AiaImage>(derive_full_res_2x(input("lowres_1600")));
    } else {
        auto it = input_files().find(key);
        if (it == input_files().end()) throw Error(ErrorKind::usage, fmt::format("unknown golden input key '{}'", key));
        img = std::make_shared<const AiaImage>(load_aia(real_file(it->second).string()));
    }
    std::lock_guard lock(mutex_);
    return *inputs_.emplace(key, std::move(img)).first->second;
}

}  // namespace aiaccel::validate
