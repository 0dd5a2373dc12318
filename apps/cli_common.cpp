// Shared CLI helpers.
#include "apps/cli_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/psf_cache.hpp"
#include "core/strings.hpp"
#include "fast/cpu/fft_provider.hpp"
#include "psf_code_version.hpp"
#include "registry/backend_registry.hpp"

namespace aiaccel::cli {
namespace fs = std::filesystem;

void add_backend_option(CLI::App* cmd, std::string& backend) {
    std::string help = "Implementation to run:";
    for (const auto& b : registry::all_backends()) help += fmt::format("\n  {:<10} {} [{}]", b.name, b.description, registry::help_status(b));
    cmd->add_option("--backend", backend, help)->default_val("reference");
}

void add_fft_option(CLI::App* cmd) {
    cmd->add_option_function<std::string>(
           "--fft", [](const std::string& v) { cpu::set_fft_choice(v); },
           "FFT provider of the cpu backend: fftw, mkl (builds with -Dmkl) or auto (per precision, the one measured faster); default "
           "$AIACCEL_FFT, else auto")
        ->trigger_on_parse();
}

void add_stage_options(CLI::App* cmd, StageArgs& s) {
    cmd->add_option("--precision", s.precision, "Compute precision: f64 or f32 (f32: cpu backend; the PSF itself is always float64)")
        ->default_val("f64");
    cmd->add_option("--threads", s.threads, "Threads for the fast backends (0: all hardware threads)")->default_val(0)->check(CLI::NonNegativeNumber);
}

Image<double> cached_psf(Backend& backend, const PsfRequest& req, const StageOptions& so, const std::string& who) {
    const PsfCache cache(PsfCache::default_dir(), AIACCEL_PSF_CODE_SHA256);
    const auto t0 = std::chrono::steady_clock::now();
    bool hit = false;
    Image<double> psf = cache.get(backend, req, so, &hit);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (hit)
        fmt::print(stderr, "{}: {} Å PSF from the cache {} ({:.2f} s)\n", who, req.channel, cache.file_for(backend.name(), req).string(), s);
    else
        fmt::print(stderr, "{}: computed the {} Å PSF ({} backend, {:.1f} s){}\n", who, req.channel, backend.name(), s,
                   cache.dir().empty() ? " — PSF cache off" : "; cached in " + cache.dir().string());
    return psf;
}

std::unique_ptr<Backend> make_stage_backend(const std::string& backend, const StageArgs& s, StageOptions& opt) {
    auto p = parse_precision(s.precision);
    if (!p) throw Error(ErrorKind::usage, fmt::format("--precision {}: expected f64 or f32", s.precision));
    auto b = registry::make_available_backend(backend);
    if (!registry::find_backend(backend).caps.accepts(*p))
        throw Error(ErrorKind::usage, fmt::format("--backend {} does not compute in {} (--precision)", backend, s.precision));
    opt.precision = *p;
    opt.threads = s.threads;
    return b;
}

bool same_file(const fs::path& a, const fs::path& b) {
    struct stat sa {
    }, sb{};
    if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    std::error_code ea, eb;
    const fs::path ca = fs::weakly_canonical(fs::absolute(a), ea), cb = fs::weakly_canonical(fs::absolute(b), eb);
    return !ea && !eb && ca == cb;
}

void check_output_path(const fs::path& out, const std::vector<std::string>& inputs) {
    const std::string name = out.string();
    if (name.empty()) throw Error(ErrorKind::usage, "-o/--output: the output file name is empty");
    const std::string file = out.filename().string();
    if (file.empty() || file == "." || file == "..")
        throw file_error(ErrorKind::usage, name, "names a folder, not an output file (give a file name, e.g. out.fits)");
    // The output goes through a temporary ".NAME.tmp-PID-XXXXXXXX" beside it: both names must fit NAME_MAX.
    constexpr std::size_t kTempExtra = 32;
    if (file.size() + kTempExtra > NAME_MAX)
        throw file_error(ErrorKind::usage, name,
                         fmt::format("the output file name is {} bytes long; at most {} are accepted here", file.size(), NAME_MAX - kTempExtra));
    struct stat st {};
    if (::stat(name.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw file_error(ErrorKind::usage, name, "is a folder, not an output file (give a file name inside it)");
        if (!S_ISREG(st.st_mode)) throw file_error(ErrorKind::usage, name, "exists and is not a regular file; refusing to replace it");
    }
    const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw file_error(ErrorKind::usage, name, fmt::format("the output folder {} does not exist", dir.string()));
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw file_error(ErrorKind::usage, name, fmt::format("cannot write to the output folder {} ({})", dir.string(), std::strerror(errno)));
    for (const auto& in : inputs)
        if (!in.empty() && same_file(out, in))
            throw file_error(ErrorKind::usage, name, fmt::format("is the same file as the input {}: refusing to overwrite an input", in));
}

Progress::Progress(std::string what, int total)
    : what_(std::move(what)), total_(total), tty_(::isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

void Progress::step(int done, const std::string& detail) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0 ? s / done * (total_ - done) : 0.0;
    std::string line = fmt::format("{}: {}/{} {:.1f} s elapsed, ~{:.0f} s left{}{}", what_, done, total_, s, eta, detail.empty() ? "" : "  ", detail);
    if (tty_)
        fmt::print(stderr, "\r\033[K{}", line);
    else
        fmt::print(stderr, "{}\n", line);
}

void Progress::done() {
    if (tty_) fmt::print(stderr, "\n");
}

}  // namespace aiaccel::cli
