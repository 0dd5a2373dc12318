// report.json: every row of every input, merged in input order, plus a summary block.
#include <fmt/format.h>

#include "report/report.hpp"

namespace aiaccel::validate::report {
namespace fs = std::filesystem;

nlohmann::ordered_json render_json(const ReportData& d, const fs::path& out_dir) {
    const Summary s = summarize(d);
    nlohmann::ordered_json verdicts;
    for (auto v : {Verdict::passed, Verdict::mistrusted, Verdict::failed, Verdict::skipped}) verdicts[std::string(to_string(v))] = s.count(v);
    nlohmann::ordered_json summary = {{"headline", headline(s)},          {"total", d.rows.size()},           {"verdicts", verdicts},
                                      {"accuracy_rows", s.accuracy_rows}, {"speed_rows", s.speed_rows},       {"machines", s.machines},
                                      {"generated_utc", d.generated_utc}, {"aiaccel_version", version_of(d)}, {"inputs", d.inputs}};
    const fs::path out_abs = fs::absolute(out_dir).lexically_normal();
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& r : d.rows) {
        ResultRow row = r.row;
        for (auto& a : row.artifacts) {
            fs::path rel = artifact_path(r, a).lexically_normal().lexically_relative(out_abs);
            a = rel.empty() ? artifact_path(r, a).string() : rel.generic_string();
        }
        rows.push_back(nlohmann::ordered_json(to_json(row)));
    }
    return {{"title", d.title}, {"summary", summary}, {"rows", rows}};
}

}  // namespace aiaccel::validate::report
