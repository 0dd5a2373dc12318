// Writing the report folder: each file through a temporary file in the same folder, renamed into
// place, so an interrupted run never leaves a half-written report that looks complete.
#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>
#include <fstream>

#include "core/error.hpp"
#include "report/report.hpp"

namespace aiaccel::validate::report {
namespace fs = std::filesystem;

void write_file_atomic(const fs::path& path, std::string_view content) {
    const fs::path tmp = path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), ::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw file_error(ErrorKind::write_failed, path.string(), "cannot create a temporary file in the output folder");
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.close();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw file_error(ErrorKind::write_failed, path.string(), "write failed (disk full?)");
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw file_error(ErrorKind::write_failed, path.string(), "cannot rename the temporary file into place: " + ec.message());
    }
}

std::vector<fs::path> write_report(const ReportData& d, const fs::path& out_dir, const HtmlOptions& opt) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (!fs::is_directory(out_dir, ec)) throw file_error(ErrorKind::write_failed, out_dir.string(), "cannot create the output folder");
    // Render everything before replacing anything, so a rendering error leaves the old report whole.
    const std::string json = render_json(d, out_dir).dump(2) + "\n", md = render_markdown(d), html = render_html(d, opt);
    const std::vector<fs::path> paths = {out_dir / "report.json", out_dir / "summary.md", out_dir / "index.html"};
    write_file_atomic(paths[0], json);
    write_file_atomic(paths[1], md);
    write_file_atomic(paths[2], html);
    return paths;
}

}  // namespace aiaccel::validate::report
