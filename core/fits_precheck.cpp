// FITS header pre-check (FITS standard 4.0 §3-4 for the block/card layout, §7.3 for binary tables,
// §10 for tiled image compression, the FITS checksum convention for DATASUM/CHECKSUM).
// Reads headers with plain pread() so a hostile header never reaches CFITSIO.
#include "core/fits_precheck.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <zlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/rice_check.hpp"
#include "core/fits_header.hpp"
#include "core/stopwatch.hpp"

namespace aiaccel {

std::string_view to_string(SumState s) {
    switch (s) {
        case SumState::not_checked: return "not checked";
        case SumState::absent: return "absent";
        case SumState::ok: return "ok";
        case SumState::mismatch: return "MISMATCH";
    }
    return "?";
}

namespace {

constexpr std::uint64_t kBlock = 2880, kCard = 80;
constexpr std::uint64_t kMaxHeaderBlocks = 1000;  // 36000 cards; AIA headers use a handful of blocks

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// A gzip-compressed FITS file (CFITSIO reads `.fits.gz` transparently) is checked on its decompressed
// bytes: they go to an anonymous in-memory file, at most kMaxGunzipBytes, and the checks read that.
constexpr std::uint64_t kMaxGunzipBytes = std::uint64_t{3} << 30;  // a 16384² float64 frame + headers fits

bool is_gzip(int fd) {
    unsigned char magic[2] = {0, 0};
    return ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

int gunzip_to_memory(int fd, const std::string& path) {
    const int dup_fd = ::dup(fd);
    gzFile gz = dup_fd >= 0 ? gzdopen(dup_fd, "rb") : nullptr;
    if (!gz) {
        if (dup_fd >= 0) ::close(dup_fd);
        throw file_error(ErrorKind::unreadable, path, "cannot read the gzip-compressed file");
    }
    const int mem = ::memfd_create("aiaccel-gunzip", MFD_CLOEXEC);
    if (mem < 0) {
        gzclose(gz);
        throw file_error(ErrorKind::unreadable, path, fmt::format("cannot decompress: {}", std::strerror(errno)));
    }
    std::vector<char> buf(std::size_t{1} << 20);
    std::uint64_t total = 0;
    std::string problem;
    for (;;) {
        const int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
        if (n < 0) {
            int code = 0;
            problem = fmt::format("corrupt gzip data ({})", gzerror(gz, &code));
            break;
        }
        if (n == 0) {
            int code = 0;
            gzerror(gz, &code);
            if (code != Z_OK) problem = "truncated gzip data";
            break;
        }
        total += static_cast<std::uint64_t>(n);
        if (total > kMaxGunzipBytes) {
            problem = fmt::format("decompresses to more than {} GiB", kMaxGunzipBytes >> 30);
            break;
        }
        if (::write(mem, buf.data(), static_cast<std::size_t>(n)) != n) {
            problem = fmt::format("cannot decompress: {}", std::strerror(errno));
            break;
        }
    }
    gzclose(gz);
    if (!problem.empty()) {
        ::close(mem);
        throw file_error(ErrorKind::unreadable, path, problem);
    }
    return mem;
}

// Reads exactly n bytes at off; false at end of file.
bool read_at(int fd, std::uint64_t off, char* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
    }
    return true;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(' ');
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(' ');
    return std::string(s.substr(b, e - b + 1));
}

// One HDU's header: card keys in order and the value text of every keyword card.
struct Header {
    int index = 0;
    std::uint64_t start = 0, data_start = 0;
    std::map<std::string, std::string> values;  // key -> raw value field (quotes kept, comment removed)
    const std::string& path() const { return *path_; }
    const std::string* path_ = nullptr;

