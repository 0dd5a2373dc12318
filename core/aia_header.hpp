// AiaHeader: typed, checked access to the AIA keywords the stages read, on top of FitsHeader.
// Getters throw Error(missing_keyword) naming the file and keyword; optional_*() return nullopt.
// The WCS conventions follow sunpy's GenericMap/AIAMap (sunpy 7.0): rotation from PCi_j when
// present, else CDi_j / CDELTi, else from CROTA2 (with lam = CDELT2/CDELT1), scale from CDELT, reference
// pixel CRPIX (1-based). This is the one home of that rule and of the observer distance and solar radius
// for everything but reference/, which keeps its own port (docs/architecture.md §1).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/channels.hpp"
#include "core/fits_header.hpp"

namespace aiaccel {

using Matrix2 = std::array<std::array<double, 2>, 2>;  // [row][col]

class AiaHeader {
public:
    AiaHeader(FitsHeader& h, std::string path) : h_(&h), path_(std::move(path)) {}

    const std::string& path() const { return path_; }
    FitsHeader& fits() { return *h_; }
    const FitsHeader& fits() const { return *h_; }

    double require(const char* key) const;  // numeric keyword, or missing_keyword error
    std::string require_string(const char* key) const;
    std::optional<double> optional(const char* key) const { return h_->get_double(key); }

    bool is_aia() const;  // INSTRUME starts with "AIA" (sunpy AIAMap.is_datasource_for)
    Channel channel() const;  // WAVELNTH as a known channel, else not_aia error
    double wavelength() const { return require("WAVELNTH"); }
    double exptime() const { return require("EXPTIME"); }
    // DATE-OBS as written; Error(bad_value) unless it is an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss[.f][Z],
    // or a bare YYYY-MM-DD), since outputs are named after it.
    std::string date_obs() const;
    std::optional<std::string> t_obs() const { return h_->get_string("T_OBS"); }
    std::optional<double> level() const { return optional("LVL_NUM"); }
    double cdelt1() const { return require("CDELT1"); }
    double cdelt2() const { return require("CDELT2"); }
    double crpix1() const { return require("CRPIX1"); }
    double crpix2() const { return require("CRPIX2"); }
    double crval1() const { return optional("CRVAL1").value_or(0.0); }
    double crval2() const { return optional("CRVAL2").value_or(0.0); }
    std::string cunit1() const { return h_->get_string("CUNIT1").value_or("arcsec"); }
    std::string cunit2() const { return h_->get_string("CUNIT2").value_or("arcsec"); }
    bool has_pc() const { return h_->has("PC1_1"); }
    // sunpy GenericMap.rotation_matrix: PCi_j if any is present (missing ones from the identity), else
    // CDi_j divided row-wise by CDELTi, else from CROTA2 (0 when absent), in numpy's operation order.
    Matrix2 rotation_matrix() const;
    double rotation_deg() const;  // atan2 of the rotation matrix, degrees
    double rsun_obs() const;  // arcsec; RSUN_OBS
    std::optional<double> r_sun() const { return optional("R_SUN"); }
    std::optional<double> dsun_obs() const { return optional("DSUN_OBS"); }
    // Observer–Sun distance (m) as sunpy's AIAMap takes it: |HAEX/Y/Z_OBS|, else DSUN_OBS when the
    // observer's HGLN/HGLT or CRLN/CRLT are given; Error(missing_keyword) otherwise.
    double observer_distance_m() const;
    // sunpy GenericMap._rsun_meters: RSUN_REF, else sin(RSUN_OBS | SOLAR_R | RADIUS) · dsun, else 695 700 km.
    double rsun_meters(double dsun) const;

    // Pointing keys written by JSOC from the master pointing table (aiapy update_pointing reads/writes these).
    static constexpr std::array<const char*, 6> pointing_keys = {"X0_MP", "Y0_MP", "IMSCL_MP", "INSTROT", "INST_ROT", "SAT_ROT"};
    std::string pointing_keys_present() const;  // space-separated list of those present

    // Sun centre in 0-based pixel coordinates (x = column, y = row), linear WCS about CRPIX.
    std::array<double, 2> sun_centre_px() const;
    double sun_radius_px() const { return rsun_obs() / cdelt1(); }

private:
    FitsHeader* h_;
    std::string path_;
};

}  // namespace aiaccel
