// Calibration functions vs aiapy goldens (see golden_calibrate.hpp).
#include "validate/golden_calibrate.hpp"

#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "reference/aia_time.hpp"
#include "reference/calibrate_reference.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace aiaccel::reference;

namespace {

std::string upper(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

// Counts one failed exact requirement under `extra` and says why.
void fail(CalibrationComparison& c, const char* extra, std::string why) {
    c.measurement.set(extra, *c.measurement.value(extra) + 1);
    c.measurement.problems.push_back(c.what + " " + std::move(why));
}

void worst(CalibrationComparison& c, const char* extra, double v) {
    if (!(v <= *c.measurement.value(extra))) c.measurement.set(extra, v);
}

// Runs f; true when it threw aiaccel::Error of `kind` (any kind when kind is nullopt).
template <class F>
bool refuses(F&& f, std::optional<ErrorKind> kind, std::string& message) {
    try {
        f();
    } catch (const Error& e) {
        message = e.what();
        return !kind || e.kind() == *kind;
    }
    message = "no error";
    return false;
}

// An output map (correct_degradation, exposure) against the golden record: float64, BUNIT, shape,
// the sampled pixels and the sha256 of the whole array.
void check_map_output(CalibrationComparison& c, const std::string& name, const AiaImage& out, const json& r) {
    const json& o = r.at("output");
    if (o.at("dtype").get<std::string>() != "float64" || out.dtype != PixelType::f64)
        fail(c, "dtype_mismatch", fmt::format("{}: dtype {}, aiapy {}", name, to_string(out.dtype), o.at("dtype").get<std::string>()));
    const std::string bunit = out.header.get_string("BUNIT").value_or("<absent>");
    if (bunit != o.at("bunit").get<std::string>())
        fail(c, "data_mismatch", fmt::format("{}: BUNIT '{}', aiapy '{}'", name, bunit, o.at("bunit").get<std::string>()));
    if (out.data.rows() != o.at("shape")[0].get<std::size_t>() || out.data.cols() != o.at("shape")[1].get<std::size_t>()) {
        fail(c, "data_mismatch", fmt::format("{}: shape {}x{} differs from aiapy's", name, out.data.rows(), out.data.cols()));
        return;
    }
    for (const auto& p : r.at("pixels")) {
        const auto row = p.at("row").get<std::size_t>(), col = p.at("col").get<std::size_t>();
        if (out.data(row, col) != golden_double(p))
            fail(c, "data_mismatch", fmt::format("{}: pixel ({}, {}) = {:a}, aiapy {:a}", name, row, col, out.data(row, col), golden_double(p)));
    }
    if (sha256_hex(out.data.data(), out.data.size() * sizeof(double)) != o.at("sha256_full_le").get<std::string>())
        fail(c, "data_mismatch", name + ": output array differs from aiapy's (sha256)");
    ++c.outputs;
}

fs::path table_file(const GoldenStore& g, const std::string& recorded) { return g.testdata() / "aia" / "tables" / fs::path(recorded).filename(); }

bool wanted(std::string_view filter, const std::string& value) { return filter.empty() || filter == value; }

}  // namespace

CalibrationComparison calibration_comparison(std::string what, std::string version) {
    CalibrationComparison c;
    c.what = std::move(what);
    c.version = std::move(version);
    c.measurement.has_image = false;
    c.measurement.metrics.shape_ok = true;
    for (const char* k : {"factor_rel", "crpix_abs", "header_mismatch", "data_mismatch", "dtype_mismatch", "refusal_mismatch"})
        c.measurement.set(k, 0);
    return c;
}

void merge(CalibrationComparison& into, const CalibrationComparison& p) {
    for (const auto& [k, v] : p.measurement.extra) {
        const double cur = into.measurement.value(k).value_or(0);
        into.measurement.set(k, k.ends_with("_mismatch") ? cur + v : std::max(cur, v));
    }
    into.measurement.problems.insert(into.measurement.problems.end(), p.measurement.problems.begin(), p.measurement.problems.end());
    into.results += p.results;
    into.refusals += p.refusals;
    into.factors += p.factors;
    into.factors_bitwise += p.factors_bitwise;
    into.header_values += p.header_values;
    into.header_exact += p.header_exact;
    into.outputs += p.outputs;
}

std::string CalibrationComparison::summary() const {
    std::string s = fmt::format("{} (aiapy {}): {} results", what, version, results);
    if (factors) s += fmt::format(", factors {}/{} bit-identical (worst rel {:.3g})", factors_bitwise, factors, *measurement.value("factor_rel"));
    if (header_values)
        s += fmt::format(", header values {}/{} bit-identical (worst |ΔCRPIX| {:.3g} px)", header_exact, header_values,
                         *measurement.value("crpix_abs"));
    if (outputs) s += fmt::format(", {} outputs bit for bit", outputs);
    if (refusals) s += fmt::format(", {} refusals matched", refusals);
    if (!measurement.problems.empty()) s += fmt::format("; {} problems, first: {}", measurement.problems.size(), measurement.problems.front());
    return s;
}

std::optional<CalibrationComparison> degradation_vs_golden(const GoldenStore& g, std::string_view version, std::string_view table) {
    auto rec = g.item(version, "degradation");
    if (!rec || rec->contains("error")) return std::nullopt;
    CalibrationComparison c = calibration_comparison("degradation", std::string(version));
    const AiapyVersion v = *parse_aiapy_version(version);
    for (const auto& [tname, tinfo] : rec->at("tables").items()) {
        if (!wanted(table, tname)) continue;
        const ResponseTable t = read_response_table(table_file(g, tinfo.at("file").get<std::string>()).string());
        DegradationOptions opt{v, 10};
        if (tinfo.at("args").contains("calibration_version")) opt.calibration_version = tinfo.at("args").at("calibration_version");
        for (const auto& [key, f] : tinfo.at("factors").items()) {
            ++c.results;
            const int ch = f.at("channel").get<int>();
            const UtcTime time = parse_utc(f.at("time").get<std::string>(), TimeParser::astropy, "golden time");
            const std::string name = tname + " " + key;
            if (f.contains("error")) {
                std::string msg;
                if (refuses([&] { degradation(ch, time, t, opt); }, ErrorKind::bad_value, msg))
                    ++c.refusals;
                else
                    fail(c, "refusal_mismatch", fmt::format("{}: aiapy refused, we gave: {}", name, msg));
                continue;
            }
            const double want = golden_double(f.at("value"));
            try {
                const double got = degradation(ch, time, t, opt);
                ++c.factors;
                c.factors_bitwise += got == want;
                worst(c, "factor_rel", want != 0 ? std::fabs(got - want) / std::fabs(want) : (got == 0 ? 0.0 : INFINITY));
            } catch (const Error& e) { fail(c, "refusal_mismatch", fmt::format("{}: aiapy gave {}, we refused: {}", name, want, e.what())); }
        }
    }
    return c;
}

std::optional<CalibrationComparison> correct_degradation_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input,
                                                                   std::string_view item) {
    auto rec = g.item(version, item);
    if (!rec || rec->contains("error")) return std::nullopt;
    CalibrationComparison c = calibration_comparison("correct_degradation", std::string(version));
    const AiapyVersion v = *parse_aiapy_version(version);
    for (const auto& [name, r] : rec->at("results").items()) {
        if (!wanted(input, r.at("input").get<std::string>())) continue;
        ++c.results;
        const std::string tname = name.substr(0, name.find(':'));
        const ResponseTable table = read_response_table(table_file(g, r.at("table").get<std::string>()).string());
        const DegradationOptions opt{v, tname == "V8" ? 8 : 10};
        AiaImage img = g.input(r.at("input").get<std::string>());
        if (r.contains("refused")) {
            std::string msg;
            if (refuses([&] { correct_degradation(img, table, opt); }, ErrorKind::bad_value, msg))
                ++c.refusals;
            else
                fail(c, "refusal_mismatch", fmt::format("{}: aiapy refused, we gave: {}", name, msg));
            continue;
        }
        try {
            const double d = correct_degradation(img, table, opt);
            const double want = golden_double(r.at("factor"));
            ++c.factors;
            c.factors_bitwise += d == want;
            worst(c, "factor_rel", std::fabs(d - want) / std::fabs(d));
            check_map_output(c, name, img, r);
        } catch (const Error& e) { fail(c, "refusal_mismatch", fmt::format("{}: aiapy corrected it, we refused: {}", name, e.what())); }
    }
    return c;
}

