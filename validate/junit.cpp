// JUnit XML (see junit.hpp).
#include "validate/junit.hpp"

#include <fmt/format.h>

#include "validate/disk_metrics.hpp"
#include "validate/runner.hpp"

namespace aiaccel::validate {
namespace {

// XML 1.0 text: the five entities escaped; control characters other than tab/newline become spaces
// (XML 1.0 cannot carry them at all).
std::string esc(const std::string& s) {
    std::string o;
    o.reserve(s.size());
    for (char ch : s) {
        switch (ch) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&apos;"; break;
            default: o += (static_cast<unsigned char>(ch) < 0x20 && ch != '\n' && ch != '\t') ? ' ' : ch;
        }
    }
    return o;
}

// The solar-disk metrics of a row, "; flux_ratio 1.0000000000, limb_profile_error 3.1e-10, ...", or "".
std::string disk_text(const ResultRow& r) {
    std::string t;
    for (const char* name : kDiskMetricNames)
        for (const auto& [k, v] : r.extra)
            if (k == name)
                t += fmt::format("{}{} {}", t.empty() ? "; " : ", ", k, k == "flux_ratio" ? fmt::format("{:.10f}", v) : fmt::format("{:.3g}", v));
    return t;
}

}  // namespace

std::string junit_xml(const std::vector<ResultRow>& rows, const std::string& suite_name, double wall_s) {
    int failures = 0, skipped = 0;
    for (const auto& r : rows) {
        if (r.verdict == Verdict::failed || r.verdict == Verdict::mistrusted) ++failures;
        if (r.verdict == Verdict::skipped) ++skipped;
    }
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x += fmt::format("<testsuites name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\" time=\"{4:.3f}\">\n", esc(suite_name),
                     rows.size(), failures, skipped, wall_s);
    x += fmt::format("  <testsuite name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\" time=\"{4:.3f}\">\n", esc(suite_name),
                     rows.size(), failures, skipped, wall_s);
    for (const auto& r : rows) {
        x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", esc(r.stage + "." + r.backend + "." + r.precision),
                         esc(r.case_name + " vs " + r.against), r.verdict == Verdict::skipped ? 0.0 : r.time_s);
        std::string body;
        if (r.verdict == Verdict::failed || r.verdict == Verdict::mistrusted) {
            std::string text;
            for (const auto& n : r.notes) text += n + "\n";
            if (const std::string d = disk_text(r); !d.empty()) text += "solar disk: " + d.substr(2) + "\n";
            text += "repro: " + r.repro + "\n";
            for (const auto& a : r.artifacts) text += "dump: " + a + "\n";
            const std::string msg = std::string(to_string(r.verdict)) + ": " + (r.notes.empty() ? result_text(r) : r.notes.front());
            body = fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", esc(msg), to_string(r.verdict), esc(text));
        } else if (r.verdict == Verdict::skipped) {
            body = fmt::format("      <skipped message=\"{}\"/>\n", esc(r.skip_reason));
        } else {
            body = fmt::format("      <system-out>{}{}{}</system-out>\n", esc(result_text(r)), esc(disk_text(r)),
                               r.peak_rss_mib > 0 ? esc(fmt::format(" [{:.3f} s, {:.0f} MiB]", r.time_s, r.peak_rss_mib)) : "");
        }
        x += ">\n" + body + "    </testcase>\n";
    }
    x += "  </testsuite>\n</testsuites>\n";
    return x;
}

}  // namespace aiaccel::validate
