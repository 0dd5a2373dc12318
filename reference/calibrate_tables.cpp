// Readers for the two calibration tables aiapy.calibrate uses, as local text files:
//  * the master pointing table (aiapy 0.10.2 util.get_pointing_table / 0.12.1 utils.get_pointing_table:
//    astropy.io.ascii.read of a CSV, masked cells → NaN in the X0/Y0/IMSCALE/INSTROT columns);
//  * an SSW response table (0.10.2 util.get_correction_table / 0.12.1 utils.get_correction_table:
//    astropy.io.ascii.read, the DATE … EFF_WVLN columns kept).
// Numbers are read with std::from_chars (correctly rounded, as Python's float()). Time columns are
// checked here with both parsers (aia_time.hpp) so that a bad table fails when it is read, as in aiapy.
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "reference/calibrate_reference.hpp"

namespace aiaccel::reference {
namespace {

struct TextTable {
    std::vector<std::string> header;
    struct Line {
        std::vector<std::string> fields;
        std::size_t number;
    };
    std::vector<Line> lines;
};

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

std::vector<std::string> split_fields(const std::string& line, bool comma) {
    std::vector<std::string> out;
    if (comma) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t p = line.find(',', start);
            std::string f = trim(std::string_view(line).substr(start, p == std::string::npos ? std::string::npos : p - start));
            if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
            out.push_back(std::move(f));
            if (p == std::string::npos) break;
            start = p + 1;
        }
    } else {
        std::istringstream in(line);
        std::string f;
        while (in >> f) out.push_back(f);
    }
    return out;
}

// Header = first line that is neither blank nor a '#' comment; comma-separated if it holds a comma.
TextTable read_text_table(const std::string& path, const char* what) {
    std::ifstream in(path);
    if (!in) throw file_error(ErrorKind::unreadable, path, std::string("cannot open the ") + what);
    TextTable t;
    bool comma = false;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        const std::string s = trim(line);
        if (s.empty() || s.front() == '#') continue;
        if (t.header.empty()) {
            comma = s.find(',') != std::string::npos;
            t.header = split_fields(s, comma);
            continue;
        }
        auto fields = split_fields(s, comma);
        if (fields.size() != t.header.size())
            throw file_error(ErrorKind::bad_value, path + ":" + std::to_string(number),
                             std::to_string(fields.size()) + " fields, but the header names " + std::to_string(t.header.size()) + " columns");
        t.lines.push_back({std::move(fields), number});
    }
    if (in.bad()) throw file_error(ErrorKind::unreadable, path, std::string("read error in the ") + what);
    if (t.header.empty()) throw file_error(ErrorKind::bad_value, path, std::string("empty ") + what + " (no header line)");
    if (t.lines.empty()) throw file_error(ErrorKind::bad_value, path, std::string("the ") + what + " has no data rows");
    return t;
}

std::size_t require_column(const TextTable& t, const std::string& path, const std::string& name, const char* what) {
    for (std::size_t i = 0; i < t.header.size(); ++i)
        if (t.header[i] == name) return i;
    throw file_error(ErrorKind::bad_value, path, std::string("the ") + what + " has no column " + name);
}

// A number as astropy's ascii reader yields it; empty → NaN when `empty_is_nan`.
double parse_number(const std::string& s, bool empty_is_nan, const std::string& where, const std::string& column) {
    if (s.empty() && empty_is_nan) return std::numeric_limits<double>::quiet_NaN();
    double v = 0;
    const char* b = s.data();
    if (!s.empty() && s.front() == '+') ++b;
    const auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        throw file_error(ErrorKind::bad_value, where, "column " + column + ": '" + s + "' is not a number");
    return v;
}

void check_time(const std::string& text, const std::string& where, const std::string& column) {
    const std::string ctx = where + ": column " + column;
    (void)parse_utc(text, TimeParser::astropy, ctx);
    (void)parse_utc(text, TimeParser::sunpy, ctx);
}

bool is_pointing_value_column(const std::string& c) {
    // A_<digits>_{X0,Y0,IMSCALE,INSTROT}
    if (c.size() < 5 || c.compare(0, 2, "A_") != 0) return false;
    std::size_t i = 2;
    while (i < c.size() && c[i] >= '0' && c[i] <= '9') ++i;
    if (i == 2 || i >= c.size() || c[i] != '_') return false;
    const std::string q = c.substr(i + 1);
    return q == "X0" || q == "Y0" || q == "IMSCALE" || q == "INSTROT";
}

}  // namespace

int PointingTable::column(std::string_view name) const {
    for (std::size_t i = 0; i < value_columns.size(); ++i)
        if (value_columns[i] == name) return static_cast<int>(i);
    return -1;
}

PointingTable read_pointing_table(const std::string& path) {
    const TextTable t = read_text_table(path, "pointing table");
    const std::size_t c_start = require_column(t, path, "T_START", "pointing table");
    const std::size_t c_stop = require_column(t, path, "T_STOP", "pointing table");
    PointingTable out;
    out.path = path;
    std::vector<std::size_t> src;
    for (std::size_t i = 0; i < t.header.size(); ++i)
        if (is_pointing_value_column(t.header[i])) {
            out.value_columns.push_back(t.header[i]);
            src.push_back(i);
        }
    if (out.value_columns.empty())
        throw file_error(ErrorKind::bad_value, path, "the pointing table has no A_<channel>_X0/Y0/IMSCALE/INSTROT columns");
    for (const auto& l : t.lines) {
        const std::string where = path + ":" + std::to_string(l.number);
        PointingTable::Row r;
        r.t_start = l.fields[c_start];
        r.t_stop = l.fields[c_stop];
        check_time(r.t_start, where, "T_START");
        check_time(r.t_stop, where, "T_STOP");
        r.line = l.number;
        r.values.reserve(src.size());
        for (std::size_t k = 0; k < src.size(); ++k) r.values.push_back(parse_number(l.fields[src[k]], true, where, out.value_columns[k]));
        out.rows.push_back(std::move(r));
    }
    return out;
}

ResponseTable read_response_table(const std::string& path) {
    const char* what = "response table";
    const TextTable t = read_text_table(path, what);
    const auto col = [&](const char* name) { return require_column(t, path, name, what); };
    const std::size_t c_date = col("DATE"), c_ver = col("VER_NUM"), c_wave = col("WAVE_STR"), c_wl = col("WAVELNTH"), c_start = col("T_START"),
                      c_stop = col("T_STOP"), c_p1 = col("EFFA_P1"), c_p2 = col("EFFA_P2"), c_p3 = col("EFFA_P3"), c_area = col("EFF_AREA"),
                      c_wvln = col("EFF_WVLN");
    ResponseTable out;
    out.path = path;
    for (const auto& l : t.lines) {
        const std::string where = path + ":" + std::to_string(l.number);
        const auto num = [&](std::size_t c) { return parse_number(l.fields[c], false, where, t.header[c]); };
        ResponseTable::Row r;
        r.date = l.fields[c_date];
        r.wave_str = l.fields[c_wave];
        r.t_start = l.fields[c_start];
        r.t_stop = l.fields[c_stop];
        check_time(r.t_start, where, "T_START");
        check_time(r.t_stop, where, "T_STOP");
        r.ver_num = num(c_ver);
        r.wavelnth = num(c_wl);
        r.eff_area = num(c_area);
        r.eff_wvln = num(c_wvln);
        r.effa_p1 = num(c_p1);
        r.effa_p2 = num(c_p2);
        r.effa_p3 = num(c_p3);
        r.line = l.number;
        out.rows.push_back(std::move(r));
    }
    return out;
}

}  // namespace aiaccel::reference