std::optional<CalibrationComparison> exposure_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input,
                                                        std::string_view item) {
    auto rec = g.item(version, item);
    if (!rec || rec->contains("error")) return std::nullopt;
    CalibrationComparison c = calibration_comparison("exposure", std::string(version));
    for (const auto& [key, r] : rec->at("results").items()) {
        if (!wanted(input, r.at("input").get<std::string>())) continue;
        ++c.results;
        AiaImage img = g.input(r.at("input").get<std::string>());
        if (img.header.get_double("EXPTIME").value_or(NAN) != golden_double(r.at("exptime")))
            fail(c, "header_mismatch", key + ": EXPTIME differs from aiapy's exposure_time");
        if (r.contains("refused")) {
            std::string msg;
            if (refuses([&] { normalize_exposure(img); }, std::nullopt, msg))
                ++c.refusals;
            else
                fail(c, "refusal_mismatch", key + ": aiapy refused, we did not");
            continue;
        }
        try {
            normalize_exposure(img);
            check_map_output(c, key, img, r);
        } catch (const Error& e) { fail(c, "refusal_mismatch", fmt::format("{}: aiapy normalised it, we refused: {}", key, e.what())); }
    }
    return c;
}

std::optional<CalibrationComparison> update_pointing_vs_golden(const GoldenStore& g, std::string_view version, std::string_view input) {
    auto rec = g.item(version, "update_pointing");
    if (!rec || rec->contains("error")) return std::nullopt;
    // sunpy's contains_full_disk verdicts (same sunpy in both oracles), for 0.10.2's refusals.
    auto fd = g.item(version, "full_disk");
    if (!fd) fd = g.item("0.12.1", "full_disk");
    if (!fd) fd = g.item("0.10.2", "full_disk");
    if (!fd) return std::nullopt;
    CalibrationComparison c = calibration_comparison("update_pointing", std::string(version));
    const AiapyVersion v = *parse_aiapy_version(version);
    std::map<std::string, PointingTable> tables;
    const std::vector<std::string> keys = {"crpix1", "crpix2", "cdelt1", "cdelt2", "crota2", "x0_mp", "y0_mp"};
    for (const auto& [name, r] : rec->at("results").items()) {
        const std::string in_key = r.at("input").get<std::string>();
        if (!wanted(input, in_key)) continue;
        ++c.results;
        const FullDiskCheckFn full_disk = [&](const AiaImage&) { return fd->at("results").at(in_key).at("contains_full_disk").get<bool>(); };
        const std::string tfile = fs::path(r.at("table").get<std::string>()).filename().string();
        if (!tables.count(tfile)) tables.emplace(tfile, read_pointing_table((g.testdata() / "golden" / tfile).string()));
        const AiaImage& before = g.input(in_key);
        AiaImage img = before;
        if (r.contains("refused")) {
            std::string msg;
            if (refuses([&] { update_pointing(img, tables.at(tfile), v, full_disk); }, ErrorKind::bad_value, msg))
                ++c.refusals;
            else
                fail(c, "refusal_mismatch", fmt::format("{}: aiapy refused, we gave: {}", name, msg));
            continue;
        }
        PointingUpdate u;
        try {
            u = update_pointing(img, tables.at(tfile), v, full_disk);
        } catch (const Error& e) {
            fail(c, "refusal_mismatch", fmt::format("{}: aiapy updated it, we refused: {}", name, e.what()));
            continue;
        }
        const json& after = r.at("header_after");
        std::set<std::string> changed;
        for (const std::string& k : keys) {
            const std::string K = upper(k);
            const double got = img.header.get_double(K).value_or(NAN);
            if (got != before.header.get_double(K).value_or(NAN)) changed.insert(k);
            if (!after.contains(k)) {
                if (img.header.has(K)) fail(c, "header_mismatch", fmt::format("{}: we have {}, aiapy's header has not", name, K));
                continue;
            }
            const double want = golden_double(after.at(k));
            ++c.header_values;
            c.header_exact += got == want;
            if (k.rfind("crpix", 0) == 0) {
                worst(c, "crpix_abs", std::fabs(got - want));
                if (v == AiapyVersion::v0_10_2 && got != want) fail(c, "header_mismatch", fmt::format("{}: {} {:a}, aiapy {:a}", name, K, got, want));
            } else if (got != want) {
                fail(c, "header_mismatch", fmt::format("{}: {} {:a}, aiapy {:a}", name, K, got, want));
            }
        }
        for (const auto& k : r.at("removed_keys"))
            if (img.header.has(upper(k.get<std::string>())))
                fail(c, "header_mismatch", fmt::format("{}: aiapy removed {}, we kept it", name, upper(k.get<std::string>())));
        for (const char* pc : {"PC1_1", "PC1_2", "PC2_1", "PC2_2"})
            if (img.header.has(pc)) fail(c, "header_mismatch", fmt::format("{}: {} kept", name, pc));
        std::set<std::string> want_changed;
        for (const auto& k : r.at("changed_keys")) want_changed.insert(k.get<std::string>());
        if (changed != want_changed) fail(c, "header_mismatch", name + ": the set of changed keys differs from aiapy's");
        if (u.warnings.size() != r.at("warnings").size())
            fail(c, "header_mismatch", fmt::format("{}: {} warnings, aiapy {}", name, u.warnings.size(), r.at("warnings").size()));
        for (std::size_t i = 0; i < img.data.size(); ++i) {
            const double a = img.data.data()[i], b = before.data.data()[i];
            if (!(a == b || (std::isnan(a) && std::isnan(b)))) {
                fail(c, "data_mismatch", name + ": update_pointing changed the pixels");
                break;
            }
        }
    }
    return c;
}

}  // namespace aiaccel::validate
