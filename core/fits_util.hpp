// Internal CFITSIO helpers shared by the reader and the writer (not part of the public API).
#pragma once

#include <fitsio.h>

#include <string>

#include "core/error.hpp"

namespace aiaccel {

// Throws a file_error with CFITSIO's own explanation appended when status != 0.
void check_fits(int status, const std::string& path, const std::string& what, ErrorKind kind = ErrorKind::unreadable);

// Prepares CFITSIO for threads; every open and create in core calls it first (FitsFile, the writer).
// CFITSIO fills its table of dither offsets (SUBTRACTIVE_DITHER quantisation, used to decode and to
// write quantised RICE tiles) on first use, but publishes the table before filling it, and decoders
// test it without the lock: a thread that decodes a dithered tile meanwhile reads zeros and gets other
// pixel values (docs/algorithms.md §6). Filled here once, before any file is opened.
void init_cfitsio();

// RAII handle for a file opened read-only (no extended-filename syntax: the path is literal).
class FitsFile {
public:
    explicit FitsFile(const std::string& path);
    ~FitsFile();
    FitsFile(const FitsFile&) = delete;
    FitsFile& operator=(const FitsFile&) = delete;
    fitsfile* get() const { return f_; }

private:
    fitsfile* f_ = nullptr;
};

}  // namespace aiaccel
