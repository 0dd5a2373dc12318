// On-disk cache of reference outputs (the slow part of `aiaccel validate`), so a run recomputes only
// what changed. An entry is keyed by the sha256 of a JSON description holding the stage, the
// inputs' hashes and the options, plus the reference code version (sha256 of the reference/ and
// core/ sources, generated at build time), the compiler and the FFTW version. Entries are
// <key>.f64 (raw little-endian float64 pixels) and <key>.json (description, shape, dtype, header
// cards, data sha256, compute time), both written through a temporary file renamed into place; an
// entry whose data do not match its sha256 is ignored (and recomputed).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/aia_image.hpp"

namespace aiaccel::validate {

std::string reference_code_version();  // sha256 of the reference and core sources this binary was built from

class ReferenceCache {
public:
    explicit ReferenceCache(std::filesystem::path dir = {});  // empty: caching disabled
    bool enabled() const { return !dir_.empty(); }
    const std::filesystem::path& dir() const { return dir_; }

    // The key of an output described by `what` (any JSON: stage, input hashes, options).
    static std::string key(const nlohmann::json& what);

    struct Entry {
        AiaImage image;  // data, dtype and header (header empty for psf/deconvolve outputs)
        double compute_s = 0;  // wall time of the computation that produced it
        std::string created_utc;
    };
    std::optional<Entry> load(const std::string& key) const;  // nullopt: absent, unreadable or corrupt
    // Stores the entry; failures (read-only folder, full disk) are reported as a warning, not thrown.
    void store(const std::string& key, const nlohmann::json& what, const Entry& e, std::string* warning = nullptr) const;

private:
    std::filesystem::path dir_;
};

}  // namespace aiaccel::validate
