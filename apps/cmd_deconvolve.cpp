// `aiaccel deconvolve IN.fits [--psf F] [--iterations N] -o OUT.fits`: aiapy.psf.deconvolve.
#include <chrono>
#include <optional>
#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "registry/backend_registry.hpp"

namespace aiaccel::cli {

void add_deconvolve(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("deconvolve",
                                   "Richardson-Lucy deconvolution of an AIA level-1 image with the channel's PSF (aiapy.psf.deconvolve).\n"
                                   "The image must be a full-frame 4096x4096 EUV image (or match the shape of --psf). Output is float64\n"
                                   "with the input header unchanged (as aiapy) plus a HISTORY card.");
    struct Args {
        std::string in, out, psf, backend;
        int iterations = 25;
        bool no_clip = false, no_verify = false;
        StageArgs stage;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("IN", a->in, "AIA level-1 FITS file")->required();
    cmd->add_option("-o,--output", a->out, "Output FITS file")->required();
    cmd->add_option("--psf", a->psf, "PSF FITS file (from `aiaccel psf`); default: computed for the image's channel");
    cmd->add_option("-n,--iterations", a->iterations, "Richardson-Lucy iterations (aiapy default 25)")
        ->default_val(25)
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--no-clip-negative", a->no_clip, "Keep negative pixels (aiapy clip_negative=False)");
    cmd->add_flag("--no-verify-checksum", a->no_verify, "Read inputs whose DATASUM/CHECKSUM do not verify (default: refuse them, exit 2)");
    add_backend_option(cmd, a->backend);
    add_stage_options(cmd, a->stage);
    add_fft_option(cmd);
    cmd->callback([a, &exit_code] {
        StageOptions so;
        auto backend = make_stage_backend(a->backend, a->stage, so);
        check_output_path(a->out, {a->in, a->psf});
        auto t0 = std::chrono::steady_clock::now();
        const ReadOptions ro{.verify_checksum = !a->no_verify, .refuse_mismatch = !a->no_verify};
        AiaImage img = stage(a->in, "reading it", [&] { return load_aia(a->in, ro); });
        Image<double> psf;
        if (!a->psf.empty()) {
            psf = stage(a->psf, "reading the PSF", [&] { return read_fits(a->psf, ro).data; });
            // Refused before any computing: a PSF of another shape, or one that would give an all-NaN image.
            if (psf.rows() != img.data.rows() || psf.cols() != img.data.cols())
                throw file_error(ErrorKind::bad_value, a->psf,
                                 fmt::format("the PSF is {}x{} px but the image {} is {}x{} px: deconvolve "
                                             "needs a PSF of the image's shape",
                                             psf.cols(), psf.rows(), a->in, img.data.cols(), img.data.rows()));
            check_psf_values(psf, a->psf);
        } else {
            const int ch = img.aia().channel().wavelength;
            if (!img.aia().channel().has_psf())
                throw file_error(ErrorKind::bad_value, a->in, fmt::format("channel {} Å has no PSF in aiapy; pass --psf", ch));
            if (img.data.rows() != 4096 || img.data.cols() != 4096)
                throw file_error(ErrorKind::bad_value, a->in,
                                 fmt::format("image is {}x{} px: the default PSF is 4096x4096, so aiapy's "
                                             "deconvolve needs a full-frame image (or pass --psf of the same shape)",
                                             img.data.cols(), img.data.rows()));
            psf = stage(a->in, "computing its PSF", [&] { return cached_psf(*backend, {.channel = ch}, so, "deconvolve"); });
        }
        // A backend whose capabilities say `progress` reports each iteration; the others run silently.
        std::optional<Progress> progress;
        if (registry::find_backend(a->backend).caps.deconvolve.progress) progress.emplace("deconvolve " + a->in, a->iterations);
        DeconvolveRequest req{.iterations = a->iterations, .clip_negative = !a->no_clip};
        if (progress) req.on_iteration = [&](int done, int) { progress->step(done); };
        Image<double> out;
        try {
            out =
                stage(a->in,
                      fmt::format("deconvolving it ({}x{} px, backend {} {})", img.data.cols(), img.data.rows(), a->backend, to_string(so.precision)),
                      [&] { return backend->deconvolve(img.data, psf, req, so); });
        } catch (const Error& e) { throw file_error(e.kind(), a->in, e.what()); }
        if (progress) progress->done();
        FitsHeader h = img.header;
        h.add_history(fmt::format("aiaccel deconvolve: Richardson-Lucy, {} iterations, clip_negative={}, PSF {}, backend {} {}", a->iterations,
                                  !a->no_clip, a->psf.empty() ? "computed (aiapy 0.10.2 formulas)" : a->psf, a->backend, to_string(so.precision)));
        WriteOptions wo;
        wo.dtype = PixelType::f64;
        stage(a->out, "writing it", [&] { write_fits(a->out, out, h, wo); });
        // The FFT library that ran (as validate's rows record it), so a timing names what it measured.
        fmt::print(stderr, "deconvolve: wrote {} in {:.1f} s (backend {} {}) · fft {}\n", escape_control(a->out),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), a->backend, to_string(so.precision),
                   registry::backend_fft(a->backend, so.precision));
        exit_code = 0;
    });
}

}  // namespace aiaccel::cli
