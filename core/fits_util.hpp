// Internal CFITSIO helpers shared by the reader and the writer (not part of the public API).
#pragma once

#include <fitsio.h>

#include <string>

#include "core/error.hpp"

namespace aiaccel {

// Throws a file_error with CFITSIO's own explanation appended when status != 0.
void check_fits(int status, const std::string& path, const std::string& what, ErrorKind kind = ErrorKind::unreadable);

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
