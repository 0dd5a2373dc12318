// index.html: one self-contained page (inline CSS, PNGs as data: URIs, charts as inline SVG; no
// scripts, no URLs). The first screen holds the headline, the stage × backend × precision matrix and
// the speedup chart against aiapy; then failures with repro commands; then one collapsible section
// per stage with its accuracy and speed tables, charts and artifact figures.
#include <fmt/format.h>

#include "report/report.hpp"
#include "report/report_artifacts.hpp"
#include "report/report_svg.hpp"

namespace aiaccel::validate::report {
namespace {

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1360px; padding: 0 20px 40px; color: #222; }
h1 { margin: 14px 0 6px; font-size: 1.45em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 36px; }
.top { margin: 4px 0 8px; }
.headline { font-size: 1.35em; font-weight: 600; padding: 6px 12px; border-radius: 6px; display: inline-block; margin-right: 10px; }
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
.glance { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.glance section { flex: 0 1 auto; }
.glance .legend { max-width: 690px; }
.glance section.speed .legend { max-width: 580px; }
.glance h2 { margin-top: 6px; font-size: 1.2em; }
.legend { color: #555; font-size: 12.5px; max-width: 700px; margin: 6px 0; }
table.matrix { font-size: 13px; }
table.matrix th { text-align: center; }
table.matrix th.stage { text-align: left; font-size: 14px; }
table.matrix td.cell { padding: 0; width: 120px; height: 44px; text-align: center; vertical-align: middle; }
table.matrix td.cell a { display: block; padding: 5px 3px; color: inherit; text-decoration: none; }
table.matrix .count { display: block; font-weight: 600; font-size: 13.5px; white-space: nowrap; }
table.matrix .detail { display: block; font-size: 11px; white-space: nowrap; }
td.cell.far { background: #1e7a3c; color: #fff; } td.cell.good { background: #6cbf7b; color: #0d2f16; }
td.cell.mid { background: #e8d95a; color: #3d3500; } td.cell.near { background: #f0a340; color: #3d2300; }
td.cell.failed { background: #c62828; color: #fff; } td.cell.mistrusted { background: #f5d676; color: #5a4300; }
td.cell.skipped { background: #e4e4e4; color: #555; } td.cell.none { background: #fafafa; color: #aaa; }
details.stage { border: 1px solid #ccc; border-radius: 6px; margin: 10px 0; padding: 0 14px; }
details.stage > summary { cursor: pointer; padding: 10px 0; font-size: 15px; }
details.stage[open] > summary { border-bottom: 1px solid #eee; }
.stage-name { font-weight: 700; font-size: 17px; margin-right: 6px; }
details.images > summary { cursor: pointer; font-weight: 600; margin: 10px 0; }
ol.reasons { font-size: 12.5px; color: #444; margin: -8px 0 16px; padding-left: 28px; }
ol.reasons li::marker { content: "[" counter(list-item) "] "; }
)";

std::string esc(std::string_view s) { return xml_escape(s); }

// Numbers right-aligned; short identifiers kept on one line; prose may wrap.
std::string column_class(const std::string& h) {
    if (h == "max|Δ|/max" || h == "rel L2" || h == "time" || h.rfind("speedup", 0) == 0 || h == "peak RSS" || h == "threads" || h == "pixels/s" ||
        h == "× floor")
        return "num";
    if (h == "other") return "text";
    return "id";
}

void table(std::string& h, const Table& t) {
    h += fmt::format("<h3>{}</h3>\n<table>\n<tr>", esc(t.stage));
    for (const auto& c : t.header) h += fmt::format("<th>{}</th>", esc(c));
    h += "</tr>\n";
    for (const auto& l : t.lines) {
        h += fmt::format("<tr class=\"{}\">", verdict_css(l.verdict));
        for (std::size_t i = 0; i < l.cells.size(); ++i) h += fmt::format("<td class=\"{}\">{}</td>", column_class(t.header[i]), esc(l.cells[i]));
        h += fmt::format("<td class=\"verdict\"><span class=\"badge {}\">{}</span>{}</td></tr>\n", verdict_css(l.verdict),
                         esc(verdict_label(l.verdict, false)), esc(l.note.empty() ? "" : " " + l.note));
    }
    h += "</table>\n";
    if (!t.footnotes.empty()) {
        h += "<ol class=\"reasons\">\n";
        for (const auto& f : t.footnotes) h += "<li>" + esc(f) + "</li>\n";
        h += "</ol>\n";
    }
}

// The stage × (backend · precision) matrix: a cell links to its stage's details.
void matrix_html(std::string& h, const Matrix& m, bool any_failed) {
    h += "<table class=\"matrix\">\n<tr><th rowspan=\"2\">stage</th>";
    for (std::size_t i = 0; i < m.columns.size();) {
        std::size_t j = i;
        while (j < m.columns.size() && m.columns[j].first == m.columns[i].first) ++j;
        h += fmt::format("<th colspan=\"{}\">{}</th>", j - i, esc(m.columns[i].first));
        i = j;
    }
    h += "</tr>\n<tr>";
    for (const auto& c : m.columns) h += fmt::format("<th>{}</th>", esc(c.second));
    h += "</tr>\n";
    for (std::size_t si = 0; si < m.stages.size(); ++si) {
        h += fmt::format("<tr><th class=\"stage\"><a href=\"#stage-{0}\">{0}</a></th>", esc(m.stages[si]));
        for (std::size_t ci = 0; ci < m.columns.size(); ++ci) {
            const auto& c = m.cells[si][ci];
            std::string tip =
                c.worst ? fmt::format("worst: {} ({}) in {}", fraction_text(c.worst->fraction), c.worst->metric, c.worst_row) : c.skip_reason;
            const std::string href = c.count(Verdict::failed) && any_failed ? "#failures" : "#stage-" + m.stages[si];
            h += fmt::format(
                "<td class=\"cell {}\" title=\"{}\"><a href=\"{}\"><span class=\"count\">{}</span><span class=\"detail\">{}</span></a></td>",
                matrix_css(c), esc(tip), esc(href), esc(matrix_count_text(c)), esc(matrix_detail_text(c)));
        }
        h += "</tr>\n";
    }
    h += "</table>\n";
}

// "accuracy 16 passed, 16 skipped · speed 5 rows · 12 images": the line a closed stage shows.
std::string stage_summary(const Table* a, const Table* sp, std::size_t images) {
    std::vector<std::string> parts;
    if (a) {
        std::array<std::size_t, 4> n{};
        for (const auto& l : a->lines) ++n[static_cast<std::size_t>(l.verdict)];
        std::string t = fmt::format("accuracy: {} passed", n[0]);
        if (n[1]) t += fmt::format(", {} MISTRUSTED", n[1]);
        if (n[2]) t += fmt::format(", {} FAILED", n[2]);
        if (n[3]) t += fmt::format(", {} skipped", n[3]);
        parts.push_back(t);
    }
    if (sp) parts.push_back(fmt::format("speed: {} rows", sp->lines.size()));
    if (images) parts.push_back(fmt::format("images of {} case{}", images, images == 1 ? "" : "s"));
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "— " : " · ") + p;
    return out;
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
    const auto matrix = accuracy_matrix(d);
    const auto top_bars = headline_speed_bars(d);
    std::vector<const ReportRow*> with_artifacts, failed;
    for (const auto* r : ordered(d, "accuracy"))
        if (!r->row.artifacts.empty()) with_artifacts.push_back(r);
    for (const auto& r : d.rows)
        if (r.row.verdict == Verdict::failed) failed.push_back(&r);
    std::string iteration_stage;  // the stage whose rows carry an "iterations" metric: the chart goes there
    for (const auto* r : ordered(d, "accuracy"))
        if (metric_value(r->row, "iterations")) {
            iteration_stage = r->row.stage;
            break;
        }
    std::vector<std::string> stages;  // pipeline order, accuracy stages first
    for (const auto* list : {&acc, &speed})
        for (const auto& t : *list)
            if (std::find(stages.begin(), stages.end(), t.stage) == stages.end()) stages.push_back(t.stage);

    std::string h = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n"
        "</head>\n<body>\n<h1>{}</h1>\n<p class=\"top\"><span class=\"headline {}\">{}</span> <span class=\"meta\">",
        esc(d.title), kStyle, esc(d.title), headline_css(s), esc(headline(s, false)));
    h += fmt::format("{} result rows ({} accuracy, {} speed) from {} file{} · generated {} by aiaccel {}</span></p>\n", d.rows.size(),
                     s.accuracy_rows, s.speed_rows, d.inputs.size(), d.inputs.size() == 1 ? "" : "s", esc(d.generated_utc), esc(version_of(d)));
    if (d.rows.empty()) h += "<p class=\"note\">The inputs hold no result rows: nothing was validated or timed.</p>\n";

    // ---- First screen: the verdict matrix and the speedup chart side by side.
    if (!matrix.stages.empty() || !top_bars.bars.empty()) {
        h += "<div class=\"glance\">\n";
        if (!matrix.stages.empty()) {
            h += "<section>\n<h2 id=\"matrix\">Accuracy at a glance</h2>\n";
            matrix_html(h, matrix, !failed.empty());
            h += "<p class=\"legend\">" + esc(matrix_legend()) + "</p>\n</section>\n";
        }
        if (!top_bars.bars.empty()) {
            h += "<section class=\"speed\">\n<h2 id=\"speedup\">Speed at a glance</h2>\n";
            h += svg_bar_chart_log_x(top_bars.title, "speedup, log scale (dashed line: as fast as aiapy)", top_bars.bars, 580, 285);
            h += "<p class=\"legend\">aiaccel's backends only, each at its fastest thread count (hover a bar for the case, threads and "
                 "time); every row, aiapy flavour and floor is in the stage's speed table below.</p>\n</section>\n";
        }
        h += "</div>\n";
    }

    h += "<nav>";
    if (!failed.empty()) h += "<a href=\"#failures\">Failures</a>";
    for (const auto& st : stages) h += fmt::format("<a href=\"#stage-{0}\">{0}</a>", esc(st));
    h += "<a href=\"#machine\">Machine</a></nav>\n";

    if (!failed.empty()) {
        h += "<h2 id=\"failures\">Failures</h2>\n<p>Each FAILED row and the one command that reproduces it:</p>\n";
        for (const auto* r : failed)
            h += fmt::format("<p><strong>{}</strong></p>\n{}", esc(failure_line(r->row)),
                             r->row.repro.empty() ? "<p class=\"note\">(this row carries no repro command)</p>\n"
                                                  : "<pre><code>" + esc(r->row.repro) + "</code></pre>\n");
    }

    // ---- Details, one collapsible section per stage (open when it holds a failure).
    if (!stages.empty())
        h += "<h2 id=\"details\">Details by stage</h2>\n<p class=\"legend\">Click a stage to open its accuracy table, speed table and "
             "charts, and the images of its cases. max|Δ|/max = max |result − reference| / max |reference|; rel L2 = ‖result − "
             "reference‖₂ / ‖reference‖₂, over pixels finite in both; “vs” is what the result was compared with; [N] after a bound "
             "points to its reason under the table.</p>\n";
    for (const auto& st : stages) {
        const Table* a = nullptr;
        const Table* sp = nullptr;
        for (const auto& t : acc)
            if (t.stage == st) a = &t;
        for (const auto& t : speed)
            if (t.stage == st) sp = &t;
        std::vector<const ReportRow*> imgs;
        for (const auto* r : with_artifacts)
            if (r->row.stage == st) imgs.push_back(r);
        const bool has_failure = std::any_of(failed.begin(), failed.end(), [&](const ReportRow* r) { return r->row.stage == st; });
        h += fmt::format("<details class=\"stage\" id=\"stage-{}\"{}>\n<summary><span class=\"stage-name\">{}</span> {}</summary>\n", esc(st),
                         has_failure ? " open" : "", esc(st), esc(stage_summary(a, sp, imgs.size())));
        if (a) {
            h += "<h3>Accuracy</h3>\n";
            table(h, *a);
        }
        if (st == iteration_stage && !series.empty())
            h += "<h3>Error vs Richardson–Lucy iteration</h3>\n" +
                svg_line_chart_log_y("deconvolve: max|Δ|/max vs iterations", "Richardson–Lucy iterations", "max|Δ| / max|reference|", series);
        if (sp) {
            h += "<h3>Speed</h3>\n<p class=\"legend\">" + esc(speed_legend()) + "</p>\n";
            table(h, *sp);
            for (const auto& b : bars)
                if (b.stage == st)
                    h += svg_bar_chart_log_x(fmt::format("{}: speedup vs {}", b.stage, b.baseline_backend),
                                             fmt::format("speedup over {} (log scale)", b.baseline_backend), b.bars);
        }
        if (!imgs.empty()) {
            h += fmt::format("<details class=\"images\"{}>\n<summary>Images of {} case{}</summary>\n", has_failure ? " open" : "", imgs.size(),
                             imgs.size() == 1 ? "" : "s");
            h += "<p class=\"legend\">North up (FITS row 0 at the bottom). Grey pictures: asinh stretch between the 0.5 and 99.9 percentiles; "
                 "reference and backend output share the reference's stretch. Difference maps: log10 of |Δ| relative to max|reference|, in a "
                 "perceptual colormap (dark = small).</p>\n";
            for (const auto* r : imgs) {
                auto figs = artifact_figures(*r, opt.max_image_side);
                h += fmt::format("<div class=\"card {}\">\n<h3>{} — {}</h3>\n{}</div>\n", verdict_css(r->row.verdict), esc(row_label(r->row)),
                                 esc(verdict_label(r->row.verdict, false)), figs.html);
            }
            h += "</details>\n";
        }
        h += "</details>\n";
    }

    h += "<h2 id=\"machine\">Machine</h2>\n<ul>\n";
    for (const auto& m : s.machines) h += "<li>" + esc(m) + "</li>\n";
    if (s.machines.empty()) h += "<li>(no rows, no machine)</li>\n";
    h += "</ul>\n";
    if (s.machines.size() > 1)
        h += "<p class=\"note\">Rows come from more than one machine: speed ratios only compare rows from the same machine.</p>\n";
    h += "<h2>Inputs</h2>\n<ul>\n";
    for (const auto& in : d.inputs) h += "<li><code>" + esc(in) + "</code></li>\n";
    return h + "</ul>\n</body>\n</html>\n";
}

}  // namespace aiaccel::validate::report
