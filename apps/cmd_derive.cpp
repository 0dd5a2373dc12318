// `aiaccel derive IN.fits -o OUT.fits`: the reproducible full-resolution test input (2×2 replication of a
// real 2048² level-1 file, labelled DERIVED — see testdata/golden/DERIVED.md), for speed runs and for
// the 4096²-only aiapy paths (default-PSF deconvolution, update_pointing 0.10.2).
#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "core/derived_input.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli {

void write_aia(const std::string& path, const AiaImage& img);  // cmd_register.cpp

void add_derive(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("derive",
                                   "Write the derived 4096x4096 input: 2x2 pixel replication of a real 2048x2048 AIA level-1 image\n"
                                   "(CDELT/2, CRPIX'=2*(CRPIX-0.5)+0.5, a DERIVED keyword and HISTORY). NOT a real observation: for\n"
                                   "speed measurements and the code paths aiapy only runs on full-resolution frames.");
    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    cmd->add_option("IN", *in, fmt::format("A 2048x2048 AIA file (the bundled one: testdata/aia/{})", kDerived1600Source))->required();
    cmd->add_option("-o,--output", *out, "Output FITS file")->required();
    cmd->callback([in, out, &exit_code] {
        check_output_path(*out, {*in});
        AiaImage d = stage(*in, "deriving the 4096x4096 input from it", [&] { return derive_full_res_2x(load_aia(*in)); });
        stage(*out, "writing it", [&] { write_aia(*out, d); });
        fmt::print(stderr, "derive: wrote {} (4096x4096, {}, DERIVED — not a real observation)\n", escape_control(*out), to_string(d.dtype));
        exit_code = 0;
    });
}

}  // namespace aiaccel::cli
