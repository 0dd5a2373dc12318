// Report data model: loading result-row files, verdict counts, ordered tables and speed ratios.
#include "report/report_model.hpp"
#include "core/clock.hpp"
#include "core/strings.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <map>
#include <sstream>

#include "aiaccel_config.hpp"
#include "core/error.hpp"
#include "validate/tolerances.hpp"

namespace aiaccel::validate::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The parts of a row that row_from_json would accept silently but that would render wrongly.
void check_row(const json& j) {
    if (!j.is_object()) throw std::runtime_error(fmt::format("expected an object, found {}", j.type_name()));
    const std::string kind = j.value("kind", "accuracy");
    if (kind != "accuracy" && kind != "speed") throw std::runtime_error(fmt::format("kind \"{}\": expected \"accuracy\" or \"speed\"", kind));
    const std::string verdict = j.value("verdict", "SKIPPED");
    if (!parse_verdict(verdict)) throw std::runtime_error(fmt::format("verdict \"{}\": expected PASSED, MISTRUSTED, FAILED or SKIPPED", verdict));
    if (!j.contains("metrics") || !j["metrics"].is_object()) throw std::runtime_error("no \"metrics\" object");
    if (j.value("stage", "").empty()) throw std::runtime_error("no \"stage\"");
}

std::string json_message(const std::exception& e) {
    std::string m = e.what();
    if (m.rfind("[json.exception.", 0) == 0 && m.find("] ") != std::string::npos) m = m.substr(m.find("] ") + 2);
    return m;
}

int stage_rank(const std::vector<std::string>& order, const std::string& s) {
    auto it = std::find(order.begin(), order.end(), s);
    return it == order.end() ? int(order.size()) : int(it - order.begin());
}
int backend_rank(const std::string& b) {
    if (b.rfind("aiapy", 0) == 0) return 0;
    if (b == "reference") return 1;
    if (b == "cpu") return 2;
    if (b == "cuda") return 3;
    return 4;
}
int precision_rank(const std::string& p) { return p == "f64" ? 0 : p == "f32" ? 1 : 2; }