    [[noreturn]] void fail(ErrorKind k, const std::string& what) const { throw file_error(k, path(), fmt::format("HDU {}: {}", index, what)); }
    bool has(const std::string& k) const { return values.count(k) != 0; }
    std::optional<long long> integer(const std::string& k) const {
        auto it = values.find(k);
        if (it == values.end()) return std::nullopt;
        std::string_view v = it->second;
        if (!v.empty() && v.front() == '+') v.remove_prefix(1);
        long long x = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (v.empty() || ec != std::errc() || p != v.data() + v.size())
            fail(ErrorKind::bad_value, fmt::format("keyword {} is not an integer ('{}')", k, str(k).value_or("")));
        return x;
    }
    long long require_int(const std::string& k) const {
        auto v = integer(k);
        if (!v) fail(ErrorKind::unreadable, fmt::format("missing mandatory keyword {}", k));
        return *v;
    }
    std::optional<double> real(const std::string& k) const {
        auto it = values.find(k);
        if (it == values.end()) return std::nullopt;
        FitsHeader h;
        h.add_raw(fmt::format("{:<8}= {}", k, it->second));
        auto v = h.get_double(k);
        if (!v || !std::isfinite(*v)) fail(ErrorKind::bad_value, fmt::format("keyword {} is not a finite number ('{}')", k, str(k).value_or("")));
        return v;
    }
    std::optional<std::string> str(const std::string& k) const {
        auto it = values.find(k);
        if (it == values.end()) return std::nullopt;
        const std::string& v = it->second;
        if (v.size() < 2 || v.front() != '\'') return trim(v);
        return trim(unquote_fits_string(v));
    }
    bool logical(const std::string& k) const {
        auto v = str(k);
        return v && *v == "T";
    }
};

std::string value_text(std::string_view card) {
    std::string_view v = card.substr(10);
    const auto b = v.find_first_not_of(' ');
    if (b == std::string_view::npos) return {};
    v = v.substr(b);
    if (v.front() == '\'') {  // keep the quoted string, drop the comment
        std::size_t j = 1;
        for (; j < v.size(); ++j) {
            if (v[j] == '\'') {
                if (j + 1 < v.size() && v[j + 1] == '\'') {
                    ++j;
                    continue;
                }
                break;
            }
        }
        return std::string(v.substr(0, std::min(j + 1, v.size())));
    }
    return trim(v.substr(0, v.find('/')));
}

// Reads the header starting at `start`; returns false if the file ends cleanly there (h > 0).
bool read_header(int fd, const std::string& path, int index, std::uint64_t start, Header& h) {
    h = Header{};
    h.index = index;
    h.start = start;
    h.path_ = &path;
    std::array<char, kBlock> block{};
    for (std::uint64_t b = 0;; ++b) {
        if (b == kMaxHeaderBlocks) h.fail(ErrorKind::unsupported, fmt::format("header longer than {} blocks", kMaxHeaderBlocks));
        if (!read_at(fd, start + b * kBlock, block.data(), kBlock)) {
            if (b == 0 && index > 0) return false;
            if (b == 0) throw file_error(ErrorKind::unreadable, path, "not a readable FITS file (shorter than one 2880-byte block)");
            h.fail(ErrorKind::unreadable, "truncated (the header ends before its END card)");
        }
        for (std::uint64_t c = 0; c < kBlock; c += kCard) {
            std::string_view card(block.data() + c, kCard);
            if (b == 0 && c == 0) {
                const std::string_view first = index == 0 ? "SIMPLE  =" : "XTENSION=";
                if (card.substr(0, 9) != first) {
                    if (index == 0) throw file_error(ErrorKind::unreadable, path, "not a readable FITS file (does not start with SIMPLE)");
                    return false;  // trailing bytes after the last HDU: CFITSIO ignores them too
                }
            }
            const std::string key = trim(card.substr(0, 8));
            if (key == "END") {
                h.data_start = start + (b + 1) * kBlock;
                return true;
            }
            if (card.substr(8, 2) != "= " || key.empty()) continue;
            const bool unique = is_structural_keyword(key) || key == "THEAP";
            auto [it, fresh] = h.values.emplace(key, value_text(card));
            // One rule for every reader: a structural keyword given twice is refused (CFITSIO
            // and astropy would silently use the first card, prep's old scanner the last).
            if (!fresh && unique) h.fail(ErrorKind::unreadable, fmt::format("keyword {} appears more than once", key));
        }
    }
}

std::uint64_t mul(std::uint64_t a, std::uint64_t b, const Header& h, const char* what) {
    std::uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) h.fail(ErrorKind::bad_value, fmt::format("{} overflows 64 bits", what));
    return r;
}
std::uint64_t add(std::uint64_t a, std::uint64_t b, const Header& h, const char* what) {
    std::uint64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) h.fail(ErrorKind::bad_value, fmt::format("{} overflows 64 bits", what));
    return r;
}

