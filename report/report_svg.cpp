// Inline SVG charts: log-y line chart, log-x bar chart, colour bar. Plain shapes and text, meant to be
// inlined in HTML5 (hence no xmlns attribute: the report contains no URL at all).
#include "report/report_svg.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "report/report_image.hpp"

namespace aiaccel::validate::report {
namespace {

// Categorical colours for series (dark enough for white backgrounds, distinct in hue).
constexpr const char* kPalette[] = {"#2f5fa7", "#c8552b", "#2e8b57", "#8a4fb0", "#a07800", "#c03070", "#3a8fa0", "#555555"};
constexpr const char* kFont = "font-family=\"system-ui, sans-serif\"";

// "10^k" as SVG text content with a raised exponent.
std::string decade_label(int k) { return fmt::format("10<tspan dy=\"-5\" font-size=\"9\">{}</tspan>", k); }

std::string hex(const std::array<std::uint8_t, 3>& c) { return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]); }

// Tick step 1, 2 or 5 × 10^k giving at most ~8 ticks over [lo, hi].
double nice_step(double lo, double hi) {
    const double raw = (hi - lo) / 8.0;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return 10 * p;
}

std::string svg_open(int w, int h, const std::string& title) {
    return fmt::format(
        "<svg width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
        "aria-label=\"{2}\" {3} font-size=\"12\">\n<title>{2}</title>\n"
        "<text x=\"{4}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">{2}</text>\n",
        w, h, xml_escape(title), kFont, w / 2);
}

}  // namespace

std::string xml_escape(std::string_view s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string svg_line_chart_log_y(const std::string& title, const std::string& x_label, const std::string& y_label,
                                 const std::vector<ChartSeries>& series) {
    double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
    std::size_t dropped = 0;
    for (const auto& s : series) {
        for (auto [x, y] : s.points) {
            xmin = std::min(xmin, x), xmax = std::max(xmax, x);
            if (y > 0 && std::isfinite(y))
                ymin = std::min(ymin, y), ymax = std::max(ymax, y);
            else
                ++dropped;
        }
        if (s.bound) ymin = std::min(ymin, *s.bound), ymax = std::max(ymax, *s.bound);
    }
    if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
    if (xmax == xmin) xmin -= 1, xmax += 1;
    if (!std::isfinite(ymin)) ymin = 1e-16, ymax = 1;
    int dlo = int(std::floor(std::log10(ymin))), dhi = int(std::ceil(std::log10(ymax)));
    if (dhi <= dlo) dhi = dlo + 1;

    const int W = 760, left = 70, right = 30, top = 36, plot_h = 300, plot_w = W - left - right;
    const int legend_top = top + plot_h + 48, H = legend_top + 18 * int(series.size()) + (dropped ? 22 : 6);
    auto X = [&](double x) { return left + (x - xmin) / (xmax - xmin) * plot_w; };
    auto Y = [&](double y) { return top + plot_h - (std::log10(y) - dlo) / double(dhi - dlo) * plot_h; };

    std::string s = svg_open(W, H, title);
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#999\"/>\n", left, top, plot_w, plot_h);
    for (int k = dlo; k <= dhi; ++k) {
        double y = Y(std::pow(10.0, k));
        s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", left, y, left + plot_w, y);
        s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n", left - 6, y, decade_label(k));
    }
    const double step = nice_step(xmin, xmax);
    for (double t = std::ceil(xmin / step) * step; t <= xmax + 1e-9 * step; t += step) {
        s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#999\"/>\n", X(t), top + plot_h, top + plot_h + 5);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(t), top + plot_h + 18, fmt::format("{:g}", t));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2, top + plot_h + 36, xml_escape(x_label));
    s += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n", top + plot_h / 2, xml_escape(y_label));
    for (std::size_t i = 0; i < series.size(); ++i) {
        const auto& se = series[i];
        const char* col = kPalette[i % std::size(kPalette)];
        std::string pts;
        for (auto [x, y] : se.points)
            if (y > 0 && std::isfinite(y)) pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
        s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", pts, col);
        for (auto [x, y] : se.points)
            if (y > 0 && std::isfinite(y))
                s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"><title>{}: {:g} iterations, {:.3e}</title></circle>\n",
                                 X(x), Y(y), col, xml_escape(se.name), x, y);
        if (se.bound)
            s += fmt::format(
                "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-dasharray=\"6 4\"/>"
                "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"{}\">bound {:.1e}</text>\n",
                left, Y(*se.bound), left + plot_w, Y(*se.bound), col, left + plot_w - 4, Y(*se.bound) + 13, col, *se.bound);
        const int ly = legend_top + 18 * int(i);
        s += fmt::format(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\" "
            "dominant-baseline=\"middle\">{}</text>\n",
            left, ly, left + 24, ly, col, left + 32, ly, xml_escape(se.name));
    }
    if (dropped)
        s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#666\">{} point(s) with zero error not drawn (log axis)</text>\n", left,
                         legend_top + 18 * int(series.size()) + 4, dropped);
    return s + "</svg>\n";
}

