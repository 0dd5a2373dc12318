// Test helpers implementation.
#include "tests/test_support.hpp"

#include <fitsio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>

namespace aiaccel::test {
namespace fs = std::filesystem;

fs::path testdata() {
    const char* d = std::getenv("AIACCEL_TESTDATA");
    if (!d) throw std::runtime_error("AIACCEL_TESTDATA is not set (run the tests through `meson test`)");
    return d;
}

fs::path real_file(const std::string& name) { return testdata() / "aia" / name; }

ScratchDir::ScratchDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("aiaccel-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
}
ScratchDir::~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
}
std::vector<std::string> ScratchDir::entries() const {
    std::vector<std::string> v;
    for (auto& e : fs::directory_iterator(path_)) v.push_back(e.path().filename().string());
    return v;
}

CommandResult run_aiaccel(const std::vector<std::string>& args) {
    const char* exe = std::getenv("AIACCEL_EXE");
    if (!exe) throw std::runtime_error("AIACCEL_EXE is not set (run the tests through `meson test`)");
    ScratchDir io;
    std::string cmd = std::string("'") + exe + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " >'" + (io / "out").string() + "' 2>'" + (io / "err").string() + "' </dev/null";
    int st = std::system(cmd.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(io / "out");
    r.err = slurp(io / "err");
    return r;
}

void write_raw_fits(const fs::path& path, int bitpix, const std::vector<long>& naxes, const std::vector<double>& values,
                    const std::vector<std::string>& cards, bool rice) {
    fitsfile* f = nullptr;
    int status = 0;
    fs::remove(path);
    fits_create_diskfile(&f, path.c_str(), &status);
    if (rice) {
        fits_set_compression_type(f, RICE_1, &status);
        std::vector<long> tile(naxes.size(), 1);
        tile[0] = naxes[0];
        fits_set_tile_dim(f, static_cast<int>(tile.size()), tile.data(), &status);
    }
    std::vector<long> ax = naxes;
    fits_create_img(f, bitpix, static_cast<int>(ax.size()), ax.data(), &status);
    for (const auto& c : cards) fits_write_record(f, c.c_str(), &status);
    fits_set_bscale(f, 1.0, 0.0, &status);  // write raw values
    const auto n = static_cast<LONGLONG>(values.size());
    if (!values.empty() && bitpix == SHORT_IMG) {
        std::vector<short> v(values.begin(), values.end());
        fits_write_img(f, TSHORT, 1, n, v.data(), &status);
    } else if (!values.empty() && bitpix == LONGLONG_IMG) {
        std::vector<LONGLONG> v(values.begin(), values.end());
        fits_write_img(f, TLONGLONG, 1, n, v.data(), &status);
    } else if (!values.empty()) {
        fits_write_img(f, TDOUBLE, 1, n, const_cast<double*>(values.data()), &status);
    }
    fits_close_file(f, &status);
    if (status) {
        char t[FLEN_STATUS];
        fits_get_errstatus(status, t);
        throw std::runtime_error("write_raw_fits failed: " + std::string(t));
    }
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::filesystem::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

}  // namespace aiaccel::test