bool valid_bitpix(long long b) { return b == 8 || b == 16 || b == 32 || b == 64 || b == -32 || b == -64; }

struct Dims {
    long long bitpix = 0;
    std::vector<long long> axes;
};

Dims plain_dims(const Header& h) {
    Dims d;
    d.bitpix = h.require_int("BITPIX");
    if (!valid_bitpix(d.bitpix)) h.fail(ErrorKind::unreadable, fmt::format("invalid BITPIX {}", d.bitpix));
    const long long naxis = h.require_int("NAXIS");
    if (naxis < 0 || naxis > 999) h.fail(ErrorKind::unreadable, fmt::format("invalid NAXIS {}", naxis));
    for (long long i = 1; i <= naxis; ++i) {
        const long long n = h.require_int(fmt::format("NAXIS{}", i));
        if (n < 0) h.fail(ErrorKind::unreadable, fmt::format("negative NAXIS{} = {}", i, n));
        d.axes.push_back(n);
    }
    return d;
}

// Data unit size (without padding): |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn).
std::uint64_t data_size(const Header& h, const Dims& d) {
    if (d.axes.empty()) return 0;
    const long long pcount = h.integer("PCOUNT").value_or(0), gcount = h.integer("GCOUNT").value_or(1);
    if (pcount < 0 || gcount < 0) h.fail(ErrorKind::unreadable, fmt::format("invalid PCOUNT {} / GCOUNT {}", pcount, gcount));
    // Random groups (NAXIS1 = 0 in the primary HDU): the product runs over NAXIS2..n.
    const bool groups = h.index == 0 && d.axes[0] == 0 && h.logical("GROUPS");
    std::uint64_t n = 1;
    for (std::size_t i = groups ? 1 : 0; i < d.axes.size(); ++i) n = mul(n, static_cast<std::uint64_t>(d.axes[i]), h, "the data size");
    n = add(n, static_cast<std::uint64_t>(pcount), h, "the data size");
    n = mul(n, static_cast<std::uint64_t>(gcount), h, "the data size");
    return mul(n, static_cast<std::uint64_t>(std::llabs(d.bitpix) / 8), h, "the data size");
}

void check_frame(const Header& h, const std::vector<long long>& axes, const char* name) {
    for (std::size_t i = 0; i < axes.size(); ++i) {
        if (axes[i] < 1) h.fail(ErrorKind::bad_value, fmt::format("empty image ({}{} = {})", name, i + 1, axes[i]));
        if (axes[i] > kMaxFrameSide)
            h.fail(ErrorKind::unsupported,
                   fmt::format("image too large ({}{} = {}; at most {} pixels a side are accepted)", name, i + 1, axes[i], kMaxFrameSide));
    }
    std::uint64_t n = 1;
    for (long long a : axes) n = mul(n, static_cast<std::uint64_t>(a), h, "the pixel count");
    constexpr auto kMaxPixels = static_cast<std::uint64_t>(kMaxFrameSide) * static_cast<std::uint64_t>(kMaxFrameSide);
    if (n > kMaxPixels)
        h.fail(ErrorKind::unsupported, fmt::format("image too large ({} pixels; at most {} x {} are accepted)", n, kMaxFrameSide, kMaxFrameSide));
}

// Scale/blank keywords: a value that is not a number is refused rather than ignored. astropy warns
// and ignores a non-integer BLANK, and fails later on a non-numeric BSCALE/BZERO; aiaccel refuses
// both up front so pixels never silently differ from what the header claims.
void check_scaling_keywords(const Header& h) {
    for (const char* k : {"BSCALE", "BZERO", "ZSCALE", "ZZERO"}) (void)h.real(k);
    for (const char* k : {"BLANK", "ZBLANK"}) (void)h.integer(k);
}