std::string svg_bar_chart_log_x(const std::string& title, const std::string& x_label, const std::vector<Bar>& bars, int width, int label_width) {
    double vmin = 1, vmax = 1;
    for (const auto& b : bars)
        if (b.value > 0 && std::isfinite(b.value)) vmin = std::min(vmin, b.value), vmax = std::max(vmax, b.value);
    int dlo = int(std::floor(std::log10(vmin))), dhi = int(std::ceil(std::log10(vmax)));
    if (dhi <= dlo) dhi = dlo + 1;
    const int W = width, left = label_width, right = 70, top = 36, bar_h = 20, gap = 8;
    const int plot_w = W - left - right, plot_h = int(bars.size()) * (bar_h + gap) + gap, H = top + plot_h + 50;
    auto X = [&](double v) { return left + (std::log10(v) - dlo) / double(dhi - dlo) * plot_w; };

    std::string s = svg_open(W, H, title);
    for (int k = dlo; k <= dhi; ++k) {
        double x = X(std::pow(10.0, k));
        s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n", x, top, top + plot_h);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x, top + plot_h + 18,
                         k >= -3 && k <= 4 ? fmt::format("{:g}×", std::pow(10.0, k)) : decade_label(k));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2, top + plot_h + 38, xml_escape(x_label));
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const auto& b = bars[i];
        const int y = top + gap + int(i) * (bar_h + gap);
        const double v = std::clamp(b.value, std::pow(10.0, dlo), std::pow(10.0, dhi));
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n", left - 8, y + bar_h / 2,
                         xml_escape(b.label));
        s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"><title>{}: {:.3g}×{}</title></rect>\n", left, y,
                         std::max(1.0, X(v) - left), bar_h,
                         !b.colour.empty()  ? b.colour
                             : b.value >= 1 ? "#2f5fa7"
                                            : "#c8552b",
                         xml_escape(b.label), b.value, b.tooltip.empty() ? "" : " · " + xml_escape(b.tooltip));
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" dominant-baseline=\"middle\">{}</text>\n", X(v) + 4, y + bar_h / 2,
                         b.value >= 100     ? fmt::format("{:.0f}×", b.value)
                             : b.value >= 1 ? fmt::format("{:.1f}×", b.value)
                                            : fmt::format("{:.2g}×", b.value));
    }
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>\n", X(1), top - 4,
                     top + plot_h);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#999\"/>\n", left, top, top + plot_h);
    return s + "</svg>\n";
}

std::string svg_colour_bar(double vmin, double vmax, const std::string& label) {
    const int W = 300, left = 10, bar_w = 280, bar_h = 14, top = 4, H = 50, n = 64;
    std::string s = fmt::format(
        "<svg width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" {2} "
        "font-size=\"11\" role=\"img\" aria-label=\"{3}\">\n",
        W, H, kFont, xml_escape(label));
    for (int i = 0; i < n; ++i)
        s += fmt::format("<rect x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\" shape-rendering=\"crispEdges\"/>",
                         left + i * bar_w / double(n), top, bar_w / double(n) + 0.6, bar_h, hex(colormap((i + 0.5) / n)));
    s += fmt::format("\n<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#666\"/>\n", left, top, bar_w, bar_h);
    const double span = vmax - vmin;
    const int step = span > 8 ? 2 : 1;
    for (int k = int(std::ceil(vmin)); k <= int(std::floor(vmax)); ++k) {
        if (k % step) continue;
        const double x = left + (k - vmin) / span * bar_w;
        s += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#333\"/>"
            "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            x, top + bar_h, top + bar_h + 4, top + bar_h + 15, k);
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n</svg>\n", left + bar_w / 2, H - 4, xml_escape(label));
    return s;
}

}  // namespace aiaccel::validate::report
