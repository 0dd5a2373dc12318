// CFITSIO error translation and the read-only file handle.
#include "core/fits_util.hpp"

extern "C" {  // fitsio2.h, unlike fitsio.h, has no C++ guard
#include <fitsio2.h>  // fits_init_randoms: exported by libcfitsio, declared only in this header
}

#include <fmt/format.h>
#include <mutex>
#include <new>

namespace aiaccel {

void check_fits(int status, const std::string& path, const std::string& what, ErrorKind kind) {
    if (status == 0) return;
    char text[FLEN_STATUS] = {0};
    fits_get_errstatus(status, text);
    char msg[FLEN_ERRMSG] = {0};
    std::string detail;
    while (fits_read_errmsg(msg)) {
        if (detail.empty()) detail = msg;
    }  // first = most specific
    std::string s = fmt::format("{} (CFITSIO {}: {}{}{})", what, status, text, detail.empty() ? "" : "; ", detail);
    throw file_error(kind, path, s);
}

void init_cfitsio() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (fits_init_randoms() != 0) throw std::bad_alloc();  // MEMORY_ALLOCATION is its only error
    });
}

FitsFile::FitsFile(const std::string& path) {
    init_cfitsio();
    int status = 0;
    fits_open_diskfile(&f_, path.c_str(), READONLY, &status);
    if (status) {
        f_ = nullptr;
        check_fits(status, path, "not a readable FITS file");
    }
}

FitsFile::~FitsFile() {
    int status = 0;
    if (f_) fits_close_file(f_, &status);
}

}  // namespace aiaccel
