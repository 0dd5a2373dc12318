// Small, dependency-free SVG charts for the HTML report: a line chart with a log y axis (error vs
// RL iteration), a horizontal bar chart with a log x axis (speedups) and a colour bar for the
// difference maps. Output is an inline <svg> element: no scripts, no external references.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace aiaccel::validate::report {

struct ChartSeries {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y), sorted by x
    std::optional<double> bound;  // drawn as a dashed line in the series colour
};

// y values <= 0 cannot be drawn on a log axis: they are left out and counted in a note.
std::string svg_line_chart_log_y(const std::string& title, const std::string& x_label, const std::string& y_label,
                                 const std::vector<ChartSeries>& series);

struct Bar {
    std::string label;
    double value = 0;  // > 0; a ratio where 1 means "as fast as the baseline"
    std::string colour;  // fill; empty: blue at or above 1, orange below
    std::string tooltip;  // extra text for the bar's <title>; empty: none
};
// width: of the whole chart; label_width: of the label column left of the bars.
std::string svg_bar_chart_log_x(const std::string& title, const std::string& x_label, const std::vector<Bar>& bars, int width = 760,
                                int label_width = 280);

// A horizontal colour bar for the report colormap spanning [vmin, vmax], ticks at integers.
std::string svg_colour_bar(double vmin, double vmax, const std::string& label);

// Text escaped for XML/HTML content and attribute values.
std::string xml_escape(std::string_view s);

}  // namespace aiaccel::validate::report
