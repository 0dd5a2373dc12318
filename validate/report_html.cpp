// index.html: one self-contained page (inline CSS, PNGs as data: URIs, charts as inline SVG; no
// scripts, no URLs) with the headline, failures and repro commands, accuracy and speed tables,
// artifact figures, the error-vs-iteration chart and speedup charts.
#include <fmt/format.h>

#include "validate/report.hpp"
#include "validate/report_artifacts.hpp"
#include "validate/report_svg.hpp"

namespace aiaccel::validate::report {
namespace {

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1240px; padding: 0 20px 40px; color: #222; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 36px; }
.headline { font-size: 1.6em; font-weight: 600; padding: 10px 14px; border-radius: 6px; display: inline-block; }
.headline.passed { background: #e3f4e6; } .headline.failed { background: #fbe0e0; }
.headline.mistrusted { background: #fff3d1; } .headline.none { background: #eee; }
.meta { color: #555; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-weight: 600; font-style: normal; white-space: nowrap; }
.badge.passed { background: #d5efd9; color: #185c26; } .badge.failed { background: #c62828; color: #fff; }
.badge.mistrusted { background: #f5d676; color: #5a4300; } .badge.skipped { background: #e4e4e4; color: #555; }
tr.failed td { background: #fbe0e0; }
tr.mistrusted td { background: #fff3d1; }
tr.skipped td { color: #777; font-style: italic; }
pre { background: #f6f6f6; padding: 8px 10px; overflow-x: auto; border-radius: 4px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; margin: 14px 0; }
.card.failed { border-color: #d04040; border-width: 2px; }
.card h3 { margin: 6px 0; font-size: 15px; }
.figures { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; width: 280px; font-size: 11.5px; color: #444; }
figure img { width: 280px; height: auto; image-rendering: auto; border: 1px solid #ccc; background: #000; display: block; }
figcaption.role { font-weight: 600; font-size: 13px; color: #222; margin-bottom: 2px; }
figure svg { width: 280px; height: auto; }
.note { color: #8a5a00; font-size: 13px; margin: 6px 0; }
.mismatch { color: #c01830; font-weight: 600; }
svg text { fill: #222; }
)";

std::string esc(std::string_view s) { return xml_escape(s); }

// Numbers right-aligned; short identifiers kept on one line; prose may wrap.
std::string column_class(const std::string& h) {
    if (h == "max|Δ|/max" || h == "rel L2" || h == "time" || h.rfind("speedup", 0) == 0 || h == "peak RSS" || h == "threads" ||
        h == "pixels/s" || h == "× floor") return "num";
    if (h == "why this bound" || h == "other") return "text";
    return "id";
}

void table(std::string& h, const Table& t) {
    h += fmt::format("<h3>{}</h3>\n<table>\n<tr>", esc(t.stage));
    for (const auto& c : t.header) h += fmt::format("<th>{}</th>", esc(c));
    h += "</tr>\n";
    for (const auto& l : t.lines) {
        h += fmt::format("<tr class=\"{}\">", verdict_css(l.verdict));
        for (std::size_t i = 0; i < l.cells.size(); ++i)
            h += fmt::format("<td class=\"{}\">{}</td>", column_class(t.header[i]), esc(l.cells[i]));
        h += fmt::format("<td class=\"verdict\"><span class=\"badge {}\">{}</span>{}</td></tr>\n", verdict_css(l.verdict),
                         esc(verdict_label(l.verdict, false)), esc(l.note.empty() ? "" : " " + l.note));
    }
    h += "</table>\n";
}

std::string headline_css(const Summary& s) {
    if (s.accuracy_rows + s.speed_rows == 0) return "none";
    return s.count(Verdict::failed) ? "failed" : s.count(Verdict::mistrusted) ? "mistrusted" : "passed";
}

}  // namespace

std::string render_html(const ReportData& d, const HtmlOptions& opt) {
    const Summary s = summarize(d);
    const auto acc = accuracy_tables(d);
    const auto speed = speed_tables(d);
    const auto series = iteration_series(d);
    const auto bars = speedup_bars(d);
    std::vector<const ReportRow*> with_artifacts, failed;
    for (const auto* r : ordered(d, "accuracy"))
        if (!r->row.artifacts.empty()) with_artifacts.push_back(r);
    for (const auto& r : d.rows)
        if (r.row.verdict == Verdict::failed) failed.push_back(&r);

    std::string h = fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n"
                                "</head>\n<body>\n<h1>{}</h1>\n<p class=\"headline {}\">{}</p>\n",
                                esc(d.title), kStyle, esc(d.title), headline_css(s), esc(headline(s, false)));
    h += fmt::format("<p class=\"meta\">{} result rows ({} accuracy, {} speed) from {} file{} · generated {} by aiaccel {}</p>\n", d.rows.size(),
                     s.accuracy_rows, s.speed_rows, d.inputs.size(), d.inputs.size() == 1 ? "" : "s", esc(d.generated_utc), esc(version_of(d)));
    h += "<nav>";
    if (!failed.empty()) h += "<a href=\"#failures\">Failures</a>";
    if (!acc.empty()) h += "<a href=\"#accuracy\">Accuracy</a>";
    if (!with_artifacts.empty()) h += "<a href=\"#images\">Images</a>";
    if (!series.empty()) h += "<a href=\"#iterations\">Error vs iteration</a>";
    if (!speed.empty()) h += "<a href=\"#speed\">Speed</a>";
    h += "<a href=\"#machine\">Machine</a></nav>\n";
    if (d.rows.empty()) h += "<p class=\"note\">The inputs hold no result rows: nothing was validated or timed.</p>\n";

    if (!failed.empty()) {
        h += "<h2 id=\"failures\">Failures</h2>\n<p>Each FAILED row and the one command that reproduces it:</p>\n";
        for (const auto* r : failed)
            h += fmt::format("<p><strong>{}</strong></p>\n{}", esc(failure_line(r->row)),
                             r->row.repro.empty() ? "<p class=\"note\">(this row carries no repro command)</p>\n"
                                                  : "<pre><code>" + esc(r->row.repro) + "</code></pre>\n");
    }
    if (!acc.empty()) {
        h += "<h2 id=\"accuracy\">Accuracy</h2>\n<p>max|Δ|/max = max |result − reference| / max |reference|; rel L2 = "
             "‖result − reference‖₂ / ‖reference‖₂, over pixels finite in both. “vs” is what the result was compared with.</p>\n";
        for (const auto& t : acc) table(h, t);
    }
    if (!with_artifacts.empty()) {
        h += "<h2 id=\"images\">Images</h2>\n<p>North up (FITS row 0 at the bottom). Grey pictures: asinh stretch between the 0.5 and "
             "99.9 percentiles; reference and backend output share the reference's stretch. Difference maps: log10 of |Δ| relative to "
             "max|reference|, in a perceptual colormap (dark = small).</p>\n";
        for (const auto* r : with_artifacts) {
            auto figs = artifact_figures(*r, opt.max_image_side);
            h += fmt::format("<div class=\"card {}\">\n<h3>{} — {}</h3>\n{}</div>\n", verdict_css(r->row.verdict), esc(row_label(r->row)),
                             esc(verdict_label(r->row.verdict, false)), figs.html);
        }
    }
    if (!series.empty()) {
        h += "<h2 id=\"iterations\">Error vs Richardson–Lucy iteration</h2>\n";
        h += svg_line_chart_log_y("deconvolve: max|Δ|/max vs iterations", "Richardson–Lucy iterations", "max|Δ| / max|reference|", series);
    }
    if (!speed.empty()) {
        h += "<h2 id=\"speed\">Speed</h2>\n<p>" + esc(speed_legend()) + "</p>\n";
        for (const auto& t : speed) {
            table(h, t);
            for (const auto& b : bars)
                if (b.stage == t.stage)
                    h += svg_bar_chart_log_x(fmt::format("{}: speedup vs {}", b.stage, b.baseline_backend),
                                               fmt::format("speedup over {} (log scale)", b.baseline_backend), b.bars);
        }
    }
    h += "<h2 id=\"machine\">Machine</h2>\n<ul>\n";
    for (const auto& m : s.machines) h += "<li>" + esc(m) + "</li>\n";
    if (s.machines.empty()) h += "<li>(no rows, no machine)</li>\n";
    h += "</ul>\n";
    if (s.machines.size() > 1) h += "<p class=\"note\">Rows come from more than one machine: speed ratios only compare rows from the same machine.</p>\n";
    h += "<h2>Inputs</h2>\n<ul>\n";
    for (const auto& in : d.inputs) h += "<li><code>" + esc(in) + "</code></li>\n";
    return h + "</ul>\n</body>\n</html>\n";
}

}  // namespace aiaccel::validate::report
