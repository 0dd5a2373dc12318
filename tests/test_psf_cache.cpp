// core/psf_cache: a PSF is computed once per key, reused while intact, recomputed when the entry is
// damaged or the code version changes, and a cache that cannot be written never fails the caller.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/fits_io.hpp"
#include "core/psf_cache.hpp"

namespace aiaccel {
namespace {
namespace fs = std::filesystem;

class CountingBackend final : public Backend {
public:
    int calls = 0;
    std::string_view name() const override { return "counting"; }
    bool supports(Precision) const override { return true; }
    Image<double> psf(const PsfRequest& req, const StageOptions&) override {
        ++calls;
        Image<double> p(8, 8);
        for (std::size_t i = 0; i < 64; ++i) p.data()[i] = req.channel + 1e-3 * static_cast<double>(i);
        return p;
    }
    Image<double> deconvolve(const Image<double>& img, const Image<double>&, const DeconvolveRequest&, const StageOptions&) override { return img; }
    AiaImage register_image(const AiaImage& img, const RegisterRequest&, const StageOptions&) override { return img; }
};

fs::path fresh_dir(const char* name) {
    fs::path d = fs::temp_directory_path() / (std::string("aiaccel_psf_cache_") + name + std::to_string(::getpid()));
    fs::remove_all(d);
    return d;
}

TEST(PsfCache, ComputesOnceThenReusesTheSameValues) {
    const fs::path dir = fresh_dir("reuse");
    CountingBackend be;
    const PsfCache cache(dir, "v1");
    bool hit = true;
    const Image<double> a = cache.get(be, {.channel = 171}, {}, &hit);
    EXPECT_FALSE(hit);
    const Image<double> b = cache.get(be, {.channel = 171}, {}, &hit);
    EXPECT_TRUE(hit);
    EXPECT_EQ(be.calls, 1);
    ASSERT_EQ(b.rows(), 8u);
    for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(a.data()[i], b.data()[i]);
    cache.get(be, {.channel = 193}, {}, &hit);  // another key
    EXPECT_FALSE(hit);
    cache.get(be, {.channel = 171, .use_preflight_core = true}, {}, &hit);
    EXPECT_FALSE(hit);
    cache.get(be, {.channel = 171, .version = AiapyVersion::v0_12_1}, {}, &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(be.calls, 4);
    fs::remove_all(dir);
}

TEST(PsfCache, NewCodeVersionOrDamagedEntryIsRecomputed) {
    const fs::path dir = fresh_dir("stale");
    CountingBackend be;
    bool hit = true;
    PsfCache(dir, "v1").get(be, {.channel = 171}, {}, &hit);
    PsfCache(dir, "v2").get(be, {.channel = 171}, {}, &hit);
    EXPECT_FALSE(hit);
    const PsfCache v2(dir, "v2");
    const fs::path f = v2.file_for("counting", {.channel = 171});
    ASSERT_TRUE(fs::exists(f));
    {  // flip a data byte: the checksum no longer verifies
        std::fstream s(f, std::ios::in | std::ios::out | std::ios::binary);
        s.seekp(static_cast<std::streamoff>(fs::file_size(f) - 100));
        s.put('\x7f');
    }
    v2.get(be, {.channel = 171}, {}, &hit);
    EXPECT_FALSE(hit);
    EXPECT_TRUE(verify_fits_checksum(f.string()));  // replaced by a good entry
    EXPECT_EQ(be.calls, 3);
    fs::remove_all(dir);
}

TEST(PsfCache, DisabledOrUnwritableCacheStillReturnsThePsf) {
    CountingBackend be;
    bool hit = true;
    EXPECT_EQ(PsfCache({}, "v1").get(be, {.channel = 94}, {}, &hit).rows(), 8u);
    EXPECT_FALSE(hit);
    EXPECT_EQ(PsfCache("/proc/aiaccel-not-writable", "v1").get(be, {.channel = 94}, {}, &hit).rows(), 8u);
    EXPECT_EQ(be.calls, 2);
}

}  // namespace
}  // namespace aiaccel
