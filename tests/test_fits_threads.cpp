// CFITSIO and threads: a thread that decodes a dithered RICE tile (SUBTRACTIVE_DITHER_1, as our
// writer and the prep batch's 2048² 1600 Å inputs use) while another thread's first decode fills
// CFITSIO's table of dither offsets must get the pixels a later decode gets (docs/algorithms.md §6;
// the intermittent prep-batch failure: one output of two concurrent first decodes differed). Every
// attempt runs in a fresh child process, whose CFITSIO has not quantised or unquantised anything yet:
// this test has its own executable, and only children touch CFITSIO.
#include <gtest/gtest.h>
#include <pthread.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "core/aia_image.hpp"
#include "core/derived_input.hpp"
#include "core/fits_io.hpp"
#include "core/fits_util.hpp"
#include "tests/test_support.hpp"

// CFITSIO's dither table, null until filled (exported by libcfitsio, declared in none of its headers).
extern "C" float* fits_rand_value;

using namespace aiaccel;
namespace fs = std::filesystem;

namespace {

float* dither_table() { return std::atomic_ref<float*>(fits_rand_value).load(); }

// Runs `body` in a child process; its return value is the child's exit code.
int in_child(const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid == 0) {
        int rc = 2;
        try {
            rc = body();
        } catch (...) {}
        _exit(rc);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// DERIVED input: rows 1000-1015 of the real 2048² 1600 Å frame, written by our writer as RICE floats
// (quantised, SUBTRACTIVE_DITHER_1), one 2048-px tile per row.
int write_derived_strip(const fs::path& out) {
    const AiaImage src = load_aia(test::real_file(kDerived1600Source).string());
    Image<double> strip(16, src.data.cols());
    for (std::size_t r = 0; r < strip.rows(); ++r)
        for (std::size_t c = 0; c < strip.cols(); ++c) strip(r, c) = src.data(1000 + r, c);
    FitsHeader h;
    h.add_raw(std::string("COMMENT DERIVED: rows 1000-1015 of ") + kDerived1600Source + "; not an observation");
    WriteOptions wo;
    wo.compression = Compression::rice;
    write_fits(out, strip, h, wo);
    return 0;
}

bool same_bytes(const std::vector<double>& a, const Image<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Holds up the thread it is delivered to (SIGUSR1): for a while, wherever it is.
void hold_up(int) {
    const timespec t{0, 50'000'000};
    nanosleep(&t, nullptr);
}

// The first two CPUs this process may run on, or fewer.
std::vector<int> two_cpus() {
    cpu_set_t allowed;
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu)
        if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
    return cpus;
}

bool pin_to(int cpu) {  // the calling thread
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
}

// Thread A (this one, on one CPU) decodes with read_fits; thread B (on another) has the same file
// open (FitsFile), spins until the table is published, holds A up (so a table being filled stays
// half filled) and decodes. Exit 0: both decoded what a decode after them decodes; 1: one did not.
int concurrent_first_decodes(const fs::path& file) {
    if (dither_table() != nullptr) return 3;  // not a fresh CFITSIO: the attempt would prove nothing
    struct sigaction sa {};
    sa.sa_handler = hold_up;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, nullptr);
    const std::vector<int> cpus = two_cpus();
    if (cpus.size() < 2 || !pin_to(cpus[0])) return 4;
    const pthread_t a_thread = pthread_self();
    std::atomic<int> b_state{0};  // 1: file open, 2: could not pin
    std::vector<double> b;
    std::thread tb([&] {
        if (!pin_to(cpus[1])) return void(b_state = 2);
        FitsFile f(file.string());
        int type = 0, status = 0, anynul = 0;
        fits_movabs_hdu(f.get(), 2, &type, &status);
        b.resize(16 * 2048);
        b_state = 1;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (dither_table() == nullptr && std::chrono::steady_clock::now() < give_up) {}
        pthread_kill(a_thread, SIGUSR1);
        fits_read_img(f.get(), TDOUBLE, 1, static_cast<LONGLONG>(b.size()), nullptr, b.data(), &anynul, &status);
        if (status) b.clear();
    });
    while (b_state == 0) {}
    if (b_state == 2) return tb.join(), 4;
    const FitsImage a = read_fits(file.string());
    tb.join();
    const FitsImage after = read_fits(file.string());
    const bool a_ok = std::memcmp(a.data.data(), after.data.data(), a.data.size() * sizeof(double)) == 0;
    return a_ok && same_bytes(b, after.data) ? 0 : 1;
}

constexpr int kAttempts = 16;  // without the fix about half of them differ (2-CPU machine, load 8)

TEST(FitsThreads, DecodeDuringCfitsioFirstDitherDecodeGetsSamePixels) {
    ASSERT_EQ(dither_table(), nullptr) << "this process's CFITSIO already filled its dither table";
    test::ScratchDir dir;
    const fs::path strip = dir / "derived_1600_strip_rice.fits";
    ASSERT_EQ(in_child([&] { return write_derived_strip(strip); }), 0) << "cannot write the derived input";
    int differed = 0;
    for (int i = 0; i < kAttempts; ++i) {
        const int rc = in_child([&] { return concurrent_first_decodes(strip); });
        if (rc == 4) GTEST_SKIP() << "needs two CPUs to pin the two threads to";
        ASSERT_TRUE(rc == 0 || rc == 1) << "attempt " << i << " ended with " << rc;
        differed += rc;
    }
    EXPECT_EQ(differed, 0) << differed << " of " << kAttempts
                           << " fresh processes decoded a dithered tile differently while CFITSIO filled its table";
}

}  // namespace
