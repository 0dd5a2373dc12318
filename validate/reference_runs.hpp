// The reference outputs a validation run compares with: aiapy.psf.psf / calculate_psf,
// aiapy.psf.deconvolve and aiapy.calibrate.register as the reference port computes them, each
// computed at most once per run (kept in memory) and kept across runs in the ReferenceCache, keyed
// by the input's hash, the options and the reference code version. Also the inputs themselves.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/aiapy_version.hpp"
#include "core/error.hpp"
#include "validate/case_list.hpp"
#include "validate/golden_store.hpp"
#include "validate/ref_cache.hpp"

namespace aiaccel::validate {

struct ReferenceOutput {
    std::shared_ptr<const AiaImage> image;  // null when the reference refused the input
    std::optional<Error> refusal;  // register: aiapy's refusal (no full disk), as the port raises it
    bool cached = false;  // read from the on-disk cache (computed by an earlier run)
    bool reused = false;  // already computed earlier in this run
    double compute_s = 0;  // time the computation took (then, for a cache hit)
    std::string created_utc;  // cache hits: when it was computed
    std::string describe() const;  // "computed in 4.1 s", "from the cache (computed in 4.1 s on …)"
};

class ReferenceRuns {
public:
    // `log` receives one line before every computation that takes long ("computing …"; not for
    // register of images under 2048², which takes milliseconds).
    ReferenceRuns(const GoldenStore& store, ReferenceCache cache, std::function<void(const std::string&)> log = {});

    // The image a case works on: a golden input key, or the discovered file. Throws Error(unreadable)
    // when the file is not there.
    const AiaImage& input(const Case& c);
    // sha256 of the input: of the file for real files, of the float64 pixels for the derived map.
    std::string input_sha256(const Case& c);

    ReferenceOutput psf(int channel, bool preflight, AiapyVersion version);
    // The case's input deconvolved with the reference PSF of `psf_channel` (same aiapy version).
    ReferenceOutput deconvolve(const Case& c, int psf_channel, int iterations, AiapyVersion version);
    ReferenceOutput register_image(const Case& c);

    const ReferenceCache& cache() const { return cache_; }

private:
    ReferenceOutput cached_or_compute(const nlohmann::json& what, const std::string& label, const std::function<AiaImage()>& compute);
    std::string input_key_hash(const Case& c);  // cheap identity of the input for cache keys

    const GoldenStore& store_;
    ReferenceCache cache_;
    std::function<void(const std::string&)> log_;
    std::map<std::string, ReferenceOutput> memo_;  // by cache key
    std::map<std::string, std::shared_ptr<const AiaImage>> files_;
    std::map<std::string, std::string> sha_;
};

}  // namespace aiaccel::validate
