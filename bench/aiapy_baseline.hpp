// aiapy timed in the same `aiaccel bench` run on the same inputs: runs tools/oracle/bench_aiapy.py
// under one oracle venv (tools/oracle/setup: .oracle/venv-0.10.2, venv-0.12.1, venv-0.12.1-jax) and
// turns the JSON it writes into speed rows with backend "aiapy-0.10.2", "aiapy-0.12.1" or
// "aiapy-0.12.1+jax" (accelerated flavours carry "+<accelerator>").
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "validate/result_row.hpp"

namespace aiaccel::bench {

struct AiapyRequest {
    std::string version;  // "0.10.2", "0.12.1" or "0.12.1-jax" (the venv's suffix)
    std::filesystem::path oracle_dir;  // holds venv-<version>/
    std::vector<std::string> stages;  // psf, deconvolve, register
    std::filesystem::path out_dir;  // aiapy-<version>.json and .log go here
    std::filesystem::path psf_fits;  // the PSF aiapy's deconvolve is given
    std::filesystem::path real_fits;  // the real 2048² file (aiapy derives the 4096² input from it)
    std::string derived_sha256;  // ours, checked against aiapy's derived input
    int repetitions = 3;
    double max_warmup_s = 20;
    std::function<void(const std::string&)> log;
};

std::string aiapy_backend_name(const std::string& version);  // "0.12.1-jax" -> "aiapy-0.12.1+jax"
std::filesystem::path aiapy_venv(const std::filesystem::path& oracle_dir, const std::string& version);
std::filesystem::path bench_aiapy_script();  // <source root>/tools/oracle/bench_aiapy.py

// Rows for every selected stage × case; SKIPPED rows (with how to install) when the venv is absent,
// FAILED rows when the script fails (its log is named).
std::vector<validate::ResultRow> run_aiapy(const AiapyRequest& req, const validate::MachineInfo& machine);

}  // namespace aiaccel::bench