struct Column {
    std::string type;  // TTYPEn
    char code = 0;  // TFORM type letter
    bool descriptor = false;  // P or Q
    char elem = 0;  // element type of a P/Q column
    std::uint64_t offset = 0, width = 0;  // byte offset in the row, byte width
};

std::uint64_t elem_size(char c) {
    switch (c) {
        case 'L':
        case 'B':
        case 'A': return 1;
        case 'I': return 2;
        case 'J':
        case 'E': return 4;
        case 'K':
        case 'D':
        case 'C': return 8;
        case 'M': return 16;
        case 'P': return 8;
        case 'Q': return 16;
        default: return 0;
    }
}

Column parse_tform(const Header& h, int n, std::uint64_t offset) {
    const std::string key = fmt::format("TFORM{}", n);
    const std::string f = h.str(key).value_or("");
    Column c;
    c.type = h.str(fmt::format("TTYPE{}", n)).value_or("");
    c.offset = offset;
    std::size_t i = 0;
    std::uint64_t repeat = 1;
    if (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) {
        repeat = 0;
        for (; i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])); ++i) {
            repeat = mul(repeat, 10, h, key.c_str());
            repeat = add(repeat, static_cast<std::uint64_t>(f[i] - '0'), h, key.c_str());
        }
    }
    if (i >= f.size()) h.fail(ErrorKind::unreadable, fmt::format("invalid {} '{}'", key, f));
    c.code = static_cast<char>(std::toupper(static_cast<unsigned char>(f[i])));
    if (c.code == 'X')
        c.width = (repeat + 7) / 8;
    else if (elem_size(c.code))
        c.width = mul(repeat, elem_size(c.code), h, key.c_str());
    else
        h.fail(ErrorKind::unreadable, fmt::format("invalid {} '{}'", key, f));
    if (c.code == 'P' || c.code == 'Q') {
        c.descriptor = true;
        c.elem = i + 1 < f.size() ? static_cast<char>(std::toupper(static_cast<unsigned char>(f[i + 1]))) : 0;
        if (repeat > 1 || c.elem == 0 || std::string_view("BIJKED").find(c.elem) == std::string_view::npos)
            h.fail(ErrorKind::unsupported, fmt::format("unsupported variable-length column {} '{}'", key, f));
    }
    return c;
}

