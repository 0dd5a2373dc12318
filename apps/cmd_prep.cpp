// `aiaccel prep IN.fits... -o OUTDIR [--level 1.5|1.6] [--steps ...]`: the level-1.5 chain of aiapy
// (update_pointing → register → correct_degradation → exposure normalisation), or level 1.6
// (deconvolve first, on the level-1 CCD grid). Steps run in aiapy's documented order
// (docs/preparing_data.rst): pointing, deconvolve, register, degradation, exposure.
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>
#include <sstream>

#include "apps/cli_common.hpp"
#include "core/strings.hpp"
#include "apps/commands.hpp"
#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "reference/calibrate_reference.hpp"
#include "reference/deconvolve_reference.hpp"
#include "reference/psf_reference.hpp"
#include "reference/register_reference.hpp"

namespace aiaccel::cli {
namespace fs = std::filesystem;

void write_aia(const std::string& path, const AiaImage& img);  // cmd_register.cpp

namespace {

const std::vector<std::string> kStepOrder = {"pointing", "deconvolve", "register", "degradation", "exposure"};

// aia_lev1.5_171a_2013_03_10t12_00_11_34z.fits — the style of JSOC/sunpy export names.
std::string output_name(const AiaImage& img, const std::string& level) {
    std::string date = img.aia().date_obs();
    std::string t;
    for (char c : date) {
        if (c == '-' || c == ':' || c == '.') t += '_';
        else if (c == 'T') t += 't';
        else if (c == 'Z') continue;
        else t += c;
    }
    return fmt::format("aia_lev{}_{}a_{}z.fits", level, img.aia().channel().wavelength, t);
}

}  // namespace

void add_prep(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("prep",
        "Level-1 → level-1.5 (or 1.6) preparation of AIA images, as aiapy does it:\n"
        "  pointing     aiapy.calibrate.update_pointing from --pointing-table (default when a table is given)\n"
        "  deconvolve   aiapy.psf.deconvolve, 25 iterations (level 1.6 only; needs full-frame EUV images)\n"
        "  register     aiapy.calibrate.register (default)\n"
        "  degradation  aiapy.calibrate.correct_degradation with --correction-table\n"
        "  exposure     map / map.exposure_time → DN/s (default)\n"
        "Steps always run in that (aiapy's documented) order; --steps picks a subset, e.g. --steps exposure.\n"
        "One output per input in OUTDIR, named aia_lev<level>_<channel>a_<DATE-OBS>.fits; a bad input is\n"
        "reported and skipped, the others go on, and the exit code is then non-zero.");
    struct Args {
        std::vector<std::string> inputs;
        std::string outdir, level = "1.5", steps, pointing_table, correction_table, backend, version = "0.10.2";
        int calibration_version = 10, iterations = 25;
        bool overwrite = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("IN", a->inputs, "AIA level-1 FITS files")->required();
    cmd->add_option("-o,--output-dir", a->outdir, "Output folder (created if missing)")->required();
    cmd->add_option("--level", a->level, "1.5 (pointing + register + exposure) or 1.6 (deconvolve first)")->check(CLI::IsMember({"1.5", "1.6"}));
    cmd->add_option("--steps", a->steps, "Comma-separated subset of: pointing,deconvolve,register,degradation,exposure");
    cmd->add_option("--pointing-table", a->pointing_table, "Master pointing table file (CSV in aiapy's column layout)");
    cmd->add_option("--correction-table", a->correction_table, "SSW response table for degradation (e.g. testdata/aia/tables/aia_V10_*)");
    cmd->add_option("--calibration-version", a->calibration_version, "Response-table VER_NUM to use (aiapy 0.12.1 semantics)")->default_val(10);
    cmd->add_option("--aiapy-version", a->version, "Reproduce aiapy 0.10.2 or 0.12.1 where they differ")->default_val("0.10.2");
    cmd->add_option("--iterations", a->iterations, "Richardson-Lucy iterations for level 1.6")->default_val(25);
    cmd->add_flag("--overwrite", a->overwrite, "Replace existing outputs (default: refuse)");
    add_backend_option(cmd, a->backend);
    cmd->callback([a, &exit_code] {
        require_reference_backend(a->backend);
        auto version = parse_aiapy_version(a->version);
        if (!version) throw Error(ErrorKind::usage, fmt::format("--aiapy-version {}: expected 0.10.2 or 0.12.1", a->version));
        std::set<std::string> steps;
        if (a->steps.empty()) {
            if (!a->pointing_table.empty()) steps.insert("pointing");
            if (a->level == "1.6") steps.insert("deconvolve");
            steps.insert("register");
            if (!a->correction_table.empty()) steps.insert("degradation");
            steps.insert("exposure");
        } else {
            std::stringstream ss(a->steps);
            for (std::string s; std::getline(ss, s, ',');) {
                if (std::find(kStepOrder.begin(), kStepOrder.end(), s) == kStepOrder.end())
                    throw Error(ErrorKind::usage, fmt::format("--steps: unknown step '{}' (known: pointing, deconvolve, register, degradation, exposure)", s));
                steps.insert(s);
            }
        }
        if (steps.count("pointing") && a->pointing_table.empty()) throw Error(ErrorKind::usage, "step 'pointing' needs --pointing-table");
        if (steps.count("degradation") && a->correction_table.empty()) throw Error(ErrorKind::usage, "step 'degradation' needs --correction-table");
        std::optional<reference::PointingTable> pointing;
        if (!a->pointing_table.empty()) pointing = reference::read_pointing_table(a->pointing_table);
        std::optional<reference::ResponseTable> response;
        if (!a->correction_table.empty()) response = reference::read_response_table(a->correction_table);
        std::error_code ec;
        fs::create_directories(a->outdir, ec);
        if (!fs::is_directory(a->outdir)) throw file_error(ErrorKind::usage, a->outdir, "cannot create the output folder");

        std::string plan;
        for (const auto& s : kStepOrder) if (steps.count(s)) append_joined(plan, " → ", s);
        fmt::print(stderr, "prep: level {}, steps {}, {} file(s), aiapy {} semantics, backend {}\n", a->level, plan, a->inputs.size(),
                   a->version, a->backend);
        std::map<int, Image<double>> psfs;  // one PSF per channel per run
        std::set<std::string> written;
        int failures = 0, done = 0;
        Progress progress("prep", static_cast<int>(a->inputs.size()));
        for (const auto& in : a->inputs) {
            try {
                AiaImage img = load_aia(in);
                const std::string out = (fs::path(a->outdir) / output_name(img, a->level)).string();
                if (written.count(out)) throw file_error(ErrorKind::bad_value, in, fmt::format("same channel and DATE-OBS as an earlier input: {} already written", out));
                if (!a->overwrite && fs::exists(out)) throw file_error(ErrorKind::usage, in, fmt::format("output {} exists (use --overwrite)", out));
                if (steps.count("pointing")) reference::update_pointing(img, *pointing, *version);
                if (steps.count("deconvolve")) {
                    const auto ch = img.aia().channel();
                    if (!ch.has_psf()) throw file_error(ErrorKind::bad_value, in, fmt::format("channel {} Å has no PSF: level 1.6 needs an EUV image", ch.wavelength));
                    if (!psfs.count(ch.wavelength)) {
                        reference::PsfOptions po;
                        po.version = *version;
                        psfs.emplace(ch.wavelength, reference::psf(ch.wavelength, po));
                    }
                    try {
                        img.data = reference::deconvolve(img.data, psfs.at(ch.wavelength), {.iterations = a->iterations});
                    } catch (const Error& e) {
                        throw file_error(e.kind(), in, e.what());
                    }
                    img.dtype = PixelType::f64;
                    img.header.add_history(fmt::format("aiaccel prep: deconvolved (Richardson-Lucy, {} iterations)", a->iterations));
                }
                if (steps.count("register")) img = reference::register_image(img, {});
                if (steps.count("degradation")) reference::correct_degradation(img, *response, {.version = *version, .calibration_version = a->calibration_version});
                if (steps.count("exposure")) reference::normalize_exposure(img);
                img.header.add_history(fmt::format("aiaccel prep: level {} ({}), aiapy {} semantics", a->level, plan, a->version));
                write_aia(out, img);
                written.insert(out);
                progress.step(++done, fs::path(out).filename().string());
            } catch (const Error& e) {
                ++failures;
                progress.step(++done);
                const std::string msg = e.what();
                // Every failure line starts with the input it concerns (table errors name the table).
                fmt::print(stderr, "prep: FAILED {}{}\n", msg.rfind(in + ":", 0) == 0 ? "" : in + ": ", msg);
            }
        }
        progress.done();
        fmt::print(stderr, "prep: {} written, {} failed → {}\n", written.size(), failures, a->outdir);
        exit_code = failures ? 1 : 0;
    });
}

}  // namespace aiaccel::cli
