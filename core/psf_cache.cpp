// PSFs cached on disk (see psf_cache.hpp).
#include "core/psf_cache.hpp"

#include <cstdlib>
#include <fmt/format.h>
#include <system_error>

#include "core/cache_dir.hpp"
#include "core/error.hpp"
#include "core/fits_io.hpp"

namespace aiaccel {
namespace fs = std::filesystem;

PsfCache::PsfCache(fs::path dir, std::string code_version) : dir_(std::move(dir)), code_version_(std::move(code_version)) {}

fs::path PsfCache::default_dir() {
    const char* e = std::getenv("AIACCEL_PSF_CACHE");
    if (e && *e) return std::string(e) == "off" ? fs::path() : fs::path(e);
    const fs::path root = cache_root();
    return root.empty() ? fs::path() : root / "psf";
}

fs::path PsfCache::file_for(std::string_view backend, const PsfRequest& req) const {
    return dir_ /
        fmt::format("psf_{}_{}a{}_aiapy{}_{}.fits", backend, req.channel, req.use_preflight_core ? "_preflight" : "", to_string(req.version),
                    code_version_.substr(0, 16));
}

Image<double> PsfCache::get(Backend& backend, const PsfRequest& req, const StageOptions& opt, bool* hit) const {
    if (hit) *hit = false;
    if (dir_.empty()) return backend.psf(req, opt);
    const fs::path file = file_for(backend.name(), req);
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
        try {
            if (verify_fits_checksum(file.string())) {
                FitsImage f = read_fits(file.string());
                if (f.header.get_string("CODEVER") == code_version_ && f.data.rows() > 0) {
                    if (hit) *hit = true;
                    return std::move(f.data);
                }
            }
        } catch (const Error&) {}  // an unreadable entry is recomputed and replaced
    }
    Image<double> psf = backend.psf(req, opt);
    try {
        fs::create_directories(dir_, ec);
        FitsHeader h;
        h.set_int("WAVELNTH", req.channel, "AIA channel [Angstrom]");
        h.set_bool("PREFLGHT", req.use_preflight_core, "aiapy use_preflight_core");
        h.set_string("AIAPYVER", to_string(req.version), "aiapy formulas reproduced");
        h.set_string("BACKEND", backend.name(), "aiaccel backend that computed it");
        h.set_string("CODEVER", code_version_, "sha256 of the sources that compute PSFs");
        write_fits(file, psf, h, {});
    } catch (const Error&) {}  // read-only or full cache folder: the PSF is still correct, only not kept
    return psf;
}

}  // namespace aiaccel
