// The single-file commands' outputs (issue #12): an output is never an input (same path, symlink or
// hard link), path and usage errors exit 2 with one line, degenerate results and unusable PSFs are
// refused before anything is written, out of memory names the file and the stage, identical runs give
// identical bytes with valid checksums, and the CUDA module is mapped only when the cuda backend is
// selected or probed.
#include <gtest/gtest.h>

#include <fitsio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "aiaccel_config.hpp"
#include "apps/cli_common.hpp"
#include "core/aia_image.hpp"
#include "core/fits_io.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {

const std::string kSmall = "aia_171_level1.fits";  // 128² full disk

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Runs `prefix aiaccel args...` through the shell (prefix: environment settings, ulimit, setpriv).
test::CommandResult run_with(const std::string& prefix, const std::vector<std::string>& args) {
    test::ScratchDir io;
    std::string cmd = prefix + " " + quote(std::getenv("AIACCEL_EXE"));
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " >" + quote((io / "out").string()) + " 2>" + quote((io / "err").string()) + " </dev/null";
    const int st = std::system(("sh -c " + quote(cmd)).c_str());
    test::CommandResult r;
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = read_bytes(io / "out");
    r.err = read_bytes(io / "err");
    return r;
}

// One line on stderr, "aiaccel: ..." naming `what`, exit 2.
void expect_usage_line(const test::CommandResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.err.starts_with("aiaccel: ")) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(".tmp-"), std::string::npos) << r.err;  // never the internal temp-file name
}

// AddressSanitizer reserves terabytes of address space: the ulimit -v tests cannot run under it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

fs::path copy_small(const test::ScratchDir& dir, const std::string& name = "in.fits") {
    fs::copy_file(test::real_file(kSmall), dir / name);
    return dir / name;
}

}  // namespace

// ---- item 5: an output is never an input -----------------------------------------------------------

TEST(CliOutputs, OutputThatIsTheInputIsRefusedThroughSymlinksAndHardLinks) {
    test::ScratchDir dir;
    const fs::path in = copy_small(dir);
    const std::string before = read_bytes(in);
    fs::create_symlink(in, dir / "sym.fits");
    fs::create_hard_link(in, dir / "hard.fits");
    const std::string spelled = (dir.path() / "." / "in.fits").string();
    for (const std::string& out : {in.string(), spelled, (dir / "sym.fits").string(), (dir / "hard.fits").string()}) {
        SCOPED_TRACE(out);
        auto r = test::run_aiaccel({"register", in.string(), "-o", out});
        expect_usage_line(r, "same file as the input");
        auto d = test::run_aiaccel({"derive", in.string(), "-o", out});
        expect_usage_line(d, "same file as the input");
    }
    EXPECT_EQ(read_bytes(in), before);
    EXPECT_EQ(dir.entries().size(), 3u);  // nothing new, no temp files
}

TEST(CliOutputs, DeconvolveOutputThatIsThePsfIsRefused) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    write_fits(dir / "psf.fits", Image<double>(128, 128, 1.0 / (128.0 * 128.0)), {});
    const std::string before = read_bytes(dir / "psf.fits");
    fs::create_symlink(dir / "psf.fits", dir / "psf-link.fits");
    fs::create_hard_link(dir / "psf.fits", dir / "psf-hard.fits");
    for (const char* out : {"psf.fits", "psf-link.fits", "psf-hard.fits"}) {
        SCOPED_TRACE(out);
        auto r = test::run_aiaccel({"deconvolve", in, "--psf", (dir / "psf.fits").string(), "-n", "1", "-o", (dir / out).string()});
        expect_usage_line(r, "same file as the input " + (dir / "psf.fits").string());
    }
    EXPECT_EQ(read_bytes(dir / "psf.fits"), before);
    EXPECT_EQ(dir.entries().size(), 3u);
}

TEST(CliOutputs, SameFileHelper) {
    test::ScratchDir dir;
    const fs::path in = copy_small(dir);
    fs::create_symlink(in, dir / "sym.fits");
    fs::create_hard_link(in, dir / "hard.fits");
    fs::copy_file(in, dir / "copy.fits");
    EXPECT_TRUE(cli::same_file(in, dir / "sym.fits"));
    EXPECT_TRUE(cli::same_file(in, dir / "hard.fits"));
    EXPECT_TRUE(cli::same_file(dir / "absent.fits", dir.path() / "." / "absent.fits"));
    EXPECT_FALSE(cli::same_file(in, dir / "copy.fits"));
    EXPECT_FALSE(cli::same_file(in, dir / "absent.fits"));
}

