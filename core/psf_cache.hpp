// PSFs cached on disk, so a pipeline computes each channel's PSF at most once per machine (issue #6):
// one FITS file per (backend, channel, preflight core, aiapy formulas, code version), written
// atomically with CHECKSUM/DATASUM and verified when read. The code version is a hash of the sources
// that compute PSFs (apps/ generates it), so a changed kernel never reuses an old PSF.
// Folder: $AIACCEL_PSF_CACHE (the word "off" disables the cache), else <cache_root()>/psf.
#pragma once

#include <filesystem>
#include <string>

#include "core/backend.hpp"

namespace aiaccel {

class PsfCache {
public:
    // An empty folder disables the cache (every call computes).
    PsfCache(std::filesystem::path dir, std::string code_version);
    static std::filesystem::path default_dir();

    // The PSF from the cache when present and intact, else computed by `backend` and stored.
    // `hit` (optional) says which. A cache that cannot be written is not an error: the PSF is returned.
    Image<double> get(Backend& backend, const PsfRequest& req, const StageOptions& opt, bool* hit = nullptr) const;

    std::filesystem::path file_for(std::string_view backend, const PsfRequest& req) const;
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    std::string code_version_;
};

}  // namespace aiaccel
