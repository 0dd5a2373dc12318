// The aiapy goldens (testdata/golden/aiapy-<version>/, made by tools/oracle/golden_aiapy.py with the
// real aiapy 0.10.2 and 0.12.1) and the inputs they were made from: the real files (testdata/aia, or
// AIA_DATA_DIR) under the oracle's input keys, and the derived 4096² map (testdata/golden/DERIVED.md).
// Tests and `aiaccel validate` read goldens only through here.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/aia_image.hpp"
#include "core/image.hpp"

namespace aiaccel::validate {

inline constexpr std::array<std::string_view, 2> kGoldenVersions = {"0.10.2", "0.12.1"};

// {"hex": ...} / {"repr": ...} / number → double, bit-exact for hex; "nan"/"inf" strings too.
double golden_double(const nlohmann::json& v);

class GoldenStore {
public:
    // `testdata`: the folder holding aia/ and golden/; `data_dir`: where real files are looked for
    // when testdata/aia lacks them (AIA_DATA_DIR; may be empty).
    explicit GoldenStore(std::filesystem::path testdata, std::filesystem::path data_dir = {});

    const std::filesystem::path& testdata() const { return testdata_; }
    const std::filesystem::path& data_dir() const { return data_dir_; }

    // testdata/golden/aiapy-<version>/items/<item with ':' → '__'>.json
    std::filesystem::path item_path(std::string_view version, std::string_view item) const;
    // The record, or nullopt when that golden is absent (goldens are optional: callers SKIP).
    std::optional<nlohmann::json> item(std::string_view version, std::string_view item) const;
    // An array stored with a record (its "files" entry `key`), read through our FITS reader.
    Image<double> array(const nlohmann::json& item, const std::string& key) const;
    // A path a record names ("testdata/golden/...", "testdata/aia/tables/...") under our testdata.
    std::filesystem::path resolve(const std::string& recorded_path) const;

    // The oracle's input keys (tools/oracle/golden_aiapy.py REAL_FILES) → file names, and the
    // synoptic_<channel> keys of AIA_DATA_DIR/synoptic/ (real cases without goldens, fast vs reference).
    static const std::map<std::string, std::string>& input_files();
    static constexpr const char* kDerivedKey = "derived";
    // testdata/aia/<name>, else <data_dir>/<name>; Error(unreadable) naming both places otherwise.
    std::filesystem::path real_file(const std::string& name) const;
    // The input under an oracle key ("derived" = derive_full_res_2x of the low-res 1600 Å file),
    // read once and kept: callers copy it before changing it.
    const AiaImage& input(const std::string& key) const;

private:
    std::filesystem::path testdata_, data_dir_;
    mutable std::mutex mutex_;
    mutable std::map<std::string, std::shared_ptr<const AiaImage>> inputs_;
};

}  // namespace aiaccel::validate
