// FitsHeader implementation: FITS card parsing and formatting (FITS standard 4.0, §4.1-4.2).
#include "core/fits_header.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace aiaccel {
namespace {

std::string rtrim(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

std::string card_key(const std::string& raw) {
    std::string k = rtrim(raw.substr(0, std::min<std::size_t>(8, raw.size())));
    if (k == "HIERARCH") {  // keep the long name as the key
        auto eq = raw.find('=');
        if (eq != std::string::npos) {
            std::string name = raw.substr(9, eq - 9);
            name.erase(0, name.find_first_not_of(' '));
            return rtrim(name);
        }
    }
    return k;
}

}  // namespace

std::string unquote_fits_string(std::string_view v) {
    std::string out;
    for (std::size_t j = 1; j < v.size(); ++j) {
        if (v[j] == '\'') {
            if (j + 1 < v.size() && v[j + 1] == '\'') {
                out += '\'';
                ++j;
                continue;
            }
            break;
        }
        out += v[j];
    }
    return rtrim(out);
}

namespace {
// Where a value card's value field starts (after "= "), or npos for a commentary card.
std::size_t value_start(const std::string& raw) {
    if (card_key(raw).size() <= 8 && (raw.size() < 10 || raw.compare(8, 2, "= ") != 0)) return std::string::npos;
    return raw.size() >= 10 && raw.compare(8, 2, "= ") == 0 ? 10 : raw.find('=') + 1;
}
}  // namespace

std::optional<std::string> card_value(const std::string& raw) {
    const std::size_t start = value_start(raw);
    if (start == std::string::npos) return std::nullopt;
    std::string v = raw.substr(start);
    std::size_t i = v.find_first_not_of(' ');
    if (i == std::string::npos) return std::string();
    if (v[i] == '\'') return unquote_fits_string(std::string_view(v).substr(i));
    std::size_t slash = v.find('/', i);
    return rtrim(v.substr(i, slash == std::string::npos ? std::string::npos : slash - i));
}

namespace {

std::string upper(std::string_view k) {
    std::string s(k);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

std::string comment_of(const std::string& raw) {
    auto v = raw.size() > 10 ? raw.substr(10) : std::string();
    bool in_str = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\'')
            in_str = !in_str;
        else if (v[i] == '/' && !in_str) {
            std::string c = v.substr(i + 1);
            c.erase(0, c.find_first_not_of(' '));
            return rtrim(c);
        }
    }
    return {};
}

std::string make_card(std::string_view key, const std::string& value, bool is_string, std::string_view comment) {
    std::string k(key);
    k.resize(8, ' ');
    std::string card = k + "= ";
    if (is_string) {
        std::string q = "'";
        for (char c : value) {
            q += c;
            if (c == '\'') q += '\'';
        }
        while (q.size() < 9) q += ' ';  // strings padded to at least 8 characters
        q += "'";
        card += q;
    } else {
        card += std::string(value.size() < 20 ? 20 - value.size() : 0, ' ') + value;
    }
    if (!comment.empty()) card += " / " + std::string(comment);
    if (card.size() > 80) card.resize(80);
    return card;
}

}  // namespace

bool is_structural_keyword(std::string_view key) {
    static constexpr std::array<std::string_view, 17> exact = {"SIMPLE",   "XTENSION", "BITPIX", "NAXIS",    "PCOUNT", "GCOUNT",
                                                               "EXTEND",   "TFIELDS",  "END",    "BSCALE",   "BZERO",  "BLANK",
                                                               "CHECKSUM", "DATASUM",  "ZIMAGE", "ZTENSION", "ZSIMPLE"};
    if (std::find(exact.begin(), exact.end(), key) != exact.end()) return true;
    auto starts = [&](std::string_view p) { return key.substr(0, p.size()) == p; };
    if (starts("NAXIS") || starts("TTYPE") || starts("TFORM") || starts("TUNIT") || starts("TDIM")) return true;
    // Tile-compression bookkeeping (FITS standard §10): ZBITPIX, ZNAXISn, ZTILEn, ZCMPTYPE, ZNAMEn,
    // ZVALn, ZQUANTIZ, ZDITHER0, ZBLANK, ZSCALE, ZZERO, ZEXTEND, ZBLOCKED, ZPCOUNT, ZGCOUNT, ZHECKSUM, ZDATASUM.
    static constexpr std::array<std::string_view, 18> zkeys = {"ZBITPIX",  "ZNAXIS",   "ZTILE",   "ZCMPTYPE", "ZNAME",    "ZVAL",
                                                               "ZQUANTIZ", "ZDITHER0", "ZBLANK",  "ZSCALE",   "ZZERO",    "ZEXTEND",
                                                               "ZBLOCKED", "ZPCOUNT",  "ZGCOUNT", "ZHECKSUM", "ZDATASUM", "ZMASKCMP"};
    for (auto z : zkeys)
        if (starts(z)) return true;
    return false;
}

