// The `aiaccel` subcommands. Each add_*() registers one subcommand on the app; its callback
// stores the process exit code in `exit_code` (0 ok, 1 a check failed, 2 bad input/usage).
#pragma once

#include <CLI/CLI.hpp>

namespace aiaccel::cli {

void add_info(CLI::App& app, int& exit_code);
void add_psf(CLI::App& app, int& exit_code);
void add_deconvolve(CLI::App& app, int& exit_code);
void add_register(CLI::App& app, int& exit_code);
void add_prep(CLI::App& app, int& exit_code);
void add_derive(CLI::App& app, int& exit_code);
void add_report(CLI::App& app, int& exit_code);
void add_validate(CLI::App& app, int& exit_code);
void add_bench(CLI::App& app, int& exit_code);
void add_merge_manifests(CLI::App& app, int& exit_code);

}  // namespace aiaccel::cli
