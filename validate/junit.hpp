// JUnit XML of validate's rows (`aiaccel validate --junit FILE`), for CI systems that show test results:
// one <testcase> per row (classname "stage.backend.precision", name "case vs against"), FAILED and
// MISTRUSTED rows as <failure> with the notes and the repro line, SKIPPED rows as <skipped>.
#pragma once

#include <string>
#include <vector>

#include "validate/result_row.hpp"

namespace aiaccel::validate {

std::string junit_xml(const std::vector<ResultRow>& rows, const std::string& suite_name, double wall_s);

}  // namespace aiaccel::validate
