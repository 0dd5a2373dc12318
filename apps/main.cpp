// aiaccel: command-line entry point. Turns every error into one line on stderr + an exit code
// (control characters of file names escaped, core/strings.hpp escape_control, so it stays one line).
#include <exception>
#include <new>
#include <string_view>
#include <fmt/format.h>

#include "aiaccel_config.hpp"
#include "apps/commands.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "registry/backend_registry.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        fmt::format("aiaccel {} — reproduce, validate and accelerate aiapy's SDO/AIA image processing\n"
                    "(PSF, Richardson-Lucy deconvolution, level-1.5 registration).",
                    AIACCEL_VERSION)};
    app.set_version_flag("--version", std::string(AIACCEL_VERSION));
    app.require_subcommand(1);
    app.footer(
        "Exit codes: 0 ok, 1 a check failed, 2 bad input or usage.\n"
        "Run `aiaccel SUBCOMMAND --help` for the options of each subcommand.");
    // The --backend help texts probe the backends (loading the CUDA module) only when help is asked for.
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "-h" || std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "--help-all")
            aiaccel::registry::set_probe_in_help(true);
    int exit_code = 0;
    aiaccel::cli::add_info(app, exit_code);
    aiaccel::cli::add_psf(app, exit_code);
    aiaccel::cli::add_deconvolve(app, exit_code);
    aiaccel::cli::add_register(app, exit_code);
    aiaccel::cli::add_prep(app, exit_code);
    aiaccel::cli::add_derive(app, exit_code);
    aiaccel::cli::add_report(app, exit_code);
    aiaccel::cli::add_validate(app, exit_code);
    aiaccel::cli::add_bench(app, exit_code);
    aiaccel::cli::add_merge_manifests(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) { return app.exit(e); } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) { return app.exit(e); } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "aiaccel: {}\n", aiaccel::escape_control(e.what()));
        return 2;
    } catch (const aiaccel::Error& e) {
        fmt::print(stderr, "aiaccel: {}\n", aiaccel::escape_control(e.what()));
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        // The stages name the file and the stage (cli::stage); this is the fallback outside them.
        fmt::print(stderr, "aiaccel: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "aiaccel: internal error: {}\n", aiaccel::escape_control(e.what()));
        return 1;
    }
    return exit_code;
}
