// Artifact figures: FITS dumps read with core/fits_io, rendered by report_image, embedded as PNG.
#include "report/report_artifacts.hpp"

#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <optional>

#include "core/error.hpp"
#include "core/fits_io.hpp"
#include "report/report_image.hpp"
#include "report/report_svg.hpp"

namespace aiaccel::validate::report {
namespace fs = std::filesystem;
namespace {

struct Loaded {
    std::string name;
    std::optional<Image<double>> data;
};

std::string figure(const std::string& uri, const std::string& title, const std::string& caption, const std::string& extra = {}) {
    return fmt::format("<figure><figcaption class=\"role\">{}</figcaption><img src=\"{}\" alt=\"{}\">{}<figcaption>{}</figcaption></figure>\n",
                       xml_escape(title), uri, xml_escape(title), extra, caption);
}

std::string grey_caption(const Loaded& l, const Image<double>& small, const Stretch& s) {
    return fmt::format("<code>{}</code><br>{}×{} px{} · asinh stretch, black {} → white {}", xml_escape(l.name), l.data->cols(), l.data->rows(),
                       small.cols() == l.data->cols() ? "" : fmt::format(", shown at {}×{}", small.cols(), small.rows()), sci(s.lo), sci(s.hi));
}

}  // namespace

ArtifactFigures artifact_figures(const ReportRow& r, std::size_t max_side) {
    ArtifactFigures out;
    std::string figs, notes;
    auto note = [&](const std::string& text) {
        notes += "<p class=\"note\">⚠ " + xml_escape(text) + "</p>\n";
        ++out.notes;
    };
    Loaded by_role[4];  // input, reference, output, difference
    std::vector<std::string> pngs, others;
    for (const auto& a : r.row.artifacts) {
        const fs::path p = artifact_path(r, a);
        std::error_code ec;
        if (!fs::is_regular_file(p, ec)) {
            note(fmt::format("artifact {} not found (looked for {})", a, p.string()));
            continue;
        }
        const ArtifactRole role = artifact_role(a);
        if (role == ArtifactRole::png) {
            std::ifstream in(p, std::ios::binary);
            std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (bytes.size() < 8 || bytes[0] != 0x89 || bytes[1] != 'P')
                note(fmt::format("artifact {} is not a PNG file", a));
            else
                figs += figure(png_data_uri(bytes), "image", "<code>" + xml_escape(a) + "</code>");
            continue;
        }
        if (role == ArtifactRole::other) {
            others.push_back(a);
            continue;
        }
        Loaded& slot = by_role[static_cast<int>(role)];
        if (slot.data) {
            others.push_back(a);
            continue;
        }
        try {
            slot = {a, read_fits(p.string()).data};
        } catch (const Error& e) { note(fmt::format("artifact {} could not be read: {}", a, e.what())); }
    }
    Loaded& input = by_role[0];
    Loaded& ref = by_role[1];
    Loaded& output = by_role[2];
    Loaded& diff = by_role[3];

    if (input.data) {
        Image<double> small = downsample_mean(*input.data, max_side);
        Stretch s = percentile_stretch(small);
        figs += figure(png_data_uri(render_grey(small, s)), "input", grey_caption(input, small, s));
    }
    // Reference and backend output share the reference's stretch so that equal pixels look equal.
    std::optional<Stretch> shared;
    for (Loaded* l : {&ref, &output}) {
        if (!l->data) continue;
        Image<double> small = downsample_mean(*l->data, max_side);
        if (!shared) shared = percentile_stretch(small);
        figs += figure(png_data_uri(render_grey(small, *shared)), l == &ref ? "reference output" : "backend output (" + r.row.backend + ")",
                       grey_caption(*l, small, *shared));
    }

    std::optional<Image<double>> absdiff;
    std::string what, source;
    const double scale = ref.data ? max_abs_finite(*ref.data) : 0;
    if (ref.data && output.data) {
        try {
            absdiff = abs_difference(*output.data, *ref.data);
            source = "backend output − reference output";
        } catch (const Error& e) { note(fmt::format("{} vs {}: {}", output.name, ref.name, e.what())); }
    }
    if (!absdiff && diff.data) {
        absdiff = Image<double>(diff.data->rows(), diff.data->cols());
        for (std::size_t i = 0; i < diff.data->size(); ++i) absdiff->data()[i] = std::fabs(diff.data->data()[i]);
        source = "<code>" + xml_escape(diff.name) + "</code>";
    }
    if (absdiff) {
        const bool relative = scale > 0;
        DiffMap m = render_log_difference(*absdiff, relative ? scale : 1.0, max_side);
        const std::string label = relative ? "log10( |Δ| / max|reference| )" : "log10 |Δ|";
        std::string cap = fmt::format("{}<br>", source);
        if (m.all_zero)
            cap += "no pixel differs (every compared pixel bit-identical)";
        else
            cap += fmt::format("max {0} = {1} · block maximum shown, so single pixels stay visible · {0} &lt; 1e{2:.0f} (incl. 0): bottom colour",
                               relative ? "|Δ|/max|ref|" : "|Δ|", sci(m.max_value), m.vmin);
        if (m.nan_mismatch) cap += fmt::format(" · <span class=\"mismatch\">red: {} NaN mismatches</span>", m.nan_mismatch);
        cap += " · grey: NaN in both";
        figs += figure(png_data_uri(m.raster), "difference map", cap, svg_colour_bar(m.vmin, m.vmax, label));
    } else if (ref.data || output.data) {
        note("no difference map: it needs both a reference and a backend output artifact of the same shape, or a diff artifact");
    }
    for (const auto& o : others) notes += "<p class=\"note\">other artifact: <code>" + xml_escape(o) + "</code></p>\n";
    out.html = "<div class=\"figures\">\n" + figs + "</div>\n" + notes;
    return out;
}

}  // namespace aiaccel::validate::report