void FitsHeader::add_raw(std::string raw) {
    raw = rtrim(std::move(raw));
    cards_.push_back({card_key(raw), raw});
}

const FitsCard* FitsHeader::find(std::string_view key) const {
    std::string k = upper(key);
    for (const auto& c : cards_)
        if (c.key == k && card_value(c.raw)) return &c;
    return nullptr;
}

bool FitsHeader::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<std::string> FitsHeader::get_text(std::string_view key) const {
    const FitsCard* c = find(key);
    if (!c) return std::nullopt;
    return card_value(c->raw);
}

std::optional<std::string> FitsHeader::get_string(std::string_view key) const { return get_text(key); }

std::optional<double> FitsHeader::get_double(std::string_view key) const {
    auto t = get_text(key);
    if (!t || t->empty()) return std::nullopt;
    std::string s = *t;
    std::replace(s.begin(), s.end(), 'D', 'E');  // Fortran exponent
    std::replace(s.begin(), s.end(), 'd', 'e');
    if (s == "T" || s == "F") return std::nullopt;
    const char* b = s.data();
    if (*b == '+') ++b;
    double v = 0;
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string FitsHeader::format_real(double v) {
    if (std::isnan(v)) return "NAN";  // not valid FITS; callers must not write NaN keywords
    std::array<char, 64> buf{};
    auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    std::string s(buf.data(), p);
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    for (auto& ch : s)
        if (ch == 'e') ch = 'E';
    return s;
}

void FitsHeader::set_value_text(std::string_view key, const std::string& v, bool is_string, std::string_view comment) {
    std::string k = upper(key);
    for (auto& c : cards_) {
        if (c.key == k && card_value(c.raw)) {
            std::string com = comment.empty() ? comment_of(c.raw) : std::string(comment);
            c.raw = make_card(k, v, is_string, com);
            return;
        }
    }
    cards_.push_back({k, make_card(k, v, is_string, comment)});
}

namespace {
// A FITS value other than a string (FITS 4.0 §4.2.2–4.2.6): undefined (empty), logical, integer,
// real (E or D exponent) or complex.
bool is_fits_value(std::string_view v) {
    if (v.empty() || v == "T" || v == "F") return true;
    if (v.front() == '(') return v.back() == ')';
    auto digit = [&](std::size_t i) { return i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); };
    std::size_t i = v.front() == '+' || v.front() == '-' ? 1 : 0, digits = 0;
    for (; digit(i); ++i) ++digits;
    if (i < v.size() && v[i] == '.')
        for (++i; digit(i); ++i) ++digits;
    if (digits == 0) return false;
    if (i < v.size() && std::string_view("EeDd").find(v[i]) != std::string_view::npos) {
        i += i + 1 < v.size() && (v[i + 1] == '+' || v[i + 1] == '-') ? 2 : 1;
        if (!digit(i)) return false;
        while (digit(i)) ++i;
    }
    return i == v.size();
}
}  // namespace

std::string standard_card(const FitsCard& card) {
    const std::size_t start = value_start(card.raw);
    if (start == std::string::npos) return card.raw;
    const std::size_t first = card.raw.find_first_not_of(' ', start);
    if (first == std::string::npos || card.raw[first] == '\'') return card.raw;
    const std::optional<std::string> v = card_value(card.raw);
    if (!v || is_fits_value(*v)) return card.raw;
    return make_card(card.key, *v, true, comment_of(card.raw));
}

void FitsHeader::set_double(std::string_view key, double value, std::string_view comment) {
    if (!std::isfinite(value)) throw std::invalid_argument("FITS keyword " + std::string(key) + " set to a non-finite value");
    set_value_text(key, format_real(value), false, comment);
}
void FitsHeader::set_int(std::string_view key, long long value, std::string_view comment) {
    set_value_text(key, std::to_string(value), false, comment);
}
void FitsHeader::set_string(std::string_view key, std::string_view value, std::string_view comment) {
    set_value_text(key, std::string(value), true, comment);
}
void FitsHeader::set_bool(std::string_view key, bool value, std::string_view comment) { set_value_text(key, value ? "T" : "F", false, comment); }

void FitsHeader::add_history(std::string_view text) {
    for (std::size_t i = 0; i < text.size() || i == 0; i += 72) cards_.push_back({"HISTORY", "HISTORY " + std::string(text.substr(i, 72))});
}
void FitsHeader::add_comment(std::string_view text) {
    for (std::size_t i = 0; i < text.size() || i == 0; i += 72) cards_.push_back({"COMMENT", "COMMENT " + std::string(text.substr(i, 72))});
}

void FitsHeader::erase(std::string_view key) {
    std::string k = upper(key);
    std::erase_if(cards_, [&](const FitsCard& c) { return c.key == k; });
}

}  // namespace aiaccel
