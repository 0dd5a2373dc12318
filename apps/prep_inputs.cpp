// The input side of `aiaccel prep`: expansion of INPUTS, sharding, and a header-only FITS scan
// (FITS 4.0 standard §3–4: 2880-byte blocks of 80-character cards; data size from BITPIX, NAXISn,
// PCOUNT, GCOUNT) used to name outputs without decoding pixels and to fingerprint written outputs.
#include "apps/prep_inputs.hpp"

#include <glob.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "core/fits_header.hpp"
#include "core/fits_precheck.hpp"
#include "core/sha256.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;

namespace {

bool looks_like_fits(const fs::path& p) {
    std::string n = p.filename().string();
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto ends = [&](std::string_view s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
    return !n.starts_with(".") && (ends(".fits") || ends(".fits.gz") || ends(".fts") || ends(".fit"));
}

void add_path(const std::string& p, std::vector<std::string>& out) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
        for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec) && looks_like_fits(it->path())) out.push_back(it->path().string());
        if (ec) throw file_error(ErrorKind::usage, p, "cannot list the folder: " + ec.message());
    } else if (fs::exists(p, ec)) {
        out.push_back(p);
    } else {
        throw file_error(ErrorKind::usage, p, "no such file or folder");
    }
}

void add_glob(const std::string& pattern, std::vector<std::string>& out) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
        globfree(&g);
        throw file_error(ErrorKind::usage, pattern, "the pattern matches no file");
    }
    if (rc != 0) {
        globfree(&g);
        throw file_error(ErrorKind::usage, pattern, "cannot expand the pattern");
    }
    for (std::size_t i = 0; i < g.gl_pathc; ++i) add_path(g.gl_pathv[i], out);
    globfree(&g);
}

void add_list(const std::string& list, std::vector<std::string>& out) {
    std::ifstream in(list);
    if (!in) throw file_error(ErrorKind::usage, list, "cannot read the input list");
    const fs::path base = fs::path(list).parent_path();
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        const auto b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
        if (b == std::string::npos || line[b] == '#') continue;
        std::string p = line.substr(b, e - b + 1);
        if (fs::path(p).is_relative() && !base.empty()) p = (base / p).string();
        try {
            add_path(p, out);
        } catch (const Error& err) { throw Error(ErrorKind::usage, fmt::format("{}:{}: {}", list, n, err.what())); }
    }
}

// --- FITS block scanning ---------------------------------------------------------------------

constexpr std::size_t kBlock = 2880, kCard = 80;

std::string card_key(std::string_view card) {
    std::string k(card.substr(0, 8));
    while (!k.empty() && k.back() == ' ') k.pop_back();
    return k;
}

// The value field of a "KEY     = value / comment" card, unquoted for strings.
std::string card_text(std::string_view card) { return card_value(std::string(card)).value_or(""); }

struct Hdu {
    std::vector<std::string> cards;  // every card up to END (excluded)
    long long bitpix = 0, naxis = 0, pcount = 0, gcount = 1;
    std::vector<long long> naxes;
    std::string xtension;
    bool zimage = false;
    std::string datasum;
    std::uint64_t data_bytes() const {
        if (naxis == 0) return 0;
        std::uint64_t n = 1;
        for (long long a : naxes) n *= static_cast<std::uint64_t>(std::max(0LL, a));
        return static_cast<std::uint64_t>(std::llabs(bitpix) / 8) * static_cast<std::uint64_t>(gcount) * (static_cast<std::uint64_t>(pcount) + n);
    }
    bool is_image() const { return (naxis > 0 && (xtension.empty() || xtension == "IMAGE")) || zimage; }
};

long long to_ll(const std::string& s) { return std::strtoll(s.c_str(), nullptr, 10); }

