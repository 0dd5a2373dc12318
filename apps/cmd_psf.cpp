// `aiaccel psf --channel C [--preflight-core] -o psf.fits`: the 4096×4096 PSF of an EUV channel.
#include <chrono>
#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "core/channels.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/fits_io.hpp"
#include "reference/psf_reference.hpp"

namespace aiaccel::cli {

FitsHeader psf_header(int channel, const reference::PsfOptions& opt, const std::string& backend) {
    FitsHeader h;
    h.set_int("WAVELNTH", channel, "[angstrom] AIA channel of this PSF");
    h.set_string("WAVEUNIT", "angstrom");
    h.set_bool("PREFLTCR", opt.use_preflight_core, "aiapy use_preflightcore");
    h.set_string("PSFFORM", std::string(to_string(opt.version)), "aiapy release whose formulas were used");
    h.set_string("PSFBKND", backend, "aiaccel backend");
    h.add_comment("AIA point spread function (entrance + focal-plane mesh diffraction), peak at 0-based [2048, 2048].");
    return h;
}

void add_psf(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("psf",
                                   "Compute the 4096x4096 point spread function of an AIA EUV channel\n"
                                   "(aiapy.psf.psf / calculate_psf) and write it as a float64 FITS image.");
    struct Args {
        int channel = 0;
        bool preflight = false;
        std::string out, backend, version = "0.10.2";
        StageArgs stage;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("-c,--channel", a->channel, fmt::format("EUV channel in Å: {}", euv_channels_text()))->required();
    cmd->add_flag("--preflight-core", a->preflight, "Use the pre-flight core width (aiapy use_preflightcore=True)");
    cmd->add_option("-o,--output", a->out, "Output FITS file")->required();
    cmd->add_option("--aiapy-version", a->version, "Reproduce the formulas of aiapy 0.10.2 or 0.12.1")->default_val("0.10.2");
    add_backend_option(cmd, a->backend);
    add_stage_options(cmd, a->stage);
    add_fft_option(cmd);
    cmd->callback([a, &exit_code] {
        StageOptions so;
        auto backend = make_stage_backend(a->backend, a->stage, so);
        auto v = parse_aiapy_version(a->version);
        if (!v) throw Error(ErrorKind::usage, fmt::format("--aiapy-version {}: expected 0.10.2 or 0.12.1", a->version));
        check_output_path(a->out);
        reference::PsfOptions opt;
        opt.use_preflight_core = a->preflight;
        opt.version = *v;
        auto t0 = std::chrono::steady_clock::now();
        fmt::print(stderr, "psf: computing the {} Å PSF ({} backend, aiapy {} formulas)...\n", a->channel, a->backend, a->version);
        Image<double> p = stage(a->out, fmt::format("computing the {} Å PSF", a->channel), [&] {
            return backend->psf({.channel = a->channel, .use_preflight_core = opt.use_preflight_core, .version = opt.version}, so);
        });
        stage(a->out, "writing it", [&] { write_fits(a->out, p, psf_header(a->channel, opt, a->backend)); });
        fmt::print(stderr, "psf: wrote {} in {:.1f} s\n", escape_control(a->out),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        exit_code = 0;
    });
}

}  // namespace aiaccel::cli
