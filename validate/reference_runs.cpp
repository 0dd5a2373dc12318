// Reference outputs with an in-run memo and the on-disk cache (see reference_runs.hpp).
#include "validate/reference_runs.hpp"

#include <chrono>
#include <fmt/format.h>

#include "core/sha256.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/psf_reference.hpp"
#include "reference/register_reference.hpp"

namespace aiaccel::validate {
using nlohmann::json;

std::string ReferenceOutput::describe() const {
    if (cached) return fmt::format("reference output from the cache (computed in {:.1f} s on {})", compute_s, created_utc);
    if (reused) return fmt::format("reference output reused from earlier in this run (computed in {:.1f} s)", compute_s);
    return fmt::format("reference output computed in {:.1f} s", compute_s);
}

ReferenceRuns::ReferenceRuns(const GoldenStore& store, ReferenceCache cache, std::function<void(const std::string&)> log)
    : store_(store), cache_(std::move(cache)), log_(std::move(log)) {}

const AiaImage& ReferenceRuns::input(const Case& c) {
    if (!c.is_discovered()) return store_.input(c.input);
    auto& slot = files_[c.file.string()];
    if (!slot) slot = std::make_shared<const AiaImage>(load_aia(c.file.string()));
    return *slot;
}

std::string ReferenceRuns::input_key_hash(const Case& c) {
    if (c.is_discovered()) return "file:" + sha256_file(c.file.string());
    if (c.input == GoldenStore::kDerivedKey)  // the rule is code (core/derived_input.cpp), hashed with the sources
        return "derived-1600x2 of file:" + sha256_file(store_.real_file(GoldenStore::input_files().at("lowres_1600")).string());
    return "file:" + sha256_file(store_.real_file(GoldenStore::input_files().at(c.input)).string());
}

std::string ReferenceRuns::input_sha256(const Case& c) {
    const std::string id = c.is_discovered() ? c.file.string() : c.input;
    if (auto it = sha_.find(id); it != sha_.end()) return it->second;
    std::string sha;
    if (!c.is_discovered() && c.input == GoldenStore::kDerivedKey) {
        const AiaImage& d = input(c);
        sha = sha256_hex(d.data.data(), d.data.size() * sizeof(double));
    } else {
        sha = input_key_hash(c).substr(5);  // "file:<sha>"
    }
    return sha_[id] = sha;
}

ReferenceOutput ReferenceRuns::cached_or_compute(const json& what, const std::string& label, const std::function<AiaImage()>& compute) {
    const std::string key = ReferenceCache::key(what);
    if (auto it = memo_.find(key); it != memo_.end()) {
        ReferenceOutput r = it->second;
        r.reused = true;
        return r;
    }
    ReferenceOutput r;
    if (auto e = cache_.load(key)) {
        r.image = std::make_shared<const AiaImage>(std::move(e->image));
        r.cached = true;
        r.compute_s = e->compute_s;
        r.created_utc = e->created_utc;
        return memo_[key] = r;
    }
    if (log_ && !label.empty()) log_("computing the reference " + label + " ...");
    const auto t0 = std::chrono::steady_clock::now();
    AiaImage out;
    try {
        out = compute();
    } catch (const Error& e) {
        r.refusal = e;  // not cached: refusals are decided before any heavy work
        r.compute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return memo_[key] = r;
    }
    r.compute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.image = std::make_shared<const AiaImage>(std::move(out));
    std::string warning;
    cache_.store(key, what, {*r.image, r.compute_s, {}}, &warning);
    if (!warning.empty() && log_) log_(warning);
    return memo_[key] = r;
}

ReferenceOutput ReferenceRuns::psf(int channel, bool preflight, AiapyVersion version) {
    const json what = {{"stage", "psf"}, {"channel", channel}, {"preflight", preflight}, {"aiapy", std::string(to_string(version))}};
    return cached_or_compute(what, fmt::format("psf {} Å{} (aiapy {})", channel, preflight ? " preflight" : "", to_string(version)), [&] {
        reference::PsfOptions po;
        po.use_preflight_core = preflight;
        po.version = version;
        AiaImage img;
        img.path = fmt::format("psf-{}", channel);
        img.data = reference::psf(channel, po);
        return img;
    });
}

ReferenceOutput ReferenceRuns::deconvolve(const Case& c, int psf_channel, int iterations, AiapyVersion version) {
    const json what = {{"stage", "deconvolve"},      {"input", input_key_hash(c)},
                       {"psf_channel", psf_channel}, {"aiapy", std::string(to_string(version))},
                       {"iterations", iterations},   {"clip_negative", true}};
    return cached_or_compute(
        what, fmt::format("deconvolve {} ({} iterations, {} Å PSF of aiapy {})", c.name, iterations, psf_channel, to_string(version)), [&] {
            const ReferenceOutput p = psf(psf_channel, false, version);
            const AiaImage& in = input(c);
            AiaImage out;
            out.path = in.path;
            out.header = in.header;
            out.data = reference::deconvolve(in.data, p.image->data, {.iterations = iterations});
            return out;
        });
}

ReferenceOutput ReferenceRuns::register_image(const Case& c) {
    const json what = {{"stage", "register"}, {"input", input_key_hash(c)}, {"options", "aiapy defaults (order 3, missing nanmin, scipy 1.17)"}};
    const bool heavy = input(c).data.size() >= 2048 * 2048;  // small ones (and refusals) take milliseconds: no log line
    return cached_or_compute(what, heavy ? "register " + c.name : "", [&] { return reference::register_image(input(c)); });
}

}  // namespace aiaccel::validate
