// Helpers shared by the test files: test-data paths, scratch folders, running the CLI.
#pragma once

#include <fitsio.h>

#include <filesystem>
#include <string>
#include <vector>

namespace aiaccel::test {

std::filesystem::path testdata();  // $AIACCEL_TESTDATA (set by meson)
std::filesystem::path real_file(const std::string& name);  // testdata/aia/<name>

// A fresh empty folder under the system temp dir, removed when the object dies.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    std::vector<std::string> entries() const;  // file names now in the folder (incl. hidden)

private:
    std::filesystem::path path_;
};

struct CommandResult {
    int exit_code = -1;
    std::string out, err;
};
// Runs the built `aiaccel` ($AIACCEL_EXE) with these arguments, capturing stdout and stderr.
CommandResult run_aiaccel(const std::vector<std::string>& args);

// Writes a minimal FITS image with CFITSIO directly (bypassing our writer), for crafting inputs.
// `cards` are raw header records added after the structural ones.
void write_raw_fits(const std::filesystem::path& path, int bitpix, const std::vector<long>& naxes, const std::vector<double>& values,
                    const std::vector<std::string>& cards, bool rice = false);

// A file's bytes, and a file made of bytes (crafted-input tests).
std::string slurp(const std::filesystem::path& p);
void spit(const std::filesystem::path& p, const std::string& bytes);

}  // namespace aiaccel::test