std::uint64_t be(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

struct TileSlice {
    std::uint64_t row, len, off;  // table row (0-based), bytes, offset in the heap
};

// Pixels in tile `row` (tiles run fastest along axis 1; edge tiles are cut at the image's edge).
std::uint64_t tile_pixel_count(std::uint64_t row, const std::vector<long long>& axes, const std::vector<long long>& sides) {
    std::uint64_t n = 1;
    for (std::size_t i = 0; i < axes.size(); ++i) {
        const auto per_axis = static_cast<std::uint64_t>((axes[i] + sides[i] - 1) / sides[i]);
        const std::uint64_t k = row % per_axis;
        row /= per_axis;
        n *= static_cast<std::uint64_t>(std::min<long long>(sides[i], axes[i] - static_cast<long long>(k) * sides[i]));
    }
    return n;
}

// CFITSIO's Rice decoder does not bound its reads inside a tile: every RICE tile's bit stream is
// walked first (core/rice_check), so a crafted stream is refused here instead of crashing the decoder.
void check_rice_tiles(int fd, const Header& h, std::uint64_t heap_start, const std::vector<TileSlice>& tiles, const std::vector<long long>& axes,
                      const std::vector<long long>& sides, int bytepix, int blocksize) {
    std::vector<std::uint8_t> bytes;
    for (const TileSlice& t : tiles) {
        bytes.resize(t.len);
        if (!read_at(fd, heap_start + t.off, reinterpret_cast<char*>(bytes.data()), bytes.size()))
            h.fail(ErrorKind::unreadable, fmt::format("truncated (tile {}'s compressed data ends early)", t.row + 1));
        if (auto why = check_rice_tile(bytes, tile_pixel_count(t.row, axes, sides), bytepix, blocksize))
            h.fail(ErrorKind::unreadable, fmt::format("corrupt compressed data in tile {}: {}", t.row + 1, *why));
    }
}

// Tile-compressed image (binary table with ZIMAGE = T): every parameter CFITSIO's decoders use.
Dims check_compressed(int fd, const Header& h, std::uint64_t table_bytes_total, bool tile_streams) {
    if (h.require_int("BITPIX") != 8 || h.require_int("NAXIS") != 2)
        h.fail(ErrorKind::unreadable, "a tile-compressed image table must have BITPIX = 8 and NAXIS = 2");
    const auto row_bytes = static_cast<std::uint64_t>(h.require_int("NAXIS1"));
    const auto nrows = static_cast<std::uint64_t>(h.require_int("NAXIS2"));
    const long long pcount = h.require_int("PCOUNT");
    if (h.integer("GCOUNT").value_or(1) != 1) h.fail(ErrorKind::unreadable, "GCOUNT must be 1 in a binary table");

    // Image geometry.
    Dims d;
    d.bitpix = h.require_int("ZBITPIX");
    if (!valid_bitpix(d.bitpix)) h.fail(ErrorKind::unreadable, fmt::format("invalid ZBITPIX {}", d.bitpix));
    const long long znaxis = h.require_int("ZNAXIS");
    if (znaxis < 1 || znaxis > 6) h.fail(ErrorKind::unsupported, fmt::format("invalid ZNAXIS {} (1 to 6 supported)", znaxis));
    std::uint64_t tiles = 1, tile_pixels = 1;
    std::vector<long long> tile_sides;
    for (long long i = 1; i <= znaxis; ++i) {
        const long long n = h.require_int(fmt::format("ZNAXIS{}", i));
        if (n < 1) h.fail(ErrorKind::bad_value, fmt::format("empty image (ZNAXIS{} = {})", i, n));
        if (n > kMaxFrameSide)
            h.fail(ErrorKind::unsupported,
                   fmt::format("image too large (ZNAXIS{} = {}; at most {} pixels a side are accepted)", i, n, kMaxFrameSide));
        d.axes.push_back(n);
        const long long t = h.integer(fmt::format("ZTILE{}", i)).value_or(i == 1 ? n : 1);
        if (t < 1 || t > n) h.fail(ErrorKind::bad_value, fmt::format("invalid tile size ZTILE{} = {} (must be 1 to ZNAXIS{} = {})", i, t, i, n));
        tiles *= static_cast<std::uint64_t>((n + t - 1) / t);  // <= 16384^6: fits in 64 bits
        tile_pixels *= static_cast<std::uint64_t>(t);
        tile_sides.push_back(t);
    }
    if (tiles != nrows) h.fail(ErrorKind::bad_value, fmt::format("the table has {} rows for {} tiles", nrows, tiles));

    // Compression algorithm and its parameters.
    const std::string cmp = h.str("ZCMPTYPE").value_or("");
    const bool rice = cmp == "RICE_1" || cmp == "RICE_ONE";
    int rice_blocksize = 32, rice_bytepix = 4;  // CFITSIO's defaults when ZNAMEn/ZVALn do not say
    if (!rice && cmp != "GZIP_1" && cmp != "GZIP_2" && cmp != "NOCOMPRESS")
        h.fail(ErrorKind::unsupported,
               fmt::format("unsupported tile compression ZCMPTYPE = '{}' (supported: RICE_1, GZIP_1, GZIP_2, NOCOMPRESS)", cmp));
    for (int i = 1; i <= 999; ++i) {
        auto name = h.str(fmt::format("ZNAME{}", i));
        if (!name) break;
        const std::string vk = fmt::format("ZVAL{}", i);
        if (!rice) continue;
        if (*name == "BLOCKSIZE") {
            const long long v = h.integer(vk).value_or(32);
            if (v != 16 && v != 32) h.fail(ErrorKind::bad_value, fmt::format("invalid RICE BLOCKSIZE {} = {} (must be 16 or 32)", vk, v));
            rice_blocksize = static_cast<int>(v);
        } else if (*name == "BYTEPIX") {
            const long long v = h.integer(vk).value_or(4);
            if (v != 1 && v != 2 && v != 4) h.fail(ErrorKind::bad_value, fmt::format("invalid RICE BYTEPIX {} = {} (must be 1, 2 or 4)", vk, v));
            rice_bytepix = static_cast<int>(v);
        }
    }
    if (auto q = h.str("ZQUANTIZ"); q && *q != "NO_DITHER" && *q != "SUBTRACTIVE_DITHER_1" && *q != "SUBTRACTIVE_DITHER_2" && *q != "NONE")
        h.fail(ErrorKind::bad_value, fmt::format("invalid ZQUANTIZ '{}'", *q));
    if (auto s = h.integer("ZDITHER0"); s && (*s < 1 || *s > 10000))
        h.fail(ErrorKind::bad_value, fmt::format("invalid ZDITHER0 {} (must be 1 to 10000)", *s));

    // Table layout: the columns must add up to NAXIS1; the heap must lie inside the data unit.
    const long long tfields = h.require_int("TFIELDS");
    if (tfields < 1 || tfields > 999) h.fail(ErrorKind::unreadable, fmt::format("invalid TFIELDS {}", tfields));
    std::vector<Column> cols;
    std::uint64_t width = 0;
    for (int n = 1; n <= tfields; ++n) {
        cols.push_back(parse_tform(h, n, width));
        width = add(width, cols.back().width, h, "the row width");
    }
    if (width != row_bytes) h.fail(ErrorKind::unreadable, fmt::format("the columns are {} bytes wide, NAXIS1 says {}", width, row_bytes));
    const std::uint64_t table = mul(row_bytes, nrows, h, "the table size");
    if (pcount < 0) h.fail(ErrorKind::unreadable, fmt::format("invalid PCOUNT {}", pcount));
    if (table_bytes_total != add(table, static_cast<std::uint64_t>(pcount), h, "the data size")) h.fail(ErrorKind::internal, "data size mismatch");
    const long long theap = h.integer("THEAP").value_or(static_cast<long long>(table));
    if (theap < 0 || static_cast<std::uint64_t>(theap) < table || static_cast<std::uint64_t>(theap) > table_bytes_total)
        h.fail(ErrorKind::bad_value,
               fmt::format("THEAP {} is outside the data unit (table {} bytes, heap to byte {})", theap, table, table_bytes_total));
    const std::uint64_t heap = table_bytes_total - static_cast<std::uint64_t>(theap);

    bool has_data = false;
    for (const auto& c : cols) {
        if (c.type == "COMPRESSED_DATA") {
            has_data = true;
            if (!c.descriptor) h.fail(ErrorKind::unreadable, "column COMPRESSED_DATA is not a variable-length array");
        }
        if ((c.type == "ZSCALE" || c.type == "ZZERO") && !(c.code == 'D' && c.width == 8))
            h.fail(ErrorKind::unreadable, fmt::format("column {} must be 1D", c.type));
        if (c.type == "ZBLANK" && !(c.code == 'J' && c.width == 4)) h.fail(ErrorKind::unreadable, "column ZBLANK must be 1J");
    }
    if (!has_data) h.fail(ErrorKind::unreadable, "no COMPRESSED_DATA column");

    // Every tile descriptor (length, offset) must address bytes inside the heap.
    std::vector<TileSlice> rice_tiles;
    constexpr std::uint64_t kChunkRows = 4096;
    std::vector<unsigned char> buf;
    for (std::uint64_t r0 = 0; r0 < nrows; r0 += kChunkRows) {
        const std::uint64_t rn = std::min(kChunkRows, nrows - r0);
        buf.resize(rn * row_bytes);
        if (!buf.empty() && !read_at(fd, h.data_start + r0 * row_bytes, reinterpret_cast<char*>(buf.data()), buf.size()))
            h.fail(ErrorKind::unreadable, "truncated (the tile table ends early)");
        for (std::uint64_t r = 0; r < rn; ++r) {
            for (const auto& c : cols) {
                if (!c.descriptor) continue;
                const unsigned char* p = buf.data() + r * row_bytes + c.offset;
                const int w = c.code == 'P' ? 4 : 8;
                const std::uint64_t len = be(p, w), off = be(p + w, w);
                const std::uint64_t es = elem_size(c.elem);
                if (c.code == 'P' && (len > 0x7fffffffu || off > 0x7fffffffu))
                    h.fail(ErrorKind::bad_value, fmt::format("tile {}: negative {} descriptor", r0 + r + 1, c.type));
                if (c.type == "UNCOMPRESSED_DATA" && len > tile_pixels)
                    h.fail(ErrorKind::bad_value,
                           fmt::format("tile {}: {} elements of uncompressed data for a {}-pixel tile", r0 + r + 1, len, tile_pixels));
                if (len > heap / es || off > heap - len * es)
                    h.fail(ErrorKind::bad_value,
                           fmt::format("tile {}: {} bytes at heap offset {} lie outside the {}-byte heap", r0 + r + 1,
                                       len * std::min<std::uint64_t>(es, 16), off, heap));
                if (rice && c.type == "COMPRESSED_DATA" && len > 0) rice_tiles.push_back({r0 + r, len, off});
            }
        }
    }
    if (tile_streams)
        check_rice_tiles(fd, h, h.data_start + static_cast<std::uint64_t>(theap), rice_tiles, d.axes, tile_sides, rice_bytepix, rice_blocksize);
    return d;
}

// 32-bit ones' complement sum of big-endian words (FITS checksum convention).
struct OnesSum {
    std::uint64_t acc = 0;
    void add_bytes(const unsigned char* p, std::size_t n) {  // n multiple of 4
        for (std::size_t i = 0; i + 4 <= n; i += 4)
            acc += (std::uint64_t{p[i]} << 24) | (std::uint64_t{p[i + 1]} << 16) | (std::uint64_t{p[i + 2]} << 8) | p[i + 3];
        fold();
    }
    void fold() {
        while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
    }
    std::uint32_t value() {
        fold();
        return static_cast<std::uint32_t>(acc);
    }
};

// Sum of [from, from + n) of the file, zero-padded past its end.
std::uint32_t sum_range(int fd, std::uint64_t from, std::uint64_t n, std::uint64_t file_size) {
    OnesSum s;
    std::vector<unsigned char> buf(1 << 20);
    const std::uint64_t end = std::min(from + n, file_size);
    for (std::uint64_t at = from; at < end;) {
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - at));
        if (!read_at(fd, at, reinterpret_cast<char*>(buf.data()), k)) break;
        std::size_t whole = k / 4 * 4;
        if (whole < k) {  // tail of the file not a multiple of 4: pad with zeros
            std::fill(buf.begin() + static_cast<std::ptrdiff_t>(k), buf.begin() + static_cast<std::ptrdiff_t>(whole + 4), 0);
            whole += 4;
        }
        s.add_bytes(buf.data(), whole);
        at += k;
    }
    return s.value();
}

