// Reference-output cache (see ref_cache.hpp).
#include "validate/ref_cache.hpp"
#include "core/clock.hpp"

#include <unistd.h>

#include <bit>
#include <ctime>
#include <fftw3.h>
#include <fmt/format.h>
#include <fstream>
#include <random>

#include "core/sha256.hpp"
#include "reference_version.hpp"  // generated: AIACCEL_REFERENCE_SOURCE_SHA256
#include "validate/result_row.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;
using nlohmann::json;

static_assert(std::endian::native == std::endian::little, "the cache stores little-endian float64");

std::string reference_code_version() { return AIACCEL_REFERENCE_SOURCE_SHA256; }

ReferenceCache::ReferenceCache(fs::path dir) : dir_(std::move(dir)) {}

std::string ReferenceCache::key(const json& what) {
    json k = {{"what", what},
              {"reference_code", reference_code_version()},
              {"compiler", MachineInfo::here().compiler},
              {"fftw", std::string(fftw_version)},
              {"format", 1}};
    return sha256_hex(k.dump().data(), k.dump().size());
}

std::optional<ReferenceCache::Entry> ReferenceCache::load(const std::string& key) const {
    if (!enabled()) return std::nullopt;
    std::ifstream meta_in(dir_ / (key + ".json"));
    if (!meta_in) return std::nullopt;
    try {
        const json meta = json::parse(meta_in);
        Entry e;
        const auto rows = meta.at("rows").get<std::size_t>(), cols = meta.at("cols").get<std::size_t>();
        e.image.data = Image<double>(rows, cols);
        std::ifstream data_in(dir_ / (key + ".f64"), std::ios::binary);
        data_in.read(reinterpret_cast<char*>(e.image.data.data()), std::streamsize(rows * cols * sizeof(double)));
        if (!data_in || data_in.peek() != std::char_traits<char>::eof()) return std::nullopt;
        if (sha256_hex(e.image.data.data(), rows * cols * sizeof(double)) != meta.at("data_sha256").get<std::string>()) return std::nullopt;
        const std::string dtype = meta.at("dtype").get<std::string>();
        for (auto t : {PixelType::u8, PixelType::i16, PixelType::i32, PixelType::f32, PixelType::f64})
            if (to_string(t) == dtype) e.image.dtype = t;
        for (const auto& card : meta.at("header")) e.image.header.add_raw(card.get<std::string>());
        e.image.path = meta.value("path", "");
        e.compute_s = meta.value("compute_s", 0.0);
        e.created_utc = meta.value("created_utc", "");
        return e;
    } catch (const std::exception&) { return std::nullopt; }
}

namespace {
// Writes bytes to a temporary file next to `path` and renames it into place.
bool write_atomic(const fs::path& path, const char* data, std::size_t n) {
    std::random_device rd;
    const fs::path tmp = path.string() + fmt::format(".tmp-{}-{}", ::getpid(), rd());
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(data, std::streamsize(n));
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            return false;
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) fs::remove(tmp, ec);
    return !ec;
}
}  // namespace

void ReferenceCache::store(const std::string& key, const json& what, const Entry& e, std::string* warning) const {
    if (!enabled()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    json header = json::array();
    for (const auto& c : e.image.header.cards()) header.push_back(c.raw);
    const Image<double>& d = e.image.data;
    const json meta = {{"what", what},
                       {"reference_code", reference_code_version()},
                       {"rows", d.rows()},
                       {"cols", d.cols()},
                       {"dtype", std::string(to_string(e.image.dtype))},
                       {"path", e.image.path},
                       {"header", header},
                       {"data_sha256", sha256_hex(d.data(), d.size() * sizeof(double))},
                       {"compute_s", e.compute_s},
                       {"created_utc", utc_now_iso8601()}};
    const std::string text = meta.dump(1);
    // Data first, metadata last: a half-written entry has no .json and is never read.
    if (!write_atomic(dir_ / (key + ".f64"), reinterpret_cast<const char*>(d.data()), d.size() * sizeof(double)) ||
        !write_atomic(dir_ / (key + ".json"), text.data(), text.size())) {
        if (warning) *warning = fmt::format("could not write the reference cache in {} (continuing without it)", dir_.string());
    }
}

}  // namespace aiaccel::validate
