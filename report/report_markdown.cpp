// summary.md: the verdict headline, the stage × backend × precision matrix, failures with their repro
// commands, the accuracy and speed tables per stage (each bound's reason once, under its table),
// and the machine(s) the rows were measured on.
#include <fmt/format.h>

#include "report/report.hpp"

namespace aiaccel::validate::report {
namespace {

std::string cell(std::string_view s) {
    std::string o;
    for (char c : s) {
        if (c == '|')
            o += "\\|";
        else if (c == '\n' || c == '\r')
            o += ' ';
        else
            o += c;
    }
    return o.empty() ? " " : o;
}

void table(std::string& md, const Table& t) {
    md += fmt::format("\n### {}\n\n|", t.stage);
    for (const auto& h : t.header) md += fmt::format(" {} |", cell(h));
    md += "\n|";
    for (std::size_t i = 0; i < t.header.size(); ++i) md += "---|";
    md += "\n";
    for (const auto& l : t.lines) {
        md += "|";
        for (const auto& c : l.cells) md += fmt::format(" {} |", cell(c));
        const std::string v = verdict_label(l.verdict) + (l.note.empty() ? "" : ": " + l.note);
        md += l.verdict == Verdict::failed ? fmt::format(" **{}** |\n", cell(v)) : fmt::format(" {} |\n", cell(v));
    }
    if (!t.footnotes.empty()) md += "\n";
    for (std::size_t i = 0; i < t.footnotes.size(); ++i) md += fmt::format("[{}] {}  \n", i + 1, t.footnotes[i]);
}

// The stage × (backend · precision) matrix, the same cells as index.html's first screen.
void matrix(std::string& md, const Matrix& m) {
    md += "\n| stage |";
    for (const auto& c : m.columns) md += fmt::format(" {} {} |", cell(c.first), cell(c.second));
    md += "\n|---|";
    for (std::size_t i = 0; i < m.columns.size(); ++i) md += "---|";
    md += "\n";
    for (std::size_t si = 0; si < m.stages.size(); ++si) {
        md += fmt::format("| **{}** |", cell(m.stages[si]));
        for (const auto& c : m.cells[si]) {
            const std::string css = matrix_css(c);
            const char* mark = css == "failed" ? "❌ " : css == "mistrusted" ? "⚠️ " : css == "skipped" ? "⏭️ " : css == "none" ? "" : "✅ ";
            const std::string detail = matrix_detail_text(c);
            md += fmt::format(" {}{}{}{} |", mark, cell(matrix_count_text(c)), detail.empty() ? "" : " · ", detail.empty() ? "" : cell(detail));
        }
        md += "\n";
    }
    md += fmt::format("\n{}\n", matrix_legend());
}

}  // namespace

std::string render_markdown(const ReportData& d) {
    const Summary s = summarize(d);
    std::string md = fmt::format("# {}\n\n## {}\n\n", d.title, headline(s));
    md += fmt::format("{} result rows ({} accuracy, {} speed) from {} file{} · generated {} by aiaccel {}\n", d.rows.size(), s.accuracy_rows,
                      s.speed_rows, d.inputs.size(), d.inputs.size() == 1 ? "" : "s", d.generated_utc, version_of(d));
    md += "\nTables, images of the artifacts and charts: [index.html](index.html) (self-contained, opens offline).\n";
    if (d.rows.empty()) md += "\nThe inputs hold no result rows: nothing was validated or timed.\n";
    if (const auto m = accuracy_matrix(d); !m.stages.empty()) {
        md += "\n## Accuracy at a glance\n";
        matrix(md, m);
    }

    std::vector<const ReportRow*> failed;
    for (const auto& r : d.rows)
        if (r.row.verdict == Verdict::failed) failed.push_back(&r);
    if (!failed.empty()) {
        md += "\n## Failures\n\nEach FAILED row and the one command that reproduces it:\n\n";
        for (const auto* r : failed) {
            md += fmt::format("- **{}**\n", failure_line(r->row));
            if (!r->row.repro.empty())
                md += fmt::format("  ```sh\n  {}\n  ```\n", r->row.repro);
            else
                md += "  (this row carries no repro command)\n";
        }
    }

    if (auto tables = accuracy_tables(d); !tables.empty()) {
        md +=
            "\n## Accuracy\n\nmax|Δ|/max = max |result − reference| / max |reference|; rel L2 = ‖result − reference‖₂ / ‖reference‖₂ "
            "(finite pixels in both). \"vs\" is what the result was compared with; [N] after a bound is its reason, under the table.\n";
        for (const auto& t : tables) table(md, t);
    }
    if (auto tables = speed_tables(d); !tables.empty()) {
        md += "\n## Speed\n\n" + speed_legend() + "\n";
        for (const auto& t : tables) table(md, t);
    }

    if (!s.machines.empty()) {
        md += "\n## Machine\n\n";
        for (const auto& m : s.machines) md += "- " + m + "\n";
        if (s.machines.size() > 1) md += "\nRows come from more than one machine: speed ratios only compare rows from the same machine.\n";
    }
    if (auto notes = missing_artifact_notes(d); !notes.empty()) {
        md += "\n## Notes\n\n";
        for (const auto& n : notes) md += "- " + n + "\n";
    }
    md += "\n## Inputs\n\n";
    for (const auto& in : d.inputs) md += "- `" + in + "`\n";
    return md;
}

}  // namespace aiaccel::validate::report