void check_sums(int fd, const Header& h, std::uint64_t data_bytes, std::uint64_t file_size, FitsLayout& out) {
    const std::uint64_t padded = (data_bytes + kBlock - 1) / kBlock * kBlock;
    const bool has_ds = h.has("DATASUM"), has_cs = h.has("CHECKSUM");
    out.datasum = has_ds ? SumState::ok : SumState::absent;
    out.checksum = has_cs ? SumState::ok : SumState::absent;
    if (!has_ds && !has_cs) return;
    const std::uint32_t data = sum_range(fd, h.data_start, padded, file_size);
    if (has_ds) {
        const std::string want = h.str("DATASUM").value_or("");
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(want.data(), want.data() + want.size(), v);
        if (ec != std::errc() || p != want.data() + want.size() || v != data) {
            out.datasum = SumState::mismatch;
            out.sum_detail = fmt::format("DATASUM is '{}' but the data unit sums to {}", want, data);
        }
    }
    if (has_cs) {
        OnesSum s;
        s.acc = sum_range(fd, h.start, h.data_start - h.start, file_size);
        s.acc += data;
        const std::uint32_t total = s.value();
        if (total != 0xffffffffu && total != 0) {
            out.checksum = SumState::mismatch;
            if (out.sum_detail.empty()) out.sum_detail = fmt::format("CHECKSUM does not verify (the HDU sums to {:#010x}, not -0)", total);
        }
    }
}

}  // namespace

