// `aiaccel info FILE...`: what a solar physicist checks first about an AIA file.
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/commands.hpp"
#include "core/aia_image.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"

namespace aiaccel::cli {
namespace {

std::string kind_text(ChannelKind k) { return k == ChannelKind::euv ? "EUV" : k == ChannelKind::uv ? "UV" : "visible"; }

nlohmann::json describe(const std::string& path, bool verify) {
    // info shows a checksum mismatch (and warns) instead of refusing the file; exit code stays 0.
    FitsImage f = read_fits(path, {.verify_checksum = verify, .refuse_mismatch = false});
    const std::string datasum(to_string(f.datasum)), checksum(to_string(f.checksum)), detail = f.checksum_detail;
    AiaImage img{path, f.dtype, std::move(f.header), std::move(f.data)};
    AiaHeader h = img.aia();
    Channel ch = h.channel();
    PixelStats s = pixel_stats(img.data);
    auto centre = h.sun_centre_px();
    nlohmann::json j;
    j["file"] = path;
    j["channel"] = ch.wavelength;
    j["channel_kind"] = kind_text(ch.kind);
    j["date_obs"] = h.date_obs();
    j["t_obs"] = h.t_obs().value_or("");
    j["level"] = h.level() ? nlohmann::json(*h.level()) : nlohmann::json();
    j["rows"] = img.data.rows();
    j["cols"] = img.data.cols();
    j["dtype"] = std::string(to_string(img.dtype));
    j["hdu"] = f.hdu;
    j["compressed"] = f.compressed;
    j["exptime_s"] = h.exptime();
    j["cdelt_arcsec"] = {h.cdelt1(), h.cdelt2()};
    j["rotation_deg"] = h.rotation_deg();
    j["rotation_from"] = h.has_pc() ? "PCi_j" : "CROTA2";
    j["sun_centre_px"] = {centre[0], centre[1]};
    j["sun_radius_px"] = h.sun_radius_px();
    j["pointing_keys"] = h.pointing_keys_present();
    j["min"] = s.min;
    j["max"] = s.max;
    j["mean"] = s.mean;
    j["nan_count"] = s.nan_count;
    j["datasum"] = datasum;
    j["checksum"] = checksum;
    if (!detail.empty()) j["checksum_detail"] = detail;
    return j;
}

void print_text(const nlohmann::json& j) {
    fmt::print("{}\n", j["file"].get<std::string>());
    fmt::print("  channel     {} Å ({})\n", j["channel"].get<int>(), j["channel_kind"].get<std::string>());
    fmt::print("  date        DATE-OBS {}{}\n", j["date_obs"].get<std::string>(),
               j["t_obs"].get<std::string>().empty() ? "" : "  T_OBS " + j["t_obs"].get<std::string>());
    fmt::print("  level       {}\n", j["level"].is_null() ? std::string("(no LVL_NUM)") : fmt::format("{}", j["level"].get<double>()));
    fmt::print("  size        {} x {} px (cols x rows), {}, HDU {}{}\n", j["cols"].get<std::size_t>(), j["rows"].get<std::size_t>(),
               j["dtype"].get<std::string>(), j["hdu"].get<int>(), j["compressed"].get<bool>() ? ", tile-compressed" : "");
    fmt::print("  exposure    {:.6f} s\n", j["exptime_s"].get<double>());
    fmt::print("  scale       {:.6f} x {:.6f} arcsec/px\n", j["cdelt_arcsec"][0].get<double>(), j["cdelt_arcsec"][1].get<double>());
    fmt::print("  rotation    {:.6f} deg (from {})\n", j["rotation_deg"].get<double>(), j["rotation_from"].get<std::string>());
    fmt::print("  sun         centre x {:.3f}, y {:.3f} px (0-based), radius {:.2f} px\n", j["sun_centre_px"][0].get<double>(),
               j["sun_centre_px"][1].get<double>(), j["sun_radius_px"].get<double>());
    std::string pk = j["pointing_keys"].get<std::string>();
    fmt::print("  pointing    {}\n", pk.empty() ? "(no master-pointing keywords)" : pk);
    fmt::print("  pixels      min {:.6g}  max {:.6g}  mean {:.6g}  NaN {}\n", j["min"].get<double>(), j["max"].get<double>(), j["mean"].get<double>(),
               j["nan_count"].get<std::size_t>());
    fmt::print("  checksums   DATASUM {}, CHECKSUM {}{}\n", j["datasum"].get<std::string>(), j["checksum"].get<std::string>(),
               j.contains("checksum_detail") ? " (" + j["checksum_detail"].get<std::string>() + ")" : "");
}

}  // namespace

void add_info(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("info",
                                   "Describe AIA FITS files: channel, date, level, size, exposure,\n"
                                   "plate scale, roll, Sun centre and radius, pointing keywords, pixel statistics.");
    auto files = std::make_shared<std::vector<std::string>>();
    auto json = std::make_shared<bool>(false);
    auto no_verify = std::make_shared<bool>(false);
    cmd->add_option("FILE", *files, "AIA FITS files (level 1 or 1.5; RICE-compressed or plain)")->required();
    cmd->add_flag("--json", *json, "Print one JSON object per file (one per line) instead of text");
    cmd->add_flag("--no-verify-checksum", *no_verify, "Do not compute DATASUM/CHECKSUM (shown as 'not checked')");
    cmd->callback([files, json, no_verify, &exit_code] {
        for (const auto& path : *files) {
            try {
                auto j = describe(path, !*no_verify);
                if (j.contains("checksum_detail"))
                    fmt::print(stderr, "aiaccel info: {}: warning: checksum mismatch, the file is corrupt: {}\n", path,
                               j["checksum_detail"].get<std::string>());
                if (*json)
                    fmt::print("{}\n", j.dump());
                else
                    print_text(j);
            } catch (const Error& e) {
                fmt::print(stderr, "aiaccel info: {}\n", escape_control(e.what()));
                exit_code = std::max(exit_code, e.exit_code());
            }
        }
    });
}

}  // namespace aiaccel::cli