// ---- item 6: degenerate outputs are errors ----------------------------------------------------------

TEST(CliOutputs, RegisterRefusesADegenerateResult) {
    // Two rows of the 128² full-disk file at 2000″/px: the Sun (radius ~960″ < half a pixel) lies between
    // the pixel centres, so the image "contains the full disk"; aiapy's crop to the input's row count (2)
    // around CRPIX1 = 64.5 then keeps rows 63..64 of a 2-row frame: 128x0 px.
    test::ScratchDir dir;
    AiaImage src = load_aia(test::real_file(kSmall).string());
    Image<double> thin(2, src.data.cols());
    for (std::size_t y = 0; y < 2; ++y)
        for (std::size_t x = 0; x < thin.cols(); ++x) thin(y, x) = src.data(63 + y, x);
    FitsHeader h = src.header;
    h.set_double("CDELT1", 2000.0);
    h.set_double("CDELT2", 2000.0);
    h.set_double("CRPIX1", 64.5);
    h.set_double("CRPIX2", 1.5);
    WriteOptions wo;
    wo.dtype = src.dtype;
    write_fits(dir / "thin.fits", thin, h, wo);
    auto r = test::run_aiaccel({"register", (dir / "thin.fits").string(), "-o", (dir / "out.fits").string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find((dir / "thin.fits").string() + ": registering it gives a "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("degenerate output"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out.fits"));
    EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(CliOutputs, RegisterWarnsAboutLevel15InputAsAiapyAndRegistersIt) {
    // aiapy.calibrate.register warns (AIApyUserWarning) when LVL_NUM is absent or above 1 and registers
    // anyway. Input: the 128² real file registered once (LVL_NUM 1.5; derived from a real file here).
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string(), lev15 = (dir / "lev15.fits").string();
    auto first = test::run_aiaccel({"register", in, "-o", lev15});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.err.find("warning"), std::string::npos) << first.err;
    auto again = test::run_aiaccel({"register", lev15, "-o", (dir / "again.fits").string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.err.find("register: warning: " + lev15 + ": Image registration should only be applied to level 1 data"), std::string::npos)
        << again.err;
    const AiaImage a = load_aia(lev15), b = load_aia((dir / "again.fits").string());
    EXPECT_EQ(b.data.rows(), a.data.rows());
    EXPECT_EQ(b.header.get_double("CDELT1"), a.header.get_double("CDELT1"));  // the same output scale
}

// ---- item 7: usage and path errors exit 2 with one line ---------------------------------------------

TEST(CliOutputs, OutputPathErrorsAreOneLineExit2) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    fs::create_directory(dir / "sub");
    auto r = [&](const std::string& out) { return test::run_aiaccel({"register", in, "-o", out}); };
    expect_usage_line(r(""), "output file name is empty");
    expect_usage_line(r("."), "names a folder");
    expect_usage_line(r((dir / "sub").string() + "/"), "names a folder");
    expect_usage_line(r((dir / "sub").string()), "is a folder");
    expect_usage_line(r((dir / "missing" / "out.fits").string()), "does not exist");
    expect_usage_line(r("/dev/null"), "not a regular file");
    EXPECT_TRUE(fs::is_character_file("/dev/null"));
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"sub"});
    EXPECT_TRUE(fs::is_empty(dir / "sub"));
}

TEST(CliOutputs, ReadOnlyOutputFolderIsExit2) {
    test::ScratchDir dir;
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro",
                    fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                        fs::perms::others_exec);
    fs::permissions(dir.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    // Root writes anywhere: run the command as nobody then (the folder stays read-only to it).
    const std::string prefix = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups" : "";
    if (::geteuid() == 0 && std::system("setpriv --reuid=65534 --regid=65534 --clear-groups true") != 0)
        GTEST_SKIP() << "running as root and setpriv cannot drop to nobody";
    auto r = run_with(prefix, {"register", test::real_file(kSmall).string(), "-o", (dir / "ro" / "out.fits").string()});
    expect_usage_line(r, "cannot write to the output folder");
    EXPECT_TRUE(fs::is_empty(dir / "ro"));
}

TEST(CliOutputs, OutOfMemoryNamesTheFileAndTheStage) {
    try {
        cli::stage("in.fits", "registering it", []() -> int { throw std::bad_alloc(); });
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "in.fits: out of memory while registering it");
        EXPECT_EQ(e.exit_code(), 1);
    }
    EXPECT_EQ(cli::stage("in.fits", "reading it", [] { return 7; }), 7);
}

TEST(CliOutputs, OutOfMemoryInARealRunIsOneLineNamingTheStage) {
    if (kAsan) GTEST_SKIP() << "ulimit -v under AddressSanitizer";
    // A build with -Dmkl links oneMKL (~120 MB of shared libraries mapped at load): the executable cannot
    // start in 100 MB of address space (docs/architecture.md §2.1).
    if (AIACCEL_HAVE_MKL) GTEST_SKIP() << "ulimit -v 100000 in a build linked with oneMKL";
    // The derived input is 4096² float64 (128 MiB): it cannot fit in 100 MB of address space.
    test::ScratchDir dir;
    const std::string in = test::real_file("aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits").string();
    auto r = run_with("ulimit -v 100000;", {"derive", in, "-o", (dir / "d.fits").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "aiaccel: " + in + ": out of memory while deriving the 4096x4096 input from it\n");
    EXPECT_TRUE(dir.entries().empty());
}

// ---- item 12 (PSF): unusable --psf files are refused before computing -------------------------------

TEST(CliOutputs, ZeroNonFiniteAndMisshapenPsfAreRefused) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    Image<double> nan_psf(128, 128, 1.0 / (128.0 * 128.0));
    nan_psf(3, 5) = std::numeric_limits<double>::quiet_NaN();
    Image<double> inf_psf(128, 128, 0.0);
    inf_psf(64, 64) = std::numeric_limits<double>::infinity();
    write_fits(dir / "zero.fits", Image<double>(128, 128, 0.0), {});
    write_fits(dir / "nan.fits", nan_psf, {});
    write_fits(dir / "inf.fits", inf_psf, {});
    write_fits(dir / "negative.fits", Image<double>(128, 128, -1.0), {});
    write_fits(dir / "small.fits", Image<double>(64, 64, 1.0 / 4096.0), {});
    const std::vector<std::pair<std::string, std::string>> cases = {{"zero.fits", "all zero"},
                                                                    {"nan.fits", "non-finite"},
                                                                    {"inf.fits", "non-finite"},
                                                                    {"negative.fits", "positive sum"},
                                                                    {"small.fits", "64x64 px but the image"}};
    for (const auto& [psf, why] : cases) {
        SCOPED_TRACE(psf);
        auto r = test::run_aiaccel({"deconvolve", in, "--psf", (dir / psf).string(), "-n", "2", "-o", (dir / "out.fits").string()});
        expect_usage_line(r, (dir / psf).string() + ": ");
        EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir / "out.fits"));
    }
}

