// Typed errors for aiaccel. Every message names the file (or object) and the problem in words a
// user can act on; the command line prints what() as one line and exits with exit_code().
#pragma once

#include <stdexcept>
#include <string>

namespace aiaccel {

enum class ErrorKind {
    unreadable,  // file missing, unreadable, truncated, not FITS
    unsupported,  // FITS we understand but do not support (BITPIX, NAXIS, ...)
    not_aia,  // valid FITS but not an AIA image / unknown channel
    missing_keyword,  // a keyword the stage needs is absent or malformed
    bad_value,  // a keyword or pixel value out of range (NaN where forbidden, wrong size)
    write_failed,  // output could not be written (nothing left behind)
    usage,  // bad command-line combination
    not_implemented,  // a backend that does not (yet) provide this stage or precision
    internal,  // a bug: should never reach a user
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }
    // Exit code convention of the CLI: 2 for bad input/usage, 1 otherwise.
    int exit_code() const noexcept { return kind_ == ErrorKind::internal || kind_ == ErrorKind::write_failed ? 1 : 2; }

private:
    ErrorKind kind_;
};

// "<file>: <problem>" — the one shape all file-related messages take.
inline Error file_error(ErrorKind kind, const std::string& file, const std::string& problem) { return Error(kind, file + ": " + problem); }

}  // namespace aiaccel
