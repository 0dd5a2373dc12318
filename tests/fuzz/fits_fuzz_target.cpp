// libFuzzer target for the FITS header parser (core/fits_header.cpp), the reader (core/fits_read.cpp,
// through CFITSIO on a temp file) and the AIA header accessors (core/aia_header.cpp).
// Built and run by tools/fuzz; the contract: any input either reads or throws aiaccel::Error,
// never crashes, leaks or trips a sanitizer.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/aia_header.hpp"
#include "core/error.hpp"
#include "core/fits_header.hpp"
#include "core/fits_io.hpp"

namespace {

// The header parser on 80-character cards cut straight from the input.
void fuzz_header(const uint8_t* data, size_t size) {
    aiaccel::FitsHeader h;
    for (size_t off = 0; off < size && off < 80 * 400; off += 80) {
        h.add_raw(std::string(reinterpret_cast<const char*>(data + off), std::min<size_t>(80, size - off)));
    }
    for (const char* k : {"NAXIS1", "BSCALE", "BLANK", "DATE-OBS", "WAVELNTH", "CDELT1", "HIERARCH", "CRPIX1", "PC1_1"}) {
        (void)h.get_text(k);
        (void)h.get_double(k);
        (void)h.get_string(k);
    }
    aiaccel::AiaHeader aia(h, "fuzz");
    try {
        (void)aia.is_aia();
        (void)aia.channel();
    } catch (const aiaccel::Error&) {}
    try {
        (void)aia.rotation_deg();
        (void)aia.sun_centre_px();
        (void)aia.sun_radius_px();
    } catch (const aiaccel::Error&) {}
    try {
        (void)aia.date_obs();
        (void)aia.pointing_keys_present();
    } catch (const aiaccel::Error&) {}
    h.set_double("CRPIX1", 1.5);
    h.set_string("DATE-OBS", "2013-03-10T12:00:11.341");
    h.add_history("fuzz");
    h.erase("BLANK");
}

std::string temp_path() {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/aiaccel-fits-fuzz-" + std::to_string(getpid()) + ".fits";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz_header(data, size);
    static const std::string path = temp_path();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        aiaccel::FitsImage img = aiaccel::read_fits(path);
        aiaccel::AiaHeader aia(img.header, path);
        try {
            (void)aia.channel();
            (void)aia.sun_centre_px();
        } catch (const aiaccel::Error&) {}
    } catch (const aiaccel::Error&) {
        // a clean refusal is the contract
    }
    std::remove(path.c_str());
    return 0;
}