// ---- item 13: identical runs give identical bytes, with valid checksums ----------------------------

TEST(CliOutputs, RegisterTwiceGivesIdenticalBytes) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    for (const char* out : {"a.fits", "b.fits"}) {
        auto r = test::run_aiaccel({"register", in, "-o", (dir / out).string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        if (std::string(out) == "a.fits") ::sleep(1);  // CFITSIO's timestamps have one-second resolution
    }
    EXPECT_EQ(read_bytes(dir / "a.fits"), read_bytes(dir / "b.fits"));
    EXPECT_TRUE(verify_fits_checksum((dir / "a.fits").string()));
}

TEST(CliOutputs, WriterBytesAreReproducibleForEveryEncoding) {
    test::ScratchDir dir;
    AiaImage src = load_aia(test::real_file(kSmall).string());
    struct Case {
        const char* name;
        PixelType dtype;
        Compression c;
    };
    for (const Case& c : {Case{"f64", PixelType::f64, Compression::none}, Case{"f32-rice", PixelType::f32, Compression::rice},
                          Case{"f32-gzip", PixelType::f32, Compression::gzip}, Case{"f64-gzip", PixelType::f64, Compression::gzip}}) {
        SCOPED_TRACE(c.name);
        WriteOptions wo;
        wo.dtype = c.dtype;
        wo.compression = c.c;
        const fs::path a = dir / (std::string(c.name) + "-a.fits"), b = dir / (std::string(c.name) + "-b.fits");
        write_fits(a, src.data, src.header, wo);
        ::sleep(1);
        write_fits(b, src.data, src.header, wo);
        const std::string bytes = read_bytes(a);
        EXPECT_EQ(bytes, read_bytes(b));
        EXPECT_TRUE(verify_fits_checksum(a.string()));
        // No time stamp in the checksum cards' comments.
        EXPECT_NE(bytes.find("/ data unit checksum"), std::string::npos);
        EXPECT_NE(bytes.find("/ HDU checksum"), std::string::npos);
        EXPECT_EQ(bytes.find("checksum updated"), std::string::npos);
        // The values are CFITSIO's: recomputing them changes nothing.
        fitsfile* f = nullptr;
        int status = 0, hdutype = 0, dataok = 0, hduok = 0;
        fits_open_diskfile(&f, a.c_str(), READONLY, &status);
        if (c.c != Compression::none) fits_movabs_hdu(f, 2, &hdutype, &status);
        fits_verify_chksum(f, &dataok, &hduok, &status);
        fits_close_file(f, &status);
        EXPECT_EQ(status, 0);
        EXPECT_EQ(dataok, 1);
        EXPECT_EQ(hduok, 1);
    }
}

TEST(CliOutputs, WriterRefusesEmptyImagesAndFolderNames) {
    test::ScratchDir dir;
    EXPECT_THROW(write_fits(dir / "e.fits", Image<double>(0, 5), {}), Error);
    EXPECT_THROW(write_fits(dir / "e.fits", Image<double>(5, 0), {}), Error);
    try {
        write_fits(fs::path(""), Image<double>(2, 2, 1.0), {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_EQ(std::string(e.what()).find(".tmp"), std::string::npos) << e.what();
    }
    try {
        write_fits(dir.path() / "", Image<double>(2, 2, 1.0), {});
        FAIL();
    } catch (const Error& e) { EXPECT_EQ(e.exit_code(), 2); }
    EXPECT_TRUE(dir.entries().empty());
}

// ---- item 14: CUDA only when asked for or probed ---------------------------------------------------

namespace {
// The dynamic loader's own record of the shared objects a run opened.
std::string loaded_objects(const std::vector<std::string>& args, const std::string& env = "") { return run_with("LD_DEBUG=files " + env, args).err; }
bool cuda_built() { return std::string(std::getenv("AIACCEL_HAVE_CUDA") ? std::getenv("AIACCEL_HAVE_CUDA") : "0") == "1"; }
}  // namespace

TEST(CliCudaModule, CpuWorkNeverMapsCuda) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"info", in},
                                               {"register", in, "--backend", "cpu", "-o", (dir / "r.fits").string()},
                                               {"prep", in, "--backend", "cpu", "--steps", "register", "-o", (dir / "prep").string()}}) {
        SCOPED_TRACE(args[0] + " " + args.back());
        const std::string ld = loaded_objects(args);
        EXPECT_NE(ld.find("file="), std::string::npos) << "LD_DEBUG gave nothing";
        EXPECT_EQ(ld.find("cufft"), std::string::npos) << ld.substr(0, 4000);
        EXPECT_EQ(ld.find("cudart"), std::string::npos);
        EXPECT_EQ(ld.find("libaiaccel_cuda"), std::string::npos);
    }
}

