// Helpers shared by the subcommands: backend selection, progress lines, output checks.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <memory>
#include <new>
#include <vector>

#include "core/backend.hpp"
#include "core/error.hpp"

namespace aiaccel::cli {

// --backend option: the registry's backends, each with its availability here.
void add_backend_option(CLI::App* cmd, std::string& backend);

// --fft fftw|mkl|auto: the cpu backend's FFT provider for this run (sets AIACCEL_FFT, so prep's worker
// inherits it); a word other than these, or mkl in a build without it, is a usage error.
void add_fft_option(CLI::App* cmd);

// --precision f64|f32 and --threads N for the commands that run through the Backend seam.
struct StageArgs {
    std::string precision = "f64";
    int threads = 0;
};
void add_stage_options(CLI::App* cmd, StageArgs& s);
// The backend named by --backend (available here, else a usage error saying why), checked to
// support the requested precision; fills `opt`.
std::unique_ptr<Backend> make_stage_backend(const std::string& backend, const StageArgs& s, StageOptions& opt);

// The channel's PSF through the on-disk PSF cache (core/psf_cache.hpp; AIACCEL_PSF_CACHE=off disables
// it), with one line on stderr saying whether it was reused or computed. `who` prefixes that line.
Image<double> cached_psf(Backend& backend, const PsfRequest& req, const StageOptions& so, const std::string& who);

// The checks every command makes on an output file before any work is done; each failure is
// Error(usage) (exit 2) with one line naming the path: an empty name, a name ending in a separator or
// naming a folder (`-o .`, `-o dir/`, an existing folder), an existing non-regular file, a missing or
// unwritable output folder, and an output that is the same file as any input (same path, through a
// symlink, or a hard link), so nothing is ever written over an input.
void check_output_path(const std::filesystem::path& out, const std::vector<std::string>& inputs = {});

// True when a and b name the same file: the same device and inode when both exist (symlinks
// followed, hard links included), else the same canonical path.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Runs one stage of a command (reading, computing, writing). Running out of memory there becomes one
// line naming the file and the stage ("<file>: out of memory while <stage>", exit 1) instead of a
// bare std::bad_alloc.
template <class F>
decltype(auto) stage(const std::string& file, const std::string& what, F&& f) {
    try {
        return f();
    } catch (const std::bad_alloc&) { throw file_error(ErrorKind::internal, file, "out of memory while " + what); }
}

// Progress on stderr: a line per call when stderr is not a terminal, an updating line when it is.
class Progress {
public:
    Progress(std::string what, int total);
    void step(int done, const std::string& detail = {});
    void done();

private:
    std::string what_;
    int total_;
    bool tty_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace aiaccel::cli
