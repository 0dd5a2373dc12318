// aiaccel._core: the array-level Python binding (pybind11) over the same C++ stages the CLI runs.
// numpy in, numpy out; headers as mappings (sunpy MetaDict, dict or astropy Header). Inputs of any
// numeric dtype and byte order are converted to native float64 (no copy when they already are
// native, C-contiguous float64); the GIL is released while a stage computes; aiaccel::Error becomes
// a Python exception (ValueError, OSError, NotImplementedError, RuntimeError) with the CLI's message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "aiaccel_config.hpp"
#include "core/aia_image.hpp"
#include "core/backend.hpp"
#include "core/error.hpp"
#include "core/fits_header.hpp"
#include "fast/cpu/affine_transform_cpu.hpp"
#include "fast/cpu/cpu_backend.hpp"
#include "fast/common/full_disk.hpp"
#include "fast/common/parallel.hpp"
#include "fast/cpu/spline_prefilter_cpu.hpp"
#include "reference/calibrate_reference.hpp"
#include "reference/psf_reference.hpp"
#include "reference/reference_backend.hpp"
#include "reference/register_reference.hpp"
#include "reference/spline_reference.hpp"

namespace py = pybind11;
using namespace aiaccel;

namespace {

// How many inputs had to be converted (dtype, byte order, layout); tests read it to prove the
// native float64 path copies nothing.
std::atomic<long long> g_input_copies{0};

// Seconds the last stage call spent computing with the GIL released (the C++ work alone); the
// benchmark subtracts it from the Python call's wall time to measure the binding's overhead.
thread_local double g_last_compute_s = 0;

struct ComputeTimer {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    ~ComputeTimer() { g_last_compute_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

// Seconds the last stage call spent converting pixels (input dtype/byte order/layout to float64,
// float64 output to float32), GIL released: the binding's own work, reported apart from the stage.
thread_local double g_last_convert_s = 0;

struct ConvertTimer {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    explicit ConvertTimer(bool add = false) {
        if (!add) g_last_convert_s = 0;
    }
    ~ConvertTimer() { g_last_convert_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

// The backends this package is built with (no CUDA: the wheel is built with -Dcuda=disabled).
std::unique_ptr<Backend> make_backend(const std::string& name, const std::string& precision, int threads, StageOptions& so) {
    g_last_convert_s = 0;  // a new stage call
    auto p = parse_precision(precision);
    if (!p) throw Error(ErrorKind::usage, fmt::format("precision {}: expected f64 or f32", precision));
    if (threads < 0) throw Error(ErrorKind::usage, "threads must be >= 0 (0: all hardware threads)");
    std::unique_ptr<Backend> b;
    if (name == "reference")
        b = reference::make_backend();
    else if (name == "cpu")
        b = cpu::make_backend();
    else if (name == "cuda")
        throw Error(ErrorKind::usage, "backend cuda: not available here: the Python package is built without CUDA");
    else
        throw Error(ErrorKind::usage, fmt::format("unknown backend '{}' (known: reference, cpu)", name));
    if (!b->supports(*p)) throw Error(ErrorKind::usage, fmt::format("backend {} does not compute in {} (precision)", name, precision));
    so.precision = *p;
    so.threads = threads;
    return b;
}

// A 2-D numeric input array. Native C-contiguous float64 is used in place (no copy); other dtypes,
// byte orders (FITS data is big-endian) and layouts are converted to float64 by to_image() in C++,
// which runs with the GIL released; only dtypes it does not know (float16, long double) are
// converted by numpy here. Every conversion counts as a copy (g_input_copies).
struct Input {
    py::array arr;  // keeps the memory alive
    std::size_t rows = 0, cols = 0;
    const char* base = nullptr;
    py::ssize_t stride0 = 0, stride1 = 0;  // bytes
    char kind = 'f';  // numpy kind: f, i, u, b
    int itemsize = 8;
    bool swap = false;  // non-native byte order
    bool in_place = false;  // native, C-contiguous float64: borrowed as is
    PixelType ptype = PixelType::f64;  // the dtype astropy/sunpy would hold (register's output)
};

PixelType pixel_type(const py::dtype& dt);

Input as_input(const py::handle& obj, const char* what) {
    py::array arr = py::array::ensure(obj);
    if (!arr) throw Error(ErrorKind::bad_value, fmt::format("{}: expected a numeric 2-D array", what));
    if (arr.ndim() != 2) throw Error(ErrorKind::bad_value, fmt::format("{}: expected a 2-D array, got {}-D", what, arr.ndim()));
    py::dtype dt = arr.dtype();
    const char kind = dt.kind();
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
        throw Error(ErrorKind::bad_value, fmt::format("{}: expected a numeric array, got dtype {}", what, py::str(dt).cast<std::string>()));
    const int size = static_cast<int>(dt.itemsize());
    const bool known = kind == 'f' ? (size == 4 || size == 8) : (size == 1 || size == 2 || size == 4 || size == 8);
    if (!known) {
        auto native = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(arr);
        if (!native) throw Error(ErrorKind::bad_value, fmt::format("{}: cannot convert to float64", what));
        ++g_input_copies;
        arr = native;
    }
    Input in;
    in.ptype = pixel_type(dt);
    in.rows = static_cast<std::size_t>(arr.shape(0));
    in.cols = static_cast<std::size_t>(arr.shape(1));
    in.base = static_cast<const char*>(arr.data());
    in.stride0 = arr.strides(0);
    in.stride1 = arr.strides(1);
    in.kind = arr.dtype().kind();
    in.itemsize = static_cast<int>(arr.dtype().itemsize());
    const char order = arr.dtype().attr("byteorder").cast<std::string>()[0];
    in.swap = in.itemsize > 1 && order == (std::endian::native == std::endian::little ? '>' : '<');
    const bool contiguous =
        in.stride1 == static_cast<py::ssize_t>(sizeof(double)) && (in.rows <= 1 || in.stride0 == static_cast<py::ssize_t>(in.cols * sizeof(double)));
    in.in_place = in.kind == 'f' && in.itemsize == 8 && !in.swap && contiguous && reinterpret_cast<std::uintptr_t>(in.base) % alignof(double) == 0;
    in.arr = std::move(arr);
    return in;
}

template <class U>
U load(const char* p, bool swap) {
    U v;
    std::memcpy(&v, p, sizeof(U));
    if (swap) {
        if constexpr (sizeof(U) == 2)
            v = std::bit_cast<U>(__builtin_bswap16(std::bit_cast<std::uint16_t>(v)));
        else if constexpr (sizeof(U) == 4)
            v = std::bit_cast<U>(__builtin_bswap32(std::bit_cast<std::uint32_t>(v)));
        else if constexpr (sizeof(U) == 8)
            v = std::bit_cast<U>(__builtin_bswap64(std::bit_cast<std::uint64_t>(v)));
    }
    return v;
}

template <class U, bool Swap>
void convert_row_contiguous(const char* src, double* dst, std::size_t n) {
    for (std::size_t x = 0; x < n; ++x) dst[x] = static_cast<double>(load<U>(src + x * sizeof(U), Swap));
}

template <class U>
void convert_rows(const Input& in, Image<double>& out, std::size_t y0, std::size_t y1) {
    const bool contiguous = in.stride1 == static_cast<py::ssize_t>(sizeof(U));
    for (std::size_t y = y0; y < y1; ++y) {
        const char* src = in.base + static_cast<py::ssize_t>(y) * in.stride0;
        double* dst = out.row(y);
        if (contiguous && in.swap)
            convert_row_contiguous<U, true>(src, dst, in.cols);  // the FITS case: vectorised
        else if (contiguous)
            convert_row_contiguous<U, false>(src, dst, in.cols);
        else
            for (std::size_t x = 0; x < in.cols; ++x, src += in.stride1) dst[x] = static_cast<double>(load<U>(src, in.swap));
    }
}

// The input as float64 pixels (GIL released): a borrowed view when in place, else a converted copy
// (byte swap, dtype and layout in one pass, rows split over `threads`).
Image<double> to_image(const Input& in, int threads) {
    if (in.in_place) return Image<double>::borrow(reinterpret_cast<double*>(const_cast<char*>(in.base)), in.rows, in.cols);
    ++g_input_copies;
    Image<double> out(in.rows, in.cols);
    auto rows = [&](std::size_t y0, std::size_t y1, std::size_t) {
        switch (in.kind == 'f' ? 100 + in.itemsize : in.kind == 'u' || in.kind == 'b' ? 200 + in.itemsize : in.itemsize) {
            case 104: convert_rows<float>(in, out, y0, y1); break;
            case 108: convert_rows<double>(in, out, y0, y1); break;
            case 1: convert_rows<std::int8_t>(in, out, y0, y1); break;
            case 2: convert_rows<std::int16_t>(in, out, y0, y1); break;
            case 4: convert_rows<std::int32_t>(in, out, y0, y1); break;
            case 8: convert_rows<std::int64_t>(in, out, y0, y1); break;
            case 201: convert_rows<std::uint8_t>(in, out, y0, y1); break;
            case 202: convert_rows<std::uint16_t>(in, out, y0, y1); break;
            case 204: convert_rows<std::uint32_t>(in, out, y0, y1); break;
            default: convert_rows<std::uint64_t>(in, out, y0, y1); break;
        }
    };
    cpu::parallel_for(in.rows, cpu::resolve_threads(threads), rows);
    return out;
}

// The dtype astropy/sunpy would hold for this array (register rounds its output to it, as scipy).
PixelType pixel_type(const py::dtype& dt) {
    const char kind = dt.kind();
    const auto size = dt.itemsize();
    if (kind == 'f' && size == 4) return PixelType::f32;
    if (kind == 'i' && size == 2) return PixelType::i16;
    if (kind == 'i' && size == 4) return PixelType::i32;
    if (kind == 'u' && size == 1) return PixelType::u8;
    return PixelType::f64;
}

// Hands an Image to numpy without a copy: the array owns the Image through a capsule.
py::array_t<double> to_numpy(Image<double>&& img) {
    auto* owner = new Image<double>(std::move(img));
    py::capsule free_when_done(owner, [](void* p) { delete static_cast<Image<double>*>(p); });
    const auto rows = static_cast<py::ssize_t>(owner->rows()), cols = static_cast<py::ssize_t>(owner->cols());
    return py::array_t<double>({rows, cols}, {cols * static_cast<py::ssize_t>(sizeof(double)), static_cast<py::ssize_t>(sizeof(double))},
                               owner->data(), free_when_done);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// sunpy meta / dict / astropy Header → FITS cards. Structural keywords (NAXIS…, BITPIX) are the
// writer's business and skipped, as are values that are not bool/int/float/str.
FitsHeader to_fits_header(const py::handle& header) {
    FitsHeader h;
    py::object items = header.attr("items")();
    for (py::handle item : items) {
        auto kv = item.cast<py::tuple>();
        std::string key = upper(py::str(kv[0]).cast<std::string>());
        py::handle v = kv[1];
        if (key.empty() || key.size() > 8 || is_structural_keyword(key)) continue;
        if (key == "HISTORY" || key == "COMMENT") {
            std::string text = py::str(v).cast<std::string>();
            std::size_t start = 0;
            while (start <= text.size()) {
                std::size_t end = text.find('\n', start);
                if (end == std::string::npos) end = text.size();
                std::string line = text.substr(start, end - start);
                key == "HISTORY" ? h.add_history(line) : h.add_comment(line);
                start = end + 1;
            }
            continue;
        }
        if (py::isinstance<py::bool_>(v) || py::isinstance(v, py::module_::import("numpy").attr("bool_")))
            h.set_bool(key, v.cast<bool>());
        else if (py::isinstance<py::int_>(v) || py::isinstance(v, py::module_::import("numpy").attr("integer")))
            h.set_int(key, v.cast<long long>());
        else if (py::isinstance<py::float_>(v) || py::isinstance(v, py::module_::import("numpy").attr("floating")))
            h.set_double(key, v.cast<double>());
        else if (py::isinstance<py::str>(v))
            h.set_string(key, v.cast<std::string>());
    }
    return h;
}

// FITS cards → {lower-case key: value}, values typed as astropy reads them; HISTORY/COMMENT joined by
// newlines as sunpy's MetaDict holds them.
py::dict to_dict(const FitsHeader& h) {
    py::dict d;
    std::string history, comment;
    bool has_history = false, has_comment = false;
    for (const FitsCard& c : h.cards()) {
        if (c.key.empty()) continue;
        std::string key = c.key;
        for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (c.key == "HISTORY" || c.key == "COMMENT") {
            std::string text = c.raw.size() > 8 ? c.raw.substr(8) : "";
            while (!text.empty() && text.back() == ' ') text.pop_back();
            std::string& acc = c.key == "HISTORY" ? history : comment;
            bool& has = c.key == "HISTORY" ? has_history : has_comment;
            if (has) acc += '\n';
            acc += text;
            has = true;
            continue;
        }
        if (c.raw.size() < 10 || c.raw.compare(8, 2, "= ") != 0) continue;
        std::string value = c.raw.substr(10);
        std::size_t first = value.find_first_not_of(' ');
        if (first == std::string::npos) continue;
        if (value[first] == '\'') {
            d[py::str(key)] = py::str(h.get_string(c.key).value_or(""));
            continue;
        }
        auto text = h.get_text(c.key);
        if (!text) continue;
        std::string t = *text;
        if (t == "T" || t == "F")
            d[py::str(key)] = py::bool_(t == "T");
        else if (t.find_first_of(".EeDd") == std::string::npos && !t.empty()) {
            try {
                d[py::str(key)] = py::int_(std::stoll(t));
            } catch (const std::exception&) {
                if (auto v = h.get_double(c.key)) d[py::str(key)] = py::float_(*v);
            }
        } else if (auto v = h.get_double(c.key))
            d[py::str(key)] = py::float_(*v);
    }
    if (has_history) d["history"] = history;
    if (has_comment) d["comment"] = comment;
    return d;
}

// An AiaImage with the header converted and checked (GIL held). Its data has the input's shape but
// no pixels (enough for contains_full_disk); they are filled by to_image(in) with the GIL released.
AiaImage make_aia(const Input& in, const py::handle& header, const std::string& name) {
    AiaImage img{name, in.ptype, to_fits_header(header), Image<double>::borrow(nullptr, in.rows, in.cols)};
    (void)img.aia().channel();  // not_aia / missing_keyword naming the image
    return img;
}

py::array_t<double> psf(int channel, bool use_preflightcore, std::optional<std::vector<int>> diffraction_orders, const std::string& aiapy_version,
                        const std::string& backend, const std::string& precision, int threads) {
    StageOptions so;
    auto b = make_backend(backend, precision, threads, so);
    auto version = parse_aiapy_version(aiapy_version);
    if (!version) throw Error(ErrorKind::usage, fmt::format("aiapy_version {}: expected 0.10.2 or 0.12.1", aiapy_version));
    Image<double> out;
    {
        py::gil_scoped_release nogil;
        ComputeTimer timer;
        if (diffraction_orders) {
            // Only the reference computes other diffraction orders than aiapy's default −100…100.
            reference::PsfOptions po;
            po.use_preflight_core = use_preflightcore;
            po.diffraction_orders = std::move(diffraction_orders);
            po.version = *version;
            out = reference::psf(channel, po);
        } else {
            out = b->psf({.channel = channel, .use_preflight_core = use_preflightcore, .version = *version}, so);
        }
    }
    return to_numpy(std::move(out));
}

py::array_t<double> deconvolve(const py::handle& data, const py::handle& psf, int iterations, bool clip_negative, const std::string& backend,
                               const std::string& precision, int threads) {
    StageOptions so;
    auto b = make_backend(backend, precision, threads, so);
    const Input d = as_input(data, "data");
    const Input p = as_input(psf, "psf");
    Image<double> out;
    {
        py::gil_scoped_release nogil;
        Image<double> di, pi;
        {
            ConvertTimer convert;
            di = to_image(d, threads);
            pi = to_image(p, threads);
        }
        ComputeTimer timer;
        check_deconvolve_inputs(di, pi, iterations);
        out = b->deconvolve(di, pi, {.iterations = iterations, .clip_negative = clip_negative}, so);
    }
    return to_numpy(std::move(out));
}

// Returns (data, header dict, dtype name), data already in the dtype sunpy would hold when that is
// float32 or float64 (converted here, GIL released), else float64 for the caller to convert. With
// check_full_disk, an image without the full disk returns None (aiapy's ValueError is the caller's)
// before anything is computed; the stage's own check then finds it full disk (one projection per
// edge search, no pixel work).
py::object register_image(const py::handle& data, const py::handle& header, std::optional<double> missing, int order, bool full_frame,
                          const std::string& backend, const std::string& precision, int threads, const std::string& name, bool check_full_disk) {
    StageOptions so;
    auto b = make_backend(backend, precision, threads, so);
    if (order < 0 || order > 5) throw Error(ErrorKind::usage, fmt::format("order {}: expected a spline order 0-5", order));
    const Input in = as_input(data, name.c_str());
    AiaImage img = make_aia(in, header, name);
    AiaImage out;
    py::array result;
    {
        py::gil_scoped_release nogil;
        if (check_full_disk) {
            const bool full = backend == "reference" ? reference::contains_full_disk(img).full_disk : cpu::contains_full_disk_cpu(img).full_disk;
            if (!full) {
                py::gil_scoped_acquire gil;
                return py::none();
            }
        }
        {
            ConvertTimer convert;
            img.data = to_image(in, threads);
        }
        ComputeTimer timer;
        out = b->register_image(img, {.missing = missing, .order = order, .full_frame = full_frame}, so);
    }
    if (out.dtype == PixelType::f32) {
        py::array_t<float> f({static_cast<py::ssize_t>(out.data.rows()), static_cast<py::ssize_t>(out.data.cols())});
        float* dst = f.mutable_data();
        {
            py::gil_scoped_release nogil;
            ConvertTimer convert(true);
            const double* src = out.data.data();
            const std::size_t n = out.data.size();
            cpu::parallel_for(n, cpu::resolve_threads(threads), [&](std::size_t i0, std::size_t i1, std::size_t) {
                for (std::size_t i = i0; i < i1; ++i) dst[i] = static_cast<float>(src[i]);
            });
            out.data = Image<double>();
        }
        result = std::move(f);
    } else {
        result = to_numpy(std::move(out.data));
    }
    py::dict h = to_dict(out.header);
    return py::make_tuple(result, h, std::string(to_string(out.dtype)));
}

bool contains_full_disk(const py::handle& data, const py::handle& header, const std::string& backend, const std::string& name) {
    if (backend != "reference" && backend != "cpu") {
        StageOptions so;
        (void)make_backend(backend, "f64", 0, so);  // the same errors as the stages
    }
    // Only the header and the shape matter: the pixels are not converted.
    const Input in = as_input(data, name.c_str());
    const AiaImage img = make_aia(in, header, name);
    py::gil_scoped_release nogil;
    if (backend == "reference") return reference::contains_full_disk(img).full_disk;
    return cpu::contains_full_disk_cpu(img).full_disk;
}

AiapyVersion version_of(const std::string& aiapy_version) {
    auto version = parse_aiapy_version(aiapy_version);
    if (!version) throw Error(ErrorKind::usage, fmt::format("aiapy_version {}: expected 0.10.2 or 0.12.1", aiapy_version));
    return *version;
}

// aiapy update_pointing on the header (the data is not touched): the table is a local file (CSV of
// the master pointing table). Returns (header dict, [warnings in aiapy's words]).
py::tuple update_pointing(const py::handle& data, const py::handle& header, const std::string& pointing_table, const std::string& aiapy_version,
                          const std::string& name) {
    const AiapyVersion version = version_of(aiapy_version);
    const Input in = as_input(data, name.c_str());
    AiaImage img = make_aia(in, header, name);
    reference::PointingUpdate res;
    {
        py::gil_scoped_release nogil;
        img.data = to_image(in, 0);
        ComputeTimer timer;
        const reference::PointingTable table = reference::read_pointing_table(pointing_table);
        res = reference::update_pointing(img, table, version);
    }
    py::list warnings;
    for (const auto& w : res.warnings) warnings.append(py::str(w));
    return py::make_tuple(to_dict(img.header), warnings);
}

// aiapy correct_degradation (map / degradation(channel, date)) with the SSW response table from a local
// file. calibration_version is used with aiapy 0.12.1 semantics only. Returns (float64 data, header
// dict, factor).
py::tuple correct_degradation(const py::handle& data, const py::handle& header, const std::string& correction_table, const std::string& aiapy_version,
                              int calibration_version, const std::string& name) {
    const AiapyVersion version = version_of(aiapy_version);
    const Input in = as_input(data, name.c_str());
    AiaImage img = make_aia(in, header, name);
    double factor = 0;
    {
        py::gil_scoped_release nogil;
        img.data = to_image(in, 0);
        if (in.in_place) img.data = Image<double>(img.data);  // an owned copy: the input array stays unchanged
        ComputeTimer timer;
        const reference::ResponseTable table = reference::read_response_table(correction_table);
        factor = reference::correct_degradation(img, table, {.version = version, .calibration_version = calibration_version});
    }
    py::dict h = to_dict(img.header);
    return py::make_tuple(to_numpy(std::move(img.data)), h, factor);
}

// sunpy's rotation-function contract: scipy.ndimage.affine_transform(image.T, matrix, offset=shift,
// order, mode='constant', cval=missing).T, with the matrix and shift in image (x, y) order. Output
// values are rounded to the input's dtype as scipy stores them. cpu: order 3 on the fast kernels
// (prefilter + interpolation, the ones register runs); other orders and 'reference': the reference.
py::array_t<double> affine_transform(const py::handle& image, const py::handle& matrix, const py::handle& shift, int order, double missing,
                                     const std::string& backend, int threads) {
    StageOptions so;
    (void)make_backend(backend, "f64", threads, so);
    if (order < 0 || order > 5) throw Error(ErrorKind::usage, fmt::format("order {}: expected a spline order 0-5", order));
    auto m = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(matrix);
    auto s = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(shift);
    if (!m || m.size() != 4 || !s || s.size() != 2) throw Error(ErrorKind::usage, "matrix must be 2x2 and shift 2 values");
    const Input a = as_input(image, "image");
    const PixelType dtype = a.ptype;
    const double* mp = m.data();
    const double* sp = s.data();
    Image<double> out;
    {
        py::gil_scoped_release nogil;
        const Image<double> in = to_image(a, threads);
        if (backend == "cpu" && order == 3) {
            Image<double> coeff(in);
            bool all_finite = true;
            for (double v : coeff.pixels()) all_finite = all_finite && std::isfinite(v);
            const int t = cpu::resolve_threads(threads);
            cpu::spline_prefilter_order3_cpu(coeff.data(), coeff.rows(), coeff.cols(), all_finite, t);
            const cpu::AffineMap map{mp[0], mp[1], mp[2], mp[3], sp[0], sp[1], true};
            const cpu::SplineCoefficients<double> c{coeff.data(), coeff.rows(), coeff.cols()};
            out = Image<double>(in.rows(), in.cols());
            cpu::parallel_for(in.rows(), t, [&](std::size_t y0, std::size_t y1, std::size_t) {
                for (std::size_t y = y0; y < y1; ++y) {
                    double* row = out.row(y);
                    cpu::affine_order3_row_cpu(c, map, y, 0, in.cols(), missing, row);
                    for (std::size_t x = 0; x < in.cols(); ++x) row[x] = reference::store_as(row[x], dtype);
                }
            });
        } else {
            // Exactly sunpy's call: scipy on the transposed array (axis 0 = x), so that the prefilter's
            // axis order and the coordinate sums round as scipy's do.
            Image<double> t(in.cols(), in.rows());
            for (std::size_t y = 0; y < in.rows(); ++y)
                for (std::size_t x = 0; x < in.cols(); ++x) t(x, y) = in(y, x);
            const Matrix2 mm{{{mp[0], mp[1]}, {mp[2], mp[3]}}};
            reference::AffineOptions ao;
            ao.order = order;
            ao.cval = missing;
            ao.output = dtype;
            Image<double> r = reference::affine_transform(t, mm, {sp[0], sp[1]}, ao);
            out = Image<double>(in.rows(), in.cols());
            for (std::size_t y = 0; y < in.rows(); ++y)
                for (std::size_t x = 0; x < in.cols(); ++x) out(y, x) = r(x, y);
        }
    }
    return to_numpy(std::move(out));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "aiaccel's C++ stages (reference and cpu backends) on numpy arrays";
    m.attr("__version__") = AIACCEL_VERSION;
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Error& e) {
            switch (e.kind()) {
                case ErrorKind::unreadable:
                case ErrorKind::write_failed: PyErr_SetString(PyExc_OSError, e.what()); return;
                case ErrorKind::not_implemented: PyErr_SetString(PyExc_NotImplementedError, e.what()); return;
                case ErrorKind::internal: PyErr_SetString(PyExc_RuntimeError, e.what()); return;
                default: PyErr_SetString(PyExc_ValueError, e.what()); return;
            }
        }
    });
    m.def("psf", &psf, py::arg("channel"), py::kw_only(), py::arg("use_preflightcore") = false, py::arg("diffraction_orders") = py::none(),
          py::arg("aiapy_version") = "0.10.2", py::arg("backend") = "cpu", py::arg("precision") = "f64", py::arg("threads") = 0,
          "The 4096x4096 float64 PSF of an EUV channel (aiapy.psf.psf / calculate_psf).");
    m.def("deconvolve", &deconvolve, py::arg("data"), py::arg("psf"), py::kw_only(), py::arg("iterations") = 25, py::arg("clip_negative") = true,
          py::arg("backend") = "cpu", py::arg("precision") = "f64", py::arg("threads") = 0,
          "Richardson-Lucy deconvolution (aiapy.psf.deconvolve) of a 2-D array; returns float64.");
    m.def("register", &register_image, py::arg("data"), py::arg("header"), py::kw_only(), py::arg("missing") = py::none(), py::arg("order") = 3,
          py::arg("full_frame") = false, py::arg("backend") = "cpu", py::arg("precision") = "f64", py::arg("threads") = 0, py::arg("name") = "image",
          py::arg("check_full_disk") = false,
          "Level-1.5 registration (aiapy.calibrate.register); returns (data, header dict, dtype name), or None when\n"
          "check_full_disk is set and the image lacks the full disk. data is float32/float64 as the input's dtype\n"
          "(sunpy's), float64 for other dtypes.");
    m.def("contains_full_disk", &contains_full_disk, py::arg("data"), py::arg("header"), py::kw_only(), py::arg("backend") = "cpu",
          py::arg("name") = "image", "sunpy.map.maputils.contains_full_disk for an AIA image.");
    m.def("update_pointing", &update_pointing, py::arg("data"), py::arg("header"), py::kw_only(), py::arg("pointing_table"),
          py::arg("aiapy_version") = "0.10.2", py::arg("name") = "image",
          "aiapy.calibrate.update_pointing on a header from a master-pointing-table file; returns (header dict, warnings).");
    m.def("correct_degradation", &correct_degradation, py::arg("data"), py::arg("header"), py::kw_only(), py::arg("correction_table"),
          py::arg("aiapy_version") = "0.10.2", py::arg("calibration_version") = 10, py::arg("name") = "image",
          "aiapy.calibrate.correct_degradation from an SSW response-table file; returns (float64 data, header dict, factor).");
    m.def("affine_transform", &affine_transform, py::arg("image"), py::arg("matrix"), py::arg("shift"), py::kw_only(), py::arg("order") = 3,
          py::arg("missing") = 0.0, py::arg("backend") = "cpu", py::arg("threads") = 0,
          "sunpy's rotation-function contract (scipy.ndimage.affine_transform on image.T, mode 'constant').");
    m.def(
        "_last_compute_seconds", [] { return g_last_compute_s; }, "Seconds this thread's last stage call computed in C++ (GIL released).");
    m.def(
        "_last_convert_seconds", [] { return g_last_convert_s; },
        "Seconds this thread's last stage call spent converting pixels in C++ (GIL released).");
    m.def(
        "_input_copies", [] { return g_input_copies.load(); }, "Inputs converted so far (tests).");
}
