// Reference vs aiapy goldens for psf, deconvolve and register (see golden_checks.hpp).
#include "validate/golden_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/fits_header.hpp"
#include "core/fits_io.hpp"
#include "core/sha256.hpp"
#include "reference/numpy_sum.hpp"
#include "reference/register_reference.hpp"

namespace aiaccel::validate {
namespace {

// Adds one compared array to the comparison: worst-of aggregation, and keeps the worst pair.
void add_part(GoldenComparison& gc, const std::string& name, const Metrics& m, std::string text, const Image<double>& ours,
              const Image<double>& theirs) {
    Metrics& w = gc.measurement.metrics;
    const bool first = gc.parts.empty();
    if (first) {
        w = m;
    } else {
        w.shape_ok = w.shape_ok && m.shape_ok;
        w.max_abs = std::max(w.max_abs, m.max_abs);
        w.rel_l2 = std::max(w.rel_l2, m.rel_l2);
        w.nan_mismatch += m.nan_mismatch;
        w.compared += m.compared;
        w.bitwise_equal += m.bitwise_equal;
    }
    const bool worse = first || !m.shape_ok || m.max_abs_over_max > w.max_abs_over_max;
    if (!first) w.max_abs_over_max = std::max(w.max_abs_over_max, m.max_abs_over_max);
    if (worse && m.shape_ok) {
        gc.worst_part = name;
        gc.ours = ours;
        gc.theirs = theirs;
    }
    gc.parts.push_back({name, m, std::move(text)});
}

std::string upper(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}
std::string rtrim(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// Header keys of aiapy's meta that are not cards of ours (structural: regenerated on write) or that
// sunpy adds for itself.
bool skip_meta_key(const std::string& k) {
    const std::string u = upper(k);
    return u == "KEYCOMMENTS" || u == "COMMENT" || u == "HISTORY" || is_structural_keyword(u);
}

// Every meta value of the golden equals ours (strings exactly, numbers to header_rel); keys we keep
// that the golden lacks (e.g. CROTA2, which rotate removes) are mismatches too.
void compare_header(const FitsHeader& got, const nlohmann::json& meta, GoldenComparison& gc) {
    std::size_t compared = 0, bitwise = 0, mismatches = 0;
    double worst_rel = 0;
    auto problem = [&](std::string text) {
        ++mismatches;
        gc.measurement.problems.push_back(std::move(text));
    };
    for (auto& [key, v] : meta.items()) {
        if (skip_meta_key(key)) continue;
        if (v.is_string()) {
            auto s = got.get_string(key);
            if (!s)
                problem(fmt::format("header key {}: missing", key));
            else if (rtrim(*s) != rtrim(v.get<std::string>()))
                problem(fmt::format("header key {}: '{}', aiapy '{}'", key, *s, v.get<std::string>()));
            continue;
        }
        if (v.is_boolean() || v.is_null()) continue;
        auto d = got.get_double(key);
        if (!d) {
            problem(fmt::format("header key {}: missing or not numeric", key));
            continue;
        }
        const double want = golden_double(v);
        ++compared;
        if (*d == want) {
            ++bitwise;
            continue;
        }
        worst_rel = std::max(worst_rel, want != 0 ? std::fabs(*d - want) / std::fabs(want) : INFINITY);
        if (!(std::fabs(*d - want) <= 1e-12 * std::fabs(want)))
            gc.measurement.problems.push_back(fmt::format("header key {}: {:a}, aiapy {:a}", key, *d, want));
    }
    for (const auto& card : got.cards()) {
        if (card.key.empty() || card.key == "HISTORY" || card.key == "COMMENT" || !got.has(card.key)) continue;
        // astropy hides the default EXTNAME of a tile-compressed HDU from the image header; our reader
        // keeps the card (a core/fits_read difference, not a register one).
        if (card.key == "EXTNAME" && got.get_string("EXTNAME").value_or("") == "COMPRESSED_IMAGE") continue;
        std::string lower = card.key;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (!meta.contains(lower)) problem(fmt::format("we keep header key {}, aiapy's output has no such key", card.key));
    }
    gc.measurement.set("header_rel", worst_rel);
    gc.measurement.set("header_mismatch", double(mismatches));
    gc.note += fmt::format("{}header {}/{} numeric keys bitwise", gc.note.empty() ? "" : "; ", bitwise, compared);
}

// aiapy's warnings (the record's "warnings": "AIApyUserWarning: <text>") against ours, in order;
// extra warning_mismatch counts the differences.
void compare_warnings(const std::vector<std::string>& ours, const nlohmann::json& rec, GoldenComparison& gc) {
    std::vector<std::string> theirs;
    for (const auto& w : rec.value("warnings", nlohmann::json::array())) {
        const std::string s = w.get<std::string>();
        const std::size_t colon = s.find(": ");
        theirs.push_back(colon == std::string::npos ? s : s.substr(colon + 2));
    }
    const bool same = ours == theirs;
    gc.measurement.set("warning_mismatch", same ? 0 : 1);
    if (!same)
        gc.measurement.problems.push_back(fmt::format("warnings [{}], aiapy [{}]", fmt::join(ours, "; "), fmt::join(theirs, "; ")));
    else if (!ours.empty())
        gc.note += fmt::format("{}warned as aiapy: {}", gc.note.empty() ? "" : "; ", fmt::join(ours, "; "));
}

}  // namespace

std::string GoldenComparison::summary() const {
    std::string s;
    for (const auto& p : parts) s += fmt::format("{}{}: {}", s.empty() ? "" : " | ", p.name, p.text);
    for (const auto& [k, v] : measurement.extra) s += fmt::format(" | {} {:.3g}", k, v);
    if (!note.empty()) s += " | " + note;
    return s;
}

Image<double> golden_window(const Image<double>& a, const nlohmann::json& w) {
    const auto r0 = w.at("row0").get<std::size_t>(), r1 = w.at("row1").get<std::size_t>();
    const auto c0 = w.at("col0").get<std::size_t>(), c1 = w.at("col1").get<std::size_t>();
    if (r1 >= a.rows() || c1 >= a.cols() || r0 > r1 || c0 > c1) return Image<double>();  // shape mismatch for compare()
    Image<double> out(r1 - r0 + 1, c1 - c0 + 1);
    for (std::size_t i = r0; i <= r1; ++i)
        for (std::size_t j = c0; j <= c1; ++j) out(i - r0, j - c0) = a(i, j);
    return out;
}

Image<double> block_sum(const Image<double>& p, std::size_t b) {
    Image<double> out(p.rows() / b, p.cols() / b, 0.0);
    for (std::size_t i = 0; i < out.rows() * b; ++i)
        for (std::size_t j = 0; j < out.cols(); ++j) out(i / b, j) += reference::numpy_pairwise_sum(p.row(i) + j * b, b);
    return out;
}

std::string sha256_in_dtype(const Image<double>& img, PixelType t) {
    Sha256 s;
    for (double v : img.pixels()) {
        if (t == PixelType::f32) {
            const float f = static_cast<float>(v);
            s.update(&f, 4);
        } else {
            s.update(&v, 8);
        }
    }
    return s.hex();
}

GoldenComparison psf_vs_golden(const Image<double>& p, const nlohmann::json& item, const GoldenStore& g) {
    GoldenComparison gc{item.value("item", ""), item.value("aiapy_version", ""), {}, {}, {}, {}, {}, {}};
    bool crop = false;
    for (auto& [key, f] : item.at("files").items()) {
        if (key.rfind("crop_center_", 0) != 0) continue;
        // The central N×N crop, N = 513 for 171 Å and 129 for the others: rows/cols 2048 − N/2 ...
        const std::size_t n = std::stoul(key.substr(12)), lo = p.rows() / 2 - n / 2;
        nlohmann::json w = {{"row0", lo}, {"row1", lo + n - 1}, {"col0", lo}, {"col1", lo + n - 1}};
        Image<double> ours = golden_window(p, w), theirs = g.array(item, key);
        Metrics m = compare(ours, theirs);
        add_part(gc, key, m, m.summary(), ours, theirs);
        crop = true;
    }
    if (!crop) gc.measurement.problems.push_back("the golden has no crop_center_<N> array");
    Image<double> ours = block_sum(p, 16), theirs = g.array(item, "blocksum_16");
    Metrics mb = compare(ours, theirs);
    add_part(gc, "blocksum_16", mb, mb.summary(), ours, theirs);
    const double sum = reference::numpy_sum(p.data(), p.size());
    const std::size_t arg = std::size_t(std::max_element(p.data(), p.data() + p.size()) - p.data());
    const double gmax = golden_double(item.at("stats").at("max"));
    gc.measurement.set("sum_minus_1", std::fabs(sum - 1.0));
    gc.measurement.set("peak_rel", std::fabs(p.data()[arg] - gmax) / gmax);
    const long r = long(arg / p.cols()), c = long(arg % p.cols());
    gc.measurement.set("argmax_offset_px", double(std::max(std::labs(r - long(p.rows() / 2)), std::labs(c - long(p.cols() / 2)))));
    gc.note = fmt::format("max {:.17g} (aiapy {:.17g}), sum−1 {:.3g} (aiapy {:.3g})", p.data()[arg], gmax, sum - 1.0,
                          golden_double(item.at("stats").at("sum")) - 1.0);
    if (!crop) gc.measurement.set("shape_mismatch", 1);
    return gc;
}

GoldenComparison deconvolve_vs_golden(const Image<double>& out, const nlohmann::json& item, const GoldenStore& g) {
    GoldenComparison gc{item.value("item", ""), item.value("aiapy_version", ""), {}, {}, {}, {}, {}, {}};
    for (auto& [key, f] : item.at("files").items()) {
        Image<double> ours = key == "blocksum_16" ? block_sum(out, 16) : golden_window(out, f.at("window"));
        Image<double> theirs = g.array(item, key);
        Metrics m = compare(ours, theirs);
        add_part(gc, key, m, m.summary(), ours, theirs);
    }
    return gc;
}

namespace {

// Every array a register golden stores, against our output: windows and the full image with the edge
// band and flip count (compare_register*), block sums as plain values. Returns the most edge flips.
double compare_register_arrays(const Image<double>& out, const nlohmann::json& rec, const GoldenStore& g, GoldenComparison& gc) {
    const double missing = golden_double(rec.at("input_missing_default_nanmin"));
    double flips = 0;
    for (auto& [name, f] : rec.at("files").items()) {
        if (name == "blockmean_64") continue;  // a derived statistic; the windows and the sha256 cover the pixels
        const Image<double> theirs = g.array(rec, name);
        if (name.rfind("blocksum_", 0) == 0) {  // the whole output, block-summed (synoptic goldens)
            const Image<double> ours = block_sum(out, std::stoul(name.substr(9)));
            const Metrics bm = compare(ours, theirs);
            add_part(gc, name, bm, bm.summary(), ours, theirs);
            continue;
        }
        std::size_t r0 = 0, c0 = 0;
        if (f.contains("window")) {
            r0 = f["window"].at("row0").get<std::size_t>();
            c0 = f["window"].at("col0").get<std::size_t>();
        }
        RegisterMetrics rm = f.contains("window") ? compare_register_window(out, theirs, r0, c0, missing) : compare_register(out, theirs, missing);
        flips = std::max(flips, double(rm.flips));
        Image<double> ours;
        if (rm.metrics.shape_ok)
            ours = golden_window(out, {{"row0", r0}, {"row1", r0 + theirs.rows() - 1}, {"col0", c0}, {"col1", c0 + theirs.cols() - 1}});
        add_part(gc, name, rm.metrics, rm.summary(), ours, theirs);
    }
    return flips;
}

}  // namespace

GoldenComparison register_vs_golden(const AiaImage& input, const AiaImage* out, const Error* refusal, const nlohmann::json& rec,
                                    const GoldenStore& g) {
    GoldenComparison gc{rec.value("item", ""), rec.value("aiapy_version", ""), {}, {}, {}, {}, {}, {}};
    Measurement& m = gc.measurement;
    const std::string key = rec.at("input").get<std::string>();
    if (key == GoldenStore::kDerivedKey) {
        if (auto d = g.item(gc.version, "derived")) {
            const bool same = sha256_in_dtype(input.data, input.dtype) == d->at("data").at("sha256_le").get<std::string>();
            m.set("input_mismatch", same ? 0 : 1);
            if (!same) m.problems.push_back("the derived input is not the one testdata/golden/DERIVED.md describes (sha256)");
        }
    }
    if (rec.contains("refused") || !out) {
        m.has_image = false;
        const bool aiapy_refused = rec.contains("refused");
        bool matched = false;
        if (aiapy_refused && !out && refusal) {
            matched = refusal->kind() == ErrorKind::bad_value &&
                std::string(refusal->what()).find("does not contain the full solar disk") != std::string::npos;
            if (!matched) m.problems.push_back(fmt::format("aiapy refused ({}); we refused differently: {}", rec["refused"].dump(), refusal->what()));
        } else if (aiapy_refused) {
            m.problems.push_back(fmt::format("aiapy refused this input ({}), we did not", rec["refused"].dump()));
        } else {
            m.problems.push_back(fmt::format("aiapy registered this input, we refused: {}", refusal ? refusal->what() : "?"));
        }
        m.set("refusal_mismatch", matched ? 0 : 1);
        gc.note = matched ? "refused, as aiapy" : "refusal differs";
        return gc;
    }
    m.set("refusal_mismatch", 0);
    const auto& o = rec.at("output");
    const bool dtype_ok = std::string(to_string(out->dtype)) == o.at("dtype").get<std::string>();
    m.set("dtype_mismatch", dtype_ok ? 0 : 1);
    if (!dtype_ok) m.problems.push_back(fmt::format("dtype {}, aiapy {}", to_string(out->dtype), o.at("dtype").get<std::string>()));
    const bool sha_equal = sha256_in_dtype(out->data, out->dtype) == o.at("sha256_full_le").get<std::string>();
    gc.note = fmt::format("{}x{} {}, whole output sha256 {}", out->data.rows(), out->data.cols(), to_string(out->dtype),
                          sha_equal ? "EQUAL to aiapy's" : "differs");
    m.set("sha256_equal", sha_equal ? 1 : 0);
    compare_warnings(reference::register_warnings(input), rec, gc);
    const bool shape_ok = out->data.rows() == o.at("shape")[0].get<std::size_t>() && out->data.cols() == o.at("shape")[1].get<std::size_t>();
    if (!shape_ok) {
        m.metrics.shape_ok = false;
        m.metrics.max_abs = m.metrics.max_abs_over_max = m.metrics.rel_l2 = INFINITY;
        m.problems.push_back(fmt::format("shape {}x{}, aiapy {}x{}", out->data.rows(), out->data.cols(), o.at("shape")[0].get<std::size_t>(),
                                         o.at("shape")[1].get<std::size_t>()));
        return gc;
    }
    compare_header(out->header, rec.at("meta"), gc);
    const double flips = compare_register_arrays(out->data, rec, g, gc);
    m.set("edge_flips", flips);
    return gc;
}

}  // namespace aiaccel::validate