// "it5" before "it10": runs of digits compare by value.
bool natural_less(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
            std::size_t i2 = i, j2 = j;
            while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
            while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
            std::string x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
            x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
            y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
            if (x.size() != y.size()) return x.size() < y.size();
            if (x != y) return x < y;
            i = i2, j = j2;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i, ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

bool row_less(const std::vector<std::string>& stage_order, const ReportRow* a, const ReportRow* b) {
    const auto& x = a->row;
    const auto& y = b->row;
    auto kx =
        std::make_tuple(stage_rank(stage_order, x.stage), x.stage, backend_rank(x.backend), x.backend, precision_rank(x.precision), x.precision);
    auto ky =
        std::make_tuple(stage_rank(stage_order, y.stage), y.stage, backend_rank(y.backend), y.backend, precision_rank(y.precision), y.precision);
    if (kx != ky) return kx < ky;
    return natural_less(x.case_name, y.case_name);
}

bool is_aiapy(const std::string& backend) { return backend.rfind("aiapy", 0) == 0; }
bool measured(const ResultRow& r) { return r.verdict != Verdict::skipped && r.time_s > 0; }

// The case name without its iteration-count word ("derived-171-it25" -> "derived-171").
std::string case_family(const std::string& c) {
    std::string out;
    std::size_t start = 0;
    while (start <= c.size()) {
        std::size_t end = c.find_first_of("-_", start);
        if (end == std::string::npos) end = c.size();
        std::string word = c.substr(start, end - start);
        std::size_t digits = word.rfind("iter", 0) == 0 ? 4 : word.rfind("it", 0) == 0 ? 2 : 0;
        bool is_iter = digits && word.size() > digits &&
            std::all_of(word.begin() + long(digits), word.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
        if (!is_iter) out += (out.empty() ? "" : std::string(1, start > 0 ? c[start - 1] : '-')) + word;
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string version_of(const ReportData& d) { return d.aiaccel_version.empty() ? std::string(AIACCEL_VERSION) : d.aiaccel_version; }

ReportData load_rows(const std::vector<std::string>& paths) {
    ReportData d;
    d.generated_utc = utc_now_iso8601();
    d.aiaccel_version = AIACCEL_VERSION;
    for (const auto& path : paths) {
        std::error_code ec;
        if (!fs::exists(path, ec)) throw file_error(ErrorKind::unreadable, path, "no such file");
        if (fs::is_directory(path, ec)) throw file_error(ErrorKind::unreadable, path, "is a folder, expected a JSON file of result rows");
        std::ifstream in(path, std::ios::binary);
        if (!in) throw file_error(ErrorKind::unreadable, path, "cannot be opened for reading");
        json doc;
        try {
            doc = json::parse(in);
        } catch (const json::exception& e) { throw file_error(ErrorKind::bad_value, path, "not valid JSON: " + json_message(e)); }
        const json* rows = &doc;
        if (doc.is_object()) {
            if (!doc.contains("rows") || !doc["rows"].is_array())
                throw file_error(ErrorKind::bad_value, path,
                                 "a JSON object without a \"rows\" array; expected an array of result rows or {\"rows\": [...]}");
            rows = &doc["rows"];
        } else if (!doc.is_array()) {
            throw file_error(ErrorKind::bad_value, path,
                             fmt::format("JSON {}; expected an array of result rows or {{\"rows\": [...]}}", doc.type_name()));
        }
        const fs::path base = fs::absolute(fs::path(path)).parent_path();
        for (std::size_t i = 0; i < rows->size(); ++i) {
            try {
                check_row((*rows)[i]);
                d.rows.push_back({row_from_json((*rows)[i]), base, path});
            } catch (const std::exception& e) {
                throw file_error(ErrorKind::bad_value, path, fmt::format("row {} is not a result row: {}", i, json_message(e)));
            }
        }
        d.inputs.push_back(path);
    }
    return d;
}

// ---- Summary ---------------------------------------------------------------------------------

Summary summarize(const ReportData& d) {
    Summary s;
    for (const auto& r : d.rows) {
        ++s.counts[static_cast<std::size_t>(r.row.verdict)];
        (r.row.kind == "speed" ? s.speed_rows : s.accuracy_rows)++;
        std::string m = machine_text(r.row.machine);
        if (std::find(s.machines.begin(), s.machines.end(), m) == s.machines.end()) s.machines.push_back(m);
    }
    return s;
}

std::string headline(const Summary& s, bool emoji) {
    const std::size_t total = s.accuracy_rows + s.speed_rows;
    if (total == 0) return emoji ? "⚪ no result rows" : "no result rows";
    const char* mark = s.count(Verdict::failed) ? (emoji ? "❌" : "✗") : s.count(Verdict::mistrusted) ? (emoji ? "⚠️" : "!") : (emoji ? "✅" : "✓");
    std::string h = fmt::format("{} {} PASSED, ", mark, s.count(Verdict::passed));
    if (s.count(Verdict::mistrusted)) h += fmt::format("{} MISTRUSTED, ", s.count(Verdict::mistrusted));
    return h + fmt::format("{} FAILED, {} SKIPPED", s.count(Verdict::failed), s.count(Verdict::skipped));
}

std::string machine_text(const MachineInfo& m) {
    if (m.cpu.empty() && m.os.empty() && m.compiler.empty() && m.gpu.empty()) return "(machine not recorded)";
    std::string t = m.cpu.empty() ? "unknown CPU" : m.cpu;
    if (m.threads > 0) t += fmt::format(", {} threads", m.threads);
    if (!m.os.empty()) t += "; " + m.os;
    if (!m.compiler.empty()) t += "; " + m.compiler;
    t += "; GPU: " + (m.gpu.empty() ? std::string("none") : m.gpu);
    return t;
}

std::string verdict_label(Verdict v, bool emoji) {
    switch (v) {
        case Verdict::passed: return emoji ? "✅ PASSED" : "✓ PASSED";
        case Verdict::mistrusted: return emoji ? "⚠️ MISTRUSTED" : "! MISTRUSTED";
        case Verdict::failed: return emoji ? "❌ FAILED" : "✗ FAILED";
        case Verdict::skipped: return emoji ? "⏭️ SKIPPED" : "– SKIPPED";
    }
    return "?";
}

std::string verdict_css(Verdict v) {
    std::string s(to_string(v));
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return char(std::tolower(static_cast<unsigned char>(c))); });
    return s;
}

// ---- Numbers ---------------------------------------------------------------------------------

std::string sci(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";
    double a = std::fabs(v);
    if (a >= 1e-3 && a < 1e4 && v == std::round(v)) return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{:.2e}", v);
}

std::string seconds(double s) {
    if (!(s > 0)) return "—";
    if (s < 1e-3) return fmt::format("{:.3g} µs", s * 1e6);
    if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
    return fmt::format("{:.3g} s", s);
}

std::string times(double r) {
    if (!(r > 0) || !std::isfinite(r)) return "—";
    if (r >= 100) return fmt::format("{:.0f}×", r);
    if (r >= 1) return fmt::format("{:.1f}×", r);
    return fmt::format("{:.2g}×", r);  // two significant digits: 0.35×, 0.0046× (never a bare 0.00×)
}

std::string metric_name(std::string_view m) {
    if (m == "max_abs_over_max") return "max|Δ|/max";
    if (m == "rel_l2") return "rel L2";
    if (m == "max_abs") return "max|Δ|";
    if (m == "sum_minus_1") return "|sum−1|";
    if (m == "flux_ratio") return "disk flux Σout/Σref";
    if (m == "flux_ratio_minus_1") return "|flux ratio−1|";
    if (m == "limb_profile_error") return "limb profile max|Δ|/max";
    if (m == "on_disk_max_rel") return "on-disk max|Δ|/max";
    if (m == "off_disk_max_rel") return "off-disk max|Δ|/max";
    return std::string(m);
}

std::optional<double> metric_value(const ResultRow& r, std::string_view m) {
    if (m == "max_abs_over_max") return r.metrics.max_abs_over_max;
    if (m == "rel_l2") return r.metrics.rel_l2;
    if (m == "max_abs") return r.metrics.max_abs;
    if (m == "nan_mismatch") return double(r.metrics.nan_mismatch);
    if (m == "bitwise_fraction_min" || m == "bitwise_fraction") return r.metrics.bitwise_fraction();
    if (m == "shape_mismatch" || m == "shape_mismatch_max") return r.metrics.shape_ok ? 0.0 : 1.0;
    for (const auto& [k, v] : r.extra)
        if (k == m) return v;
    // Tolerance metrics name the value plus "_max" / "_min" (validate/tolerances.hpp).
    if (m.size() > 4 && (m.ends_with("_max") || m.ends_with("_min"))) return metric_value(r, m.substr(0, m.size() - 4));
    return std::nullopt;
}

// ---- Tables ----------------------------------------------------------------------------------

std::vector<const ReportRow*> ordered(const ReportData& d, std::string_view kind) {
    std::vector<const ReportRow*> v;
    for (const auto& r : d.rows)
        if (r.row.kind == kind) v.push_back(&r);
    std::stable_sort(v.begin(), v.end(), [&](const ReportRow* a, const ReportRow* b) { return row_less(d.stage_order, a, b); });
    return v;
}

std::string row_label(const ResultRow& r) { return fmt::format("{} · {} · {} · {}", r.stage, r.backend, r.precision, r.case_name); }

std::string failure_line(const ResultRow& r) {
    std::string what;
    if (!r.metrics.shape_ok)
        what = "shapes differ";
    else if (auto v = metric_value(r, r.bound_metric); v && !r.bound_metric.empty())
        what = fmt::format("{} {} > bound {}", metric_name(r.bound_metric), sci(*v), sci(r.bound));
    else
        what = fmt::format("max|Δ|/max {}, rel L2 {}", sci(r.metrics.max_abs_over_max), sci(r.metrics.rel_l2));
    if (r.metrics.nan_mismatch) what += fmt::format(", {} NaN mismatches", r.metrics.nan_mismatch);
    return row_label(r) + ": " + what;
}

namespace {

std::string other_metrics(const ResultRow& r) {
    std::vector<std::string> parts;
    if (r.metrics.nan_mismatch) parts.push_back(fmt::format("NaN mismatch {}", r.metrics.nan_mismatch));
    if (r.metrics.compared && r.metrics.bitwise_equal == r.metrics.compared) parts.push_back("bit-exact");
    for (const auto& [k, v] : r.extra) parts.push_back(fmt::format("{} {}", metric_name(k), k == "flux_ratio" ? fmt::format("{:.10f}", v) : sci(v)));
    std::string s;
    for (const auto& p : parts) append_joined(s, ", ", p);
    return s;
}

template <class MakeLine>
std::vector<Table> per_stage(const std::vector<const ReportRow*>& rows, const std::vector<std::string>& header, MakeLine make) {
    std::vector<Table> tables;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (tables.empty() || tables.back().stage != rows[i]->row.stage) tables.push_back({rows[i]->row.stage, header, {}, {}});
        const auto& r = rows[i]->row;
        tables.back().lines.push_back({make(i), r.verdict, r.verdict == Verdict::skipped ? r.skip_reason : ""});
    }
    return tables;
}

}  // namespace

std::vector<Table> accuracy_tables(const ReportData& d) {
    auto rows = ordered(d, "accuracy");
    auto tables =
        per_stage(rows, {"backend", "precision", "target", "case", "vs", "max|Δ|/max", "rel L2", "bound", "other", "verdict"}, [&](std::size_t i) {
            const auto& r = rows[i]->row;
            const bool has = r.verdict != Verdict::skipped;
            std::string bound = r.bound_metric.empty() && r.bound == 0 ? "—" : fmt::format("≤ {} on {}", sci(r.bound), metric_name(r.bound_metric));
            return std::vector<std::string>{r.backend,
                                            r.precision,
                                            r.target.empty() ? "—" : r.target,
                                            r.case_name,
                                            r.against,
                                            has ? (r.metrics.shape_ok ? sci(r.metrics.max_abs_over_max) : "shape mismatch") : "—",
                                            has && r.metrics.shape_ok ? sci(r.metrics.rel_l2) : "—",
                                            bound,
                                            has ? other_metrics(r) : ""};
        });
    // Each bound's reason once per table, as a numbered note the bound cells point to.
    const std::size_t bound_col = 7;
    std::size_t i = 0;
    for (auto& t : tables) {
        for (auto& l : t.lines) {
            const auto& reason = rows[i++]->row.bound_reason;
            if (reason.empty() || l.cells[bound_col] == "—") continue;
            auto it = std::find(t.footnotes.begin(), t.footnotes.end(), reason);
            const std::size_t n = std::size_t(it - t.footnotes.begin()) + 1;
            if (it == t.footnotes.end()) t.footnotes.push_back(reason);
            l.cells[bound_col] += fmt::format(" [{}]", n);
        }
    }
    return tables;
}

std::string speed_legend() {
    return "Speedup = time of the baseline row / time of this row, same stage, case and machine; > 1 is faster. "
           "\"speedup vs aiapy\" is against one aiapy row, named in \"aiapy baseline\": the fastest aiapy without an accelerator "
           "(aiapy 0.12.1's numpy path when it was timed, the baseline to beat); every aiapy flavour has its own row. "
           "\"× floor\" = this row's time / the floor's (same stage, case, precision and threads, and the same FFT library when "
           "there is one): fftw-floor, mkl-floor = that FFT library alone doing the 100 transforms of 25 Richardson–Lucy iterations, memcpy-floor = one copy of the image; 1.00× is the best this "
           "machine can do. Times as recorded by the command that wrote the rows (aiaccel bench: median of the repetitions after "
           "a warm-up run).";
}

bool is_floor_backend(const std::string& backend) { return backend.size() > 6 && backend.ends_with("-floor"); }
bool is_accelerated_aiapy(const std::string& backend) { return is_aiapy(backend) && backend.find('+') != std::string::npos; }

namespace {

std::optional<double> extra_value(const ResultRow& r, std::string_view key) {
    for (const auto& [k, v] : r.extra)
        if (k == key) return v;
    return std::nullopt;
}

bool same_measurement(const ResultRow& a, const ResultRow& b) {
    return measured(a) && a.stage == b.stage && a.case_name == b.case_name && machine_text(a.machine) == machine_text(b.machine);
}

// The aiapy row every row of (stage, case, machine) is compared with: the fastest non-accelerated
// aiapy, else the fastest accelerated one.
const ReportRow* aiapy_baseline(const std::vector<const ReportRow*>& rows, const ResultRow& r) {
    const ReportRow* best = nullptr;
    for (const auto* c : rows) {
        const auto& b = c->row;
        if (!is_aiapy(b.backend) || !same_measurement(b, r)) continue;
        if (!best) {
            best = c;
            continue;
        }
        const bool acc_b = is_accelerated_aiapy(b.backend), acc_best = is_accelerated_aiapy(best->row.backend);
        if (acc_b != acc_best ? !acc_b : b.time_s < best->row.time_s) best = c;
    }
    return best;
}

// The floor of the same precision, preferring the same threads and the same FFT library (a cpu row
// on mkl ↔ mkl-floor), in that order.
const ReportRow* floor_for(const std::vector<const ReportRow*>& rows, const ResultRow& r) {
    const ReportRow* best = nullptr;
    int best_score = -1;
    const auto threads = extra_value(r, "threads");
    for (const auto* c : rows) {
        const auto& b = c->row;
        if (!is_floor_backend(b.backend) || !same_measurement(b, r) || b.precision != r.precision) continue;
        const int score = 2 * (extra_value(b, "threads") == threads) + (!r.fft.empty() && b.fft == r.fft);
        if (score > best_score) best = c, best_score = score;
    }
    return best;
}

}  // namespace

std::vector<Speedup> speedups(const ReportData& d) {
    auto rows = ordered(d, "speed");
    auto find = [&](const ResultRow& r, auto pred) -> const ReportRow* {
        const ReportRow* any = nullptr;
        for (const auto* c : rows) {
            const auto& b = c->row;
            if (!pred(b.backend) || !same_measurement(b, r)) continue;
            if (b.precision == r.precision) return c;
            if (!any) any = c;
        }
        return any;
    };
    std::vector<Speedup> out;
    for (const auto* p : rows) {
        Speedup s{p, {}, {}, {}, {}, {}};
        if (measured(p->row) && !is_floor_backend(p->row.backend)) {
            if (auto* a = aiapy_baseline(rows, p->row)) s.vs_aiapy = a->row.time_s / p->row.time_s, s.aiapy_baseline = a->row.backend;
            if (auto* f = find(p->row, [](const std::string& b) { return b == "reference"; })) s.vs_reference = f->row.time_s / p->row.time_s;
            if (auto* f = floor_for(rows, p->row)) s.times_floor = p->row.time_s / f->row.time_s, s.floor = f->row.backend;
        }
        out.push_back(s);
    }
    return out;
}

namespace {

// A row's per-image time budget (the note tools/bench/prep-throughput writes for prep rows) becomes a
// numbered footnote of its table, pointed to from the time cell.
void budget_footnotes(std::vector<Table>& tables, const std::vector<const ReportRow*>& rows) {
    std::size_t i = 0;
    for (auto& t : tables) {
        const auto time_col = std::size_t(std::find(t.header.begin(), t.header.end(), "time") - t.header.begin());
        for (auto& l : t.lines)  // one line per row, in the rows' order
            for (const auto& note : rows[i++]->row.notes) {
                if (!note.starts_with("per-image time budget")) continue;
                t.footnotes.push_back(fmt::format("{} {} ({}): {}", l.cells[0], l.cells[1], l.cells[2], note));
                l.cells.at(time_col) += fmt::format(" [{}]", t.footnotes.size());
            }
    }
}

}  // namespace

std::vector<Table> speed_tables(const ReportData& d) {
    auto sp = speedups(d);
    std::vector<const ReportRow*> rows;
    for (const auto& s : sp) rows.push_back(s.row);
    auto tables =
        per_stage(rows,
                  {"case", "backend", "precision", "target", "threads", "FFT", "time", "pixels/s", "speedup vs aiapy", "aiapy baseline",
                   "speedup vs reference", "× floor", "peak RSS", "verdict"},
                  [&](std::size_t i) {
                      const auto& r = rows[i]->row;
                      const auto& s = sp[i];
                      const bool floor = is_floor_backend(r.backend);
                      auto ratio = [&](const std::optional<double>& x, bool self) {
                          return floor ? std::string("—") : x && self ? std::string("baseline") : x ? times(*x) : std::string("—");
                      };
                      const auto threads = extra_value(r, "threads");
                      const auto pps = extra_value(r, "pixels_per_s");
                      std::string x_floor = floor ? std::string("floor") : s.times_floor ? fmt::format("{:.2f}× {}", *s.times_floor, s.floor) : "—";
                      return std::vector<std::string>{r.case_name,
                                                      r.backend,
                                                      r.precision,
                                                      r.target.empty() ? "—" : r.target,
                                                      threads ? fmt::format("{:.0f}", *threads) : "—",
                                                      r.fft.empty() ? std::string("—") : r.fft,
                                                      measured(r) ? seconds(r.time_s) : "—",
                                                      pps && *pps > 0 ? fmt::format("{:.3g}", *pps) : "—",
                                                      ratio(s.vs_aiapy, r.backend == s.aiapy_baseline),
                                                      floor || s.aiapy_baseline.empty() ? std::string("—") : s.aiapy_baseline,
                                                      ratio(s.vs_reference, r.backend == "reference"),
                                                      x_floor,
                                                      r.peak_rss_mib > 0 ? fmt::format("{:.0f} MiB", r.peak_rss_mib) : "—"};
                  });
    budget_footnotes(tables, rows);
    return tables;
}

// ---- At a glance -------------------------------------------------------------------------------

namespace {

std::optional<Against> against_of(const std::string& a) {
    if (a.rfind("aiapy", 0) == 0) return Against::aiapy;
    if (a == "reference") return Against::reference;
    if (a == "exact") return Against::exact;
    return std::nullopt;
}

void consider(std::optional<BoundFraction>& worst, const ResultRow& r, std::string_view metric, double bound) {
    if (metric.empty() || !(bound > 0) || (metric.size() > 4 && metric.ends_with("_min"))) return;
    auto v = metric_value(r, metric);
    if (!v || std::isnan(*v)) return;
    const double f = std::fabs(*v) / bound;
    // The value's own name, as validate/tolerances.hpp defines it: the metric without "_max" (max_abs_over_max is itself).
    const std::string_view value = metric != "max_abs_over_max" && metric.ends_with("_max") ? metric.substr(0, metric.size() - 4) : metric;
    if (!worst || f > worst->fraction) worst = BoundFraction{f, metric_name(value)};
}

std::string first_words(const std::string& reason) { return reason.substr(0, reason.find(" (")); }

}  // namespace

std::optional<BoundFraction> worst_bound_fraction(const ResultRow& r) {
    if (r.verdict == Verdict::skipped || !r.metrics.shape_ok) return std::nullopt;
    std::optional<BoundFraction> worst;
    consider(worst, r, r.bound_metric, r.bound);
    if (auto a = against_of(r.against)) {
        try {
            for (const auto* t : tolerances_for(r.stage, *a, r.backend, r.precision)) consider(worst, r, t->metric, t->bound);
        } catch (const std::exception&) {
            // A stage or backend this build's table does not know: the row's own bound is all there is.
        }
    }
    return worst;
}

std::string fraction_text(double f) {
    if (f == 0) return "0 (exact)";
    if (f > 1) return fmt::format("{:.2g}× bound", f);
    return fmt::format("{:.2g}% of bound", f * 100);
}

Matrix accuracy_matrix(const ReportData& d) {
    Matrix m;
    const auto rows = ordered(d, "accuracy");
    std::vector<const ReportRow*> by_column = rows;
    std::stable_sort(by_column.begin(), by_column.end(), [](const ReportRow* a, const ReportRow* b) {
        return std::make_tuple(backend_rank(a->row.backend), a->row.backend, precision_rank(a->row.precision), a->row.precision) <
            std::make_tuple(backend_rank(b->row.backend), b->row.backend, precision_rank(b->row.precision), b->row.precision);
    });
    for (const auto* r : by_column) {
        std::pair<std::string, std::string> c{r->row.backend, r->row.precision};
        if (std::find(m.columns.begin(), m.columns.end(), c) == m.columns.end()) m.columns.push_back(c);
    }
    for (const auto* r : rows) {
        if (m.stages.empty() || m.stages.back() != r->row.stage) m.stages.push_back(r->row.stage);
    }
    m.cells.assign(m.stages.size(), std::vector<MatrixCell>(m.columns.size()));
    for (const auto* p : rows) {
        const auto& r = p->row;
        const std::size_t si = std::size_t(std::find(m.stages.begin(), m.stages.end(), r.stage) - m.stages.begin());
        const std::size_t ci = std::size_t(std::find(m.columns.begin(), m.columns.end(), std::make_pair(r.backend, r.precision)) - m.columns.begin());
        auto& c = m.cells[si][ci];
        ++c.rows;
        ++c.counts[static_cast<std::size_t>(r.verdict)];
        if (r.verdict == Verdict::skipped && c.skip_reason.empty()) c.skip_reason = first_words(r.skip_reason);
        if (auto f = worst_bound_fraction(r); f && (!c.worst || f->fraction > c.worst->fraction)) c.worst = f, c.worst_row = row_label(r);
    }
    return m;
}

std::string matrix_css(const MatrixCell& c) {
    if (c.rows == 0) return "none";
    if (c.count(Verdict::failed)) return "failed";
    if (c.count(Verdict::mistrusted)) return "mistrusted";
    if (c.count(Verdict::passed) == 0) return "skipped";
    const double f = c.worst ? c.worst->fraction : 0;
    return f < 0.01 ? "far" : f < 0.1 ? "good" : f < 0.5 ? "mid" : "near";
}

std::string matrix_count_text(const MatrixCell& c) {
    if (c.rows == 0) return "—";
    const std::size_t ran = c.rows - c.count(Verdict::skipped);
    if (c.count(Verdict::failed)) return fmt::format("{} FAILED of {}", c.count(Verdict::failed), ran);
    if (c.count(Verdict::mistrusted)) return fmt::format("{} MISTRUSTED of {}", c.count(Verdict::mistrusted), ran);
    if (ran == 0) return fmt::format("{} skipped", c.rows);
    std::string t = fmt::format("{}/{} passed", c.count(Verdict::passed), ran);
    if (c.count(Verdict::skipped)) t += fmt::format(", {} skipped", c.count(Verdict::skipped));
    return t;
}

std::string matrix_detail_text(const MatrixCell& c) {
    if (c.rows == 0) return "";
    if (c.rows == c.count(Verdict::skipped)) {
        const auto colon = c.skip_reason.find(": ");
        return colon == std::string::npos ? c.skip_reason : c.skip_reason.substr(colon + 2);
    }
    if (!c.worst) return "";
    return c.worst->fraction == 0 ? "0 error (exact)" : "≤ " + fraction_text(c.worst->fraction);
}

std::string matrix_legend() {
    return "Accuracy rows per stage (row) and backend · precision (column): how many passed, and \"≤ N% of bound\": the worst row's "
           "error as a fraction of its bound, over every bound that applies (this build's tolerance table, validate/tolerances.cpp). Colour: dark green < 1% of "
           "the bound, green < 10%, yellow < 50%, amber up to the bound, red FAILED, grey skipped (the reason is shown).";
}

std::string backend_colour(const std::string& backend) {
    if (backend == "reference") return "#7a7a7a";
    if (backend == "cpu") return "#2f5fa7";
    if (backend == "cuda") return "#2e8b57";
    if (is_aiapy(backend)) return "#c8552b";
    return "#8a4fb0";
}

HeadlineBars headline_speed_bars(const ReportData& d) {
    HeadlineBars h;
    const auto sp = speedups(d);
    std::vector<std::string> baselines;
    // The fastest row of each stage · case · backend · precision (over thread counts).
    std::vector<const Speedup*> best;
    for (const auto& s : sp) {
        const auto& r = s.row->row;
        if (!s.vs_aiapy || is_aiapy(r.backend) || is_floor_backend(r.backend)) continue;
        auto it = std::find_if(best.begin(), best.end(), [&](const Speedup* b) {
            const auto& x = b->row->row;
            return x.stage == r.stage && x.case_name == r.case_name && x.backend == r.backend && x.precision == r.precision;
        });
        if (it == best.end())
            best.push_back(&s);
        else if (*s.vs_aiapy > *(*it)->vs_aiapy)
            *it = &s;
        if (std::find(baselines.begin(), baselines.end(), s.aiapy_baseline) == baselines.end()) baselines.push_back(s.aiapy_baseline);
    }
    std::map<std::string, std::size_t> cases_per_stage;
    {
        std::vector<std::pair<std::string, std::string>> seen;
        for (const auto* b : best) {
            std::pair<std::string, std::string> k{b->row->row.stage, b->row->row.case_name};
            if (std::find(seen.begin(), seen.end(), k) == seen.end()) seen.push_back(k), ++cases_per_stage[k.first];
        }
    }
    for (const auto* b : best) {
        const auto& r = b->row->row;
        const auto threads = extra_value(r, "threads");
        std::string label = r.stage + (cases_per_stage[r.stage] > 1 ? " " + r.case_name : "") + " · " + r.backend + " " + r.precision;
        std::string tip = r.case_name + (threads ? fmt::format(", {:.0f} thread{}", *threads, *threads == 1 ? "" : "s") : "") + ", " +
            seconds(r.time_s) + " vs " + b->aiapy_baseline;
        h.bars.push_back({label, *b->vs_aiapy, backend_colour(r.backend), tip});
    }
    if (baselines.empty()) return h;
    // Name the baseline most bars are against; stages against another one are named after it.
    std::map<std::string, std::size_t> uses;
    for (const auto* b : best) ++uses[b->aiapy_baseline];
    const std::string main = std::max_element(uses.begin(), uses.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    h.title = "speedup vs " + main;
    // Stages against another baseline, grouped by it: "(deconvolve, prep: aiapy-0.10.2)".
    std::vector<std::pair<std::string, std::vector<std::string>>> others;
    for (const auto* b : best) {
        if (b->aiapy_baseline == main) continue;
        auto it = std::find_if(others.begin(), others.end(), [&](const auto& o) { return o.first == b->aiapy_baseline; });
        if (it == others.end()) it = others.insert(others.end(), {b->aiapy_baseline, {}});
        if (std::find(it->second.begin(), it->second.end(), b->row->row.stage) == it->second.end()) it->second.push_back(b->row->row.stage);
    }
    std::vector<std::string> parts;
    for (const auto& [baseline, stages] : others) parts.push_back(fmt::format("{}: {}", fmt::join(stages, ", "), baseline));
    if (!parts.empty()) h.title += fmt::format(" ({})", fmt::join(parts, "; "));
    return h;
}

// ---- Charts ----------------------------------------------------------------------------------

std::vector<ChartSeries> iteration_series(const ReportData& d) {
    std::map<std::string, ChartSeries> by_key;
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> bounds;  // one per row of the series
    for (const auto* p : ordered(d, "accuracy")) {
        const auto& r = p->row;
        auto it = metric_value(r, "iterations");
        if (!it || r.verdict == Verdict::skipped) continue;  // rows with an iteration count: deconvolve's
        std::string key = fmt::format("{} {} vs {} · {}", r.backend, r.precision, r.against, case_family(r.case_name));
        if (!by_key.count(key)) order.push_back(key), by_key[key].name = key;
        auto& points = by_key[key].points;
        // A row measured after every iteration gives its whole series, else its final value.
        for (std::size_t k = 0; k < r.iteration_max_rel.size(); ++k) points.emplace_back(double(k + 1), r.iteration_max_rel[k]);
        if (r.iteration_max_rel.empty()) points.emplace_back(*it, r.metrics.max_abs_over_max);
        bounds[key].push_back(r.bound_metric == "max_abs_over_max" ? r.bound : 0);
    }
    std::vector<ChartSeries> out;
    for (const auto& k : order) {
        auto s = by_key[k];
        // Rows of one family repeat the same run's first iterations (it5 is it25's start): one point per count.
        std::stable_sort(s.points.begin(), s.points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        s.points.erase(std::unique(s.points.begin(), s.points.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                       s.points.end());
        const auto& b = bounds[k];
        if (std::all_of(b.begin(), b.end(), [&](double x) { return x == b[0]; }) && b[0] > 0) s.bound = b[0];
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<StageBars> speedup_bars(const ReportData& d) {
    std::vector<StageBars> out;
    auto sp = speedups(d);
    for (const auto& s : sp) {
        const auto& r = s.row->row;
        if (out.empty() || out.back().stage != r.stage) out.push_back({r.stage, "", "", {}});
    }
    for (auto& sb : out) {
        bool any_aiapy = std::any_of(sp.begin(), sp.end(), [&](const Speedup& s) { return s.row->row.stage == sb.stage && s.vs_aiapy; });
        sb.baseline = any_aiapy ? "aiapy" : "reference";
        sb.baseline_backend = "reference";
        if (any_aiapy)
            for (const auto& s : sp)
                if (s.row->row.stage == sb.stage && s.vs_aiapy) {
                    sb.baseline_backend = s.aiapy_baseline;
                    break;
                }
        for (const auto& s : sp) {
            const auto& r = s.row->row;
            if (r.stage != sb.stage) continue;
            const auto& v = any_aiapy ? s.vs_aiapy : s.vs_reference;
            bool is_baseline = any_aiapy ? r.backend == s.aiapy_baseline : r.backend == "reference";
            const auto threads = extra_value(r, "threads");
            const std::string thr = threads ? fmt::format(" · {:.0f} thr", *threads) : "";
            if (v && !is_baseline) sb.bars.push_back({fmt::format("{} {}{} · {}", r.backend, r.precision, thr, r.case_name), *v, "", ""});
        }
    }
    std::erase_if(out, [](const StageBars& s) { return s.bars.empty(); });
    return out;
}

// ---- Artifacts -------------------------------------------------------------------------------

ArtifactRole artifact_role(const std::string& name) {
    fs::path p(name);
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) { return char(std::tolower(static_cast<unsigned char>(c))); });
    if (ext == ".png") return ArtifactRole::png;
    std::string stem = p.stem().string();
    if (ext == ".gz" || ext == ".fz") stem = fs::path(stem).stem().string();  // x.fits.gz
    std::size_t cut = stem.find_last_of("._-");
    std::string word = cut == std::string::npos ? stem : stem.substr(cut + 1);
    std::transform(word.begin(), word.end(), word.begin(), [](char c) { return char(std::tolower(static_cast<unsigned char>(c))); });
    if (word == "input" || word == "in") return ArtifactRole::input;
    if (word == "reference" || word == "ref") return ArtifactRole::reference;
    if (word == "output" || word == "out" || word == "backend") return ArtifactRole::output;
    if (word == "diff" || word == "difference") return ArtifactRole::difference;
    return ArtifactRole::other;
}

std::string_view to_string(ArtifactRole r) {
    switch (r) {
        case ArtifactRole::input: return "input";
        case ArtifactRole::reference: return "reference output";
        case ArtifactRole::output: return "backend output";
        case ArtifactRole::difference: return "difference";
        case ArtifactRole::png: return "image";
        case ArtifactRole::other: return "artifact";
    }
    return "?";
}

fs::path artifact_path(const ReportRow& r, const std::string& artifact) {
    fs::path p(artifact);
    return p.is_absolute() ? p : r.base / p;
}

std::vector<std::string> missing_artifact_notes(const ReportData& d) {
    std::vector<std::string> notes;
    for (const auto& r : d.rows)
        for (const auto& a : r.row.artifacts) {
            std::error_code ec;
            fs::path p = artifact_path(r, a);
            if (!fs::is_regular_file(p, ec))
                notes.push_back(fmt::format("artifact {} of {} not found (looked for {})", a, row_label(r.row), p.string()));
        }
    return notes;
}

}  // namespace aiaccel::validate::report