FitsLayout fits_precheck(const std::string& path, bool checksums, bool tile_streams) {
    // stat, not open: a FIFO or device must be refused without blocking on it.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) throw file_error(ErrorKind::unreadable, path, "no such file");
        throw file_error(ErrorKind::unreadable, path, fmt::format("cannot read the file: {}", std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) throw file_error(ErrorKind::unreadable, path, "is a folder, not a FITS file");
    if (!S_ISREG(st.st_mode))
        throw file_error(ErrorKind::unreadable, path, "is not a regular file (a FIFO, socket or device); FITS input must be a file");
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) throw file_error(ErrorKind::unreadable, path, fmt::format("cannot open the file: {}", std::strerror(errno)));
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw file_error(ErrorKind::unreadable, path, "is not a regular file (a FIFO, socket or device); FITS input must be a file");
    if (is_gzip(fd.get())) {  // check what CFITSIO will read: the decompressed bytes
        fd.reset(gunzip_to_memory(fd.get(), path));
        if (::fstat(fd.get(), &st) != 0) throw file_error(ErrorKind::unreadable, path, "cannot decompress");
    }
    const auto file_size = static_cast<std::uint64_t>(st.st_size);

    std::uint64_t at = 0;
    for (int index = 0;; ++index) {
        Header h;
        if (!read_header(fd.get(), path, index, at, h)) throw file_error(ErrorKind::unsupported, path, "no image data in any HDU");
        const std::string xt = index == 0 ? "" : h.str("XTENSION").value_or("");
        Dims d = plain_dims(h);
        const bool zimage = (xt == "BINTABLE" || xt == "A3DTABLE") && h.logical("ZIMAGE");
        const bool image = zimage || ((index == 0 || xt == "IMAGE" || xt == "IUEIMAGE") && !d.axes.empty());
        if (image && !zimage) {  // the frame limit first: it names the real problem of a huge NAXISn
            if (index == 0 && h.logical("GROUPS")) h.fail(ErrorKind::unsupported, "random-groups FITS is not an image");
            check_frame(h, d.axes, "NAXIS");
        }
        const std::uint64_t bytes = data_size(h, d);
        if (h.data_start > file_size || bytes > file_size - h.data_start)
            h.fail(ErrorKind::unreadable,
                   fmt::format("truncated (the data unit needs {} bytes, the file has {} after the header)", bytes,
                               file_size - std::min(file_size, h.data_start)));
        if (image) {
            FitsLayout out;
            out.hdu = index;
            out.compressed = zimage;
            out.data_start = h.data_start;
            out.data_bytes = bytes;
            if (zimage) {
                d = check_compressed(fd.get(), h, bytes, tile_streams);
                check_frame(h, d.axes, "ZNAXIS");
            }
            if (d.bitpix == 64) h.fail(ErrorKind::unsupported, "unsupported BITPIX 64 (supported: 8, 16, 32, -32, -64)");
            check_scaling_keywords(h);
            out.bitpix = static_cast<int>(d.bitpix);
            out.axes = d.axes;
            if (checksums) {
                Stopwatch sw;
                check_sums(fd.get(), h, bytes, file_size, out);
                out.sums_seconds = sw.lap();
            }
            return out;
        }
        at = add(h.data_start, (bytes + kBlock - 1) / kBlock * kBlock, h, "the file offset");
    }
}

}  // namespace aiaccel