// Reads HDUs in order; `visit_header_card(card)` sees every header card (END included) as it is
// read, `visit_data(bytes, n)` every data block; stops at the HDU for which `stop(hdu)` is true
// (before its data unless `read_last_data`), else at the end of the file.
template <class Stop, class CardFn, class DataFn>
void scan_fits(const std::string& path, Stop stop, CardFn visit_header_card, DataFn visit_data, bool read_last_data = false) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(ErrorKind::unreadable, path, "cannot open the file");
    std::vector<char> block(kBlock);
    for (int h = 0;; ++h) {
        Hdu hdu;
        bool end = false;
        while (!end) {
            if (!in.read(block.data(), kBlock)) {
                if (h > 0 && in.gcount() == 0 && hdu.cards.empty()) return;  // clean end of file after the last HDU
                throw file_error(ErrorKind::unreadable, path,
                                 h == 0 && hdu.cards.empty() ? "not a FITS file (shorter than one 2880-byte block)"
                                                             : fmt::format("truncated (header of HDU {} ends early)", h));
            }
            if (h == 0 && hdu.cards.empty() && std::string_view(block.data(), 6) != "SIMPLE")
                throw file_error(ErrorKind::unreadable, path, "not a FITS file (does not start with SIMPLE)");
            for (std::size_t c = 0; c < kBlock && !end; c += kCard) {
                std::string_view card(block.data() + c, kCard);
                const std::string key = card_key(card);
                visit_header_card(card, key);
                if (key == "END") {
                    end = true;
                    break;
                }
                hdu.cards.emplace_back(card);
                if (key == "BITPIX")
                    hdu.bitpix = to_ll(card_text(card));
                else if (key == "NAXIS")
                    hdu.naxis = to_ll(card_text(card));
                else if (key.starts_with("NAXIS"))
                    hdu.naxes.push_back(to_ll(card_text(card)));
                else if (key == "PCOUNT")
                    hdu.pcount = to_ll(card_text(card));
                else if (key == "GCOUNT")
                    hdu.gcount = to_ll(card_text(card));
                else if (key == "XTENSION")
                    hdu.xtension = card_text(card);
                else if (key == "ZIMAGE")
                    hdu.zimage = card_text(card) == "T";
                else if (key == "DATASUM")
                    hdu.datasum = card_text(card);
            }
            // remaining cards of the END block are blank and visited by nobody
        }
        std::uint64_t left = (hdu.data_bytes() + kBlock - 1) / kBlock * kBlock;
        const bool last = stop(hdu);
        if (last && !read_last_data) {
            // Not reading the data, but a file cut short is still caught here, from its size.
            const auto here = static_cast<std::uint64_t>(in.tellg());
            in.seekg(0, std::ios::end);
            const auto size = static_cast<std::uint64_t>(in.tellg());
            if (size < here + hdu.data_bytes())
                throw file_error(ErrorKind::unreadable, path,
                                 fmt::format("truncated (HDU {} needs {} data bytes, the file has {})", h, hdu.data_bytes(), size - here));
            return;
        }
        if (last && left == 0) return;
        while (left > 0) {
            if (!in.read(block.data(), kBlock))
                throw file_error(ErrorKind::unreadable, path, fmt::format("truncated (data of HDU {} ends early)", h));
            visit_data(block.data(), kBlock);
            left -= kBlock;
        }
        if (last) return;
    }
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& args) {
    std::vector<std::string> all;
    for (const auto& a : args) {
        if (a.starts_with("@"))
            add_list(a.substr(1), all);
        else if (a.find_first_of("*?[") != std::string::npos && !fs::exists(a))
            add_glob(a, all);
        else
            add_path(a, all);
    }
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (auto& p : all) {
        std::string norm = fs::path(p).lexically_normal().string();
        if (seen.insert(norm).second) out.push_back(std::move(norm));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string Shard::text() const { return fmt::format("{}/{}", index, count); }

Shard parse_shard(const std::string& s) {
    const auto slash = s.find('/');
    Shard sh;
    try {
        if (slash == std::string::npos) throw std::invalid_argument(s);
        std::size_t n1 = 0, n2 = 0;
        sh.index = std::stoi(s.substr(0, slash), &n1);
        sh.count = std::stoi(s.substr(slash + 1), &n2);
        if (n1 != slash || n2 != s.size() - slash - 1) throw std::invalid_argument(s);
    } catch (const std::exception&) { throw Error(ErrorKind::usage, fmt::format("--shard {}: expected I/N, e.g. 0/4", s)); }
    if (sh.count < 1 || sh.index < 0 || sh.index >= sh.count) throw Error(ErrorKind::usage, fmt::format("--shard {}: need 0 <= I < N", s));
    return sh;
}

std::string list_sha256(const std::vector<std::string>& inputs) {
    Sha256 h;
    for (const auto& p : inputs) {
        h.update(p.data(), p.size());
        h.update("\n", 1);
    }
    return h.hex();
}

FitsHeader read_image_header(const std::string& path) {
    // The shared header rules (sizes, duplicates, tile parameters) first. The tiles' bit streams are
    // left to the read that decodes them (read_fits' full pre-check): only headers are read here.
    (void)fits_precheck(path, false, false);
    FitsHeader header;
    bool found = false;
    scan_fits(
        path,
        [&](const Hdu& hdu) {
            if (!hdu.is_image()) return false;
            for (const auto& c : hdu.cards)
                if (!is_structural_keyword(card_key(c))) header.add_raw(c);
            found = true;
            return true;
        },
        [](std::string_view, const std::string&) {}, [](const char*, std::size_t) {});
    if (!found) throw file_error(ErrorKind::unsupported, path, "no image HDU");
    return header;
}

OutputIdentity output_identity(const std::string& path) {
    Sha256 h;
    OutputIdentity id;
    scan_fits(
        path,
        [&](const Hdu& hdu) {
            if (hdu.is_image() && !hdu.datasum.empty()) id.datasum = hdu.datasum;
            return false;
        },
        [&](std::string_view card, const std::string& key) {
            if (key != "CHECKSUM" && key != "DATASUM") h.update(card.data(), card.size());
        },
        [&](const char* p, std::size_t n) { h.update(p, n); });
    id.content_sha256 = h.hex();
    return id;
}

}  // namespace aiaccel::cli::prep
