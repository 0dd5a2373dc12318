// `aiaccel report ROWS.json... -o OUTDIR [--title T]`: renders result rows from `aiaccel validate`
// and `aiaccel bench` to OUTDIR/report.json, summary.md and index.html (report/report.hpp).
#include <fmt/format.h>

#include "apps/commands.hpp"
#include "core/error.hpp"
#include "report/report.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::cli {

void add_report(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("report",
                                   "Render result rows (from `aiaccel validate` and `aiaccel bench`) to OUTDIR/report.json,\n"
                                   "summary.md and a self-contained index.html with tables, images and charts.\n"
                                   "The exit code says whether the report was written, not whether the rows passed.");
    struct Args {
        std::vector<std::string> inputs;
        std::string out, title;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("ROWS", a->inputs,
                    "JSON files: an array of result rows or {\"rows\": [...]}; artifact paths\n"
                    "in a file are relative to that file's folder")
        ->required();
    cmd->add_option("-o,--output", a->out, "Output folder (created when missing; existing report files are replaced)")->required();
    cmd->add_option("--title", a->title, "Report title")->default_val("aiaccel validation report");
    cmd->callback([a, &exit_code] {
        auto data = validate::report::load_rows(a->inputs);
        data.title = a->title;
        data.stage_order = validate::stage_names();  // pipeline order: the report itself links no harness
        auto paths = validate::report::write_report(data, a->out);
        fmt::print("{}\n", validate::report::headline(validate::report::summarize(data)));
        for (const auto& p : paths) fmt::print("wrote {}\n", p.string());
        exit_code = 0;
    });
}

}  // namespace aiaccel::cli
