// The HTML figures for one row's artifacts: input / reference output / backend output in grey
// (asinh stretch) and a log10 |Δ| map with its colour bar; a note instead of a figure for every
// artifact that is missing or unreadable, so a report is always produced.
#pragma once

#include <string>

#include "report/report_model.hpp"

namespace aiaccel::validate::report {

struct ArtifactFigures {
    std::string html;  // a <div class="figures"> ... </div> block (may hold only notes)
    std::size_t notes = 0;  // how many artifacts could not be shown
};
ArtifactFigures artifact_figures(const ReportRow& r, std::size_t max_side);

}  // namespace aiaccel::validate::report
