// `aiaccel register IN.fits [--missing V] [--order 3] [--full-frame] [--backend B --precision P --threads N] -o OUT.fits`:
// aiapy.calibrate.register.
#include <chrono>
#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "reference/register_reference.hpp"
#include "registry/backend_registry.hpp"

namespace aiaccel::cli {

void write_aia(const std::string& path, const AiaImage& img) {
    WriteOptions wo;
    // Output dtype = the data's dtype, as sunpy's Map.save writes it (register keeps float32 input
    // float32 although aiapy sets bitpix = -64 in the metadata).
    wo.dtype = img.dtype == PixelType::f32 ? PixelType::f32 : img.dtype == PixelType::i16 ? PixelType::i16 : PixelType::f64;
    write_fits(path, img.data, img.header, wo);
}

// A registered image with an axis under kMinOutputSide px is refused rather than written: aiapy's crop
// (the input's row count around CRPIX1, on both axes) of a thin image whose Sun fits can leave 2x0 px.
void check_not_degenerate(const std::string& in, const Image<double>& out, bool full_frame) {
    constexpr std::size_t kMinOutputSide = 2;
    if (out.rows() >= kMinOutputSide && out.cols() >= kMinOutputSide) return;
    throw file_error(
        ErrorKind::bad_value, in,
        fmt::format(
            "registering it gives a {}x{} px image ({}): refusing to write a degenerate output (under {} px on an axis)", out.cols(), out.rows(),
            full_frame ? "the rotated frame is that small" : "aiapy's crop to the input's row count around CRPIX1 leaves that little of the frame",
            kMinOutputSide));
}

void add_register(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("register",
                                   "Register an AIA level-1 full-disk image to level 1.5 exactly as aiapy.calibrate.register: rotate north up,\n"
                                   "rescale to 0.6 arcsec/px (a multiple of it for binned images) and recentre the Sun with an order-3 spline\n"
                                   "(scipy.ndimage semantics). Like aiapy it refuses images that do not contain the full solar disk, and it\n"
                                   "crops as aiapy does (4094x4094 for most 4096x4096 inputs); --full-frame keeps the whole rotated frame.");
    struct Args {
        std::string in, out, backend;
        std::optional<double> missing;
        int order = 3;
        bool full_frame = false, no_verify = false;
        StageArgs stage;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("IN", a->in, "AIA level-1 FITS file (full disk)")->required();
    cmd->add_option("-o,--output", a->out, "Output FITS file")->required();
    cmd->add_option("--missing", a->missing, "Value for pixels outside the input (default: the image minimum, as aiapy)");
    cmd->add_option("--order", a->order, "Spline order 0-5 (aiapy default 3)")->default_val(3)->check(CLI::Range(0, 5));
    cmd->add_flag("--full-frame", a->full_frame, "Keep the whole rotated frame instead of aiapy's crop");
    cmd->add_flag("--no-verify-checksum", a->no_verify, "Read inputs whose DATASUM/CHECKSUM do not verify (default: refuse them, exit 2)");
    add_backend_option(cmd, a->backend);
    add_stage_options(cmd, a->stage);
    cmd->callback([a, &exit_code] {
        StageOptions so;
        auto backend = make_stage_backend(a->backend, a->stage, so);
        // Refused before reading: an order or precision the backend declares it does not run.
        if (std::string why = registry::find_backend(a->backend).caps.refusal(a->backend, Stage::register_image, so.precision, a->order);
            !why.empty())
            throw Error(ErrorKind::usage, fmt::format("--backend {}: {} (use --backend reference)", a->backend, why));
        check_output_path(a->out, {a->in});
        auto t0 = std::chrono::steady_clock::now();
        AiaImage img =
            stage(a->in, "reading it", [&] { return load_aia(a->in, {.verify_checksum = !a->no_verify, .refuse_mismatch = !a->no_verify}); });
        const auto t1 = std::chrono::steady_clock::now();
        AiaImage out = stage(
            a->in, fmt::format("registering it ({}x{} px, backend {} {})", img.data.cols(), img.data.rows(), a->backend, to_string(so.precision)),
            [&] { return backend->register_image(img, {.missing = a->missing, .order = a->order, .full_frame = a->full_frame}, so); });
        const double compute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        check_not_degenerate(a->in, out.data, a->full_frame);
        // aiapy's AIApyUserWarning (level-1.5 or LVL_NUM-less input), given after it accepted the image.
        for (const auto& w : reference::register_warnings(img)) fmt::print(stderr, "register: warning: {}: {}\n", escape_control(a->in), w);
        out.header.add_history(fmt::format("aiaccel register: aiapy.calibrate.register semantics, order {}{}, backend {} {}", a->order,
                                           a->full_frame ? ", full frame" : "", a->backend, to_string(so.precision)));
        stage(a->out, "writing it", [&] { write_aia(a->out, out); });
        // The Highway target that ran (as validate's rows record it), so a timing names the SIMD it measured.
        fmt::print(stderr, "register: wrote {} ({}x{}) in {:.2f} s (register itself {:.3f} s, backend {} {}) · target {}\n", escape_control(a->out),
                   out.data.cols(), out.data.rows(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), compute_s,
                   a->backend, to_string(so.precision), backend->target(Stage::register_image));
        exit_code = 0;
    });
}

}  // namespace aiaccel::cli
