// `aiaccel report`: renders merged result rows (report/report_model.hpp) to report.json (rows +
// summary), summary.md (what a person reads first) and index.html (self-contained: tables, images
// of the artifacts, charts), each written through a temporary file renamed into place.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/report_model.hpp"

namespace aiaccel::validate::report {

// {"title", "summary": {headline, verdicts, counts, machines, generated_utc, aiaccel_version, inputs},
//  "rows": [...]}; rows in input order, artifact paths rewritten relative to out_dir so that the
// file can itself be given to `aiaccel report` again.
nlohmann::ordered_json render_json(const ReportData& d, const std::filesystem::path& out_dir);

std::string render_markdown(const ReportData& d);

struct HtmlOptions {
    std::size_t max_image_side = 512;  // artifact pictures are downsampled to at most this many pixels
};
std::string render_html(const ReportData& d, const HtmlOptions& opt = {});

// Writes report.json, summary.md and index.html into out_dir (created when missing); returns their paths.
// Throws aiaccel::Error(write_failed) naming the file when one cannot be written.
std::vector<std::filesystem::path> write_report(const ReportData& d, const std::filesystem::path& out_dir, const HtmlOptions& opt = {});
// Writes `content` to a temporary file next to `path` and renames it into place.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace aiaccel::validate::report
