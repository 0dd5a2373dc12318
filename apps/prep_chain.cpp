// The per-image chain of `aiaccel prep`: aiapy's prep order (update_pointing, psf.deconvolve,
// calibrate.register, correct_degradation, map / exposure_time), deconvolve and register through the
// Backend seam, one PSF per channel per process.
#include "apps/prep_chain.hpp"

#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "reference/reference_backend.hpp"

namespace aiaccel::cli::prep {

const std::vector<std::string> kStepOrder = {"pointing", "deconvolve", "register", "degradation", "exposure"};

std::string ChainSettings::plan() const {
    std::string p;
    for (const auto& s : kStepOrder)
        if (steps.count(s)) append_joined(p, " → ", s);
    return p;
}

std::string ChainSettings::level_for(const std::set<std::string>& steps) {
    if (!steps.count("register")) return "1";
    return steps.count("deconvolve") ? "1.6" : "1.5";
}

std::string ChainSettings::signature() const {
    std::string list;  // ASCII: FITS header cards may hold nothing else
    for (const auto& st : kStepOrder)
        if (steps.count(st)) append_joined(list, ",", st);
    // The float32 mark goes before the end, so neither signature is a substring of the other.
    return fmt::format("aiaccel prep: level {} ({}), {}aiapy {} semantics", level, list, output_f32 ? "float32 output, " : "", to_string(version));
}

std::string output_name(const AiaHeader& h, const std::string& level) {
    std::string t;
    for (char c : h.date_obs()) {
        if (c == '-' || c == ':' || c == '.')
            t += '_';
        else if (c == 'T' || c == 't')
            t += 't';
        else if (c == 'Z' || c == 'z' || c == ' ')
            continue;
        else if (c == '/' || c == '\\')
            t += '_';
        else
            t += c;
    }
    return fmt::format("aia_lev{}_{}a_{}z.fits", level, h.channel().wavelength, t);
}

void check_input_header(const AiaHeader& h, const ChainSettings& s) {
    const std::string instrume = h.fits().get_string("INSTRUME").value_or("");
    if (!instrume.starts_with("AIA"))
        throw file_error(ErrorKind::not_aia, h.path(),
                         instrume.empty() ? "not an AIA image (no INSTRUME keyword)" : fmt::format("not an AIA image (INSTRUME '{}')", instrume));
    const Channel ch = h.channel();  // not_aia for an unknown WAVELNTH
    if (auto lvl = h.level(); lvl && *lvl != 1.0)
        throw file_error(ErrorKind::bad_value, h.path(), fmt::format("wrong level: LVL_NUM {} (prep needs level-1 input)", *lvl));
    (void)h.date_obs();  // missing_keyword
    if (s.steps.count("deconvolve") && !ch.has_psf())
        throw file_error(ErrorKind::bad_value, h.path(), fmt::format("channel {} Å has no PSF: level 1.6 needs an EUV image", ch.wavelength));
}

Chain::Chain(ChainSettings s, std::unique_ptr<Backend> backend, const Capabilities& caps, StageOptions opt)
    : s_(std::move(s)), backend_(std::move(backend)), reference_(reference::make_backend()), opt_(opt), exclusive_(!caps.thread_safe) {
    // Each stage the backend cannot run at this precision (aiapy's register order 3) runs on the
    // reference instead: chosen here, said once.
    const auto choose = [&](const char* step, Stage stage) {
        if (!s_.steps.count(step)) return true;
        const std::string why = caps.refusal(backend_->name(), stage, opt_.precision);
        if (!why.empty())
            fmt::print(stderr, "prep: backend {} cannot run {} ({}); {} runs on the reference backend\n", backend_->name(), step, why, step);
        return why.empty();
    };
    deconvolve_on_backend_ = choose("deconvolve", Stage::deconvolve);
    register_on_backend_ = choose("register", Stage::register_image);
}

const Image<double>& Chain::psf_for(int channel) {
    std::shared_future<Image<double>> f;
    bool compute = false;
    std::promise<Image<double>> promise;
    {
        std::lock_guard lock(psf_mutex_);
        auto it = psfs_.find(channel);
        if (it == psfs_.end()) {
            f = promise.get_future().share();
            psfs_.emplace(channel, f);
            compute = true;
        } else {
            f = it->second;
        }
    }
    if (compute) {
        try {
            std::unique_lock lock(backend_mutex_, std::defer_lock);
            if (exclusive_) lock.lock();
            // Once per process here; once per machine through the on-disk PSF cache (core/psf_cache),
            // which Slurm tasks on one node share.
            promise.set_value(cached_psf(*backend_, {.channel = channel, .version = s_.version}, opt_, "prep"));
        } catch (...) { promise.set_exception(std::current_exception()); }
    }
    return f.get();  // the map owns the shared state; references stay valid
}

std::unique_lock<std::mutex> Chain::backend_lock(Stopwatch& sw, StepTimes* times) {
    std::unique_lock lock(backend_mutex_, std::defer_lock);
    if (exclusive_) lock.lock();
    const double waited = sw.lap();
    if (times) (*times)["backend_wait"] += waited;
    return lock;
}

Image<double> Chain::deconvolve(const Image<double>& data, const Image<double>& psf, std::string& used, Stopwatch& sw, StepTimes* times) {
    const DeconvolveRequest req{.iterations = s_.iterations, .clip_negative = true};
    if (!deconvolve_on_backend_) {
        append_joined(used, " ", "deconvolve=reference");
        return reference_->deconvolve(data, psf, req, {});
    }
    const auto lock = backend_lock(sw, times);
    auto out = backend_->deconvolve(data, psf, req, opt_);
    append_joined(used, " ", fmt::format("deconvolve={}", backend_->name()));
    return out;
}

AiaImage Chain::register_image(const AiaImage& img, std::string& used, Stopwatch& sw, StepTimes* times) {
    if (!register_on_backend_) {
        append_joined(used, " ", "register=reference");
        return reference_->register_image(img, {}, {});
    }
    const auto lock = backend_lock(sw, times);
    auto out = backend_->register_image(img, {}, opt_);
    append_joined(used, " ", fmt::format("register={}", backend_->name()));
    return out;
}

// What aiapy would warn about: listed for this input, printed once per process.
void Chain::warn(const std::string& in, const std::vector<std::string>& found, std::vector<std::string>* warnings) {
    for (const auto& w : found) {
        if (warnings) warnings->push_back(w);
        bool first;
        {
            std::lock_guard lock(warned_mutex_);
            first = warned_.insert(w).second;
        }
        if (first)
            fmt::print(stderr, "prep: warning: {}: {}{}\n", escape_control(in), escape_control(w),
                       " (as aiapy warns; said once, every input it concerns lists it in the manifest)");
    }
}

std::string Chain::run(AiaImage& img, std::vector<std::string>* warnings, StepTimes* times) {
    std::string used;
    const std::string& in = img.path;
    auto named = [&](const Error& e) {  // every message starts with the input it concerns
        const std::string msg = e.what();
        return msg.rfind(in + ":", 0) == 0 ? Error(e.kind(), msg) : file_error(e.kind(), in, msg);
    };
    Stopwatch sw;
    auto done = [&](const char* step) {
        const double s = sw.lap();
        if (times) (*times)[step] += s;
    };
    try {
        if (s_.steps.count("pointing")) {
            warn(in, reference::update_pointing(img, *s_.pointing, s_.version).warnings, warnings);
            done("pointing");
        }
        if (s_.steps.count("deconvolve")) {
            const auto ch = img.aia().channel();
            // aiapy's PSF is 4096x4096 (the CCD); checked before the (expensive, once per channel) PSF.
            if (img.data.rows() != 4096 || img.data.cols() != 4096)
                throw file_error(ErrorKind::bad_value, in,
                                 fmt::format("image is {}x{} px: aiapy's deconvolve with the default PSF needs a "
                                             "full-frame 4096x4096 image",
                                             img.data.cols(), img.data.rows()));
            const Image<double>& psf = psf_for(ch.wavelength);
            done("psf");
            img.data = deconvolve(img.data, psf, used, sw, times);
            img.dtype = PixelType::f64;
            img.header.add_history(fmt::format("aiaccel prep: deconvolved (Richardson-Lucy, {} iterations)", s_.iterations));
            done("deconvolve");
        }
        if (s_.steps.count("register")) {
            img = register_image(img, used, sw, times);
            done("register");
        }
        if (s_.steps.count("degradation")) {
            reference::correct_degradation(img, *s_.response, {.version = s_.version, .calibration_version = s_.calibration_version});
            done("degradation");
        }
        if (s_.steps.count("exposure")) {
            reference::normalize_exposure(img);
            done("exposure");
        }
    } catch (const Error& e) { throw named(e); }
    img.header.add_history(s_.signature());
    return used;
}

}  // namespace aiaccel::cli::prep