TEST(CliCudaModule, InfoRunsInThreeHundredMegabytesOfAddressSpace) {
    if (kAsan) GTEST_SKIP() << "ulimit -v under AddressSanitizer";
    auto r = run_with("ulimit -v 300000;", {"info", test::real_file("aia_171_cutout.fits").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliCudaModule, CudaBackendLoadsTheModuleWhenSelected) {
    test::ScratchDir dir;
    const std::string in = test::real_file(kSmall).string();
    const std::vector<std::string> args = {"register", in, "--backend", "cuda", "-o", (dir / "r.fits").string()};
    if (!cuda_built()) {
        auto r = test::run_aiaccel(args);
        expect_usage_line(r, "cuda: not built");
        return;
    }
    const char* module = std::getenv("AIACCEL_CUDA_MODULE_PATH");
    ASSERT_NE(module, nullptr);
    // Pointing at the module skips the driver-node shortcut, so the module's own probe answers here.
    const std::string env = "AIACCEL_CUDA_MODULE=" + quote(module);
    const std::string ld = loaded_objects(args, env);
    EXPECT_NE(ld.find("libaiaccel_cuda.so"), std::string::npos) << ld.substr(0, 4000);
    auto r = run_with(env, args);
    if (r.exit_code != 0) expect_usage_line(r, "cuda: built, but no device");
    // The default lookup (next to the executable, then the build tree) finds the same module.
    auto d = test::run_aiaccel(args);
    if (d.exit_code != 0) expect_usage_line(d, "cuda: built, but no device");
    auto missing = run_with("AIACCEL_CUDA_MODULE=/nonexistent/libaiaccel_cuda.so", args);
    expect_usage_line(missing, "was not found");
}
