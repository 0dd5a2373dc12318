// Intel oneMKL DFTI behind the FFT provider seam (see mkl_cpu.hpp). Layouts match FFTW's: a real row
// of cols values ↔ cols/2+1 complex (CCE storage, DFTI_COMPLEX_COMPLEX), rows packed without padding;
// no scaling either way (DFTI's default scales are 1), so the c2r is unnormalised as FFTW's.
#include "fast/cpu/mkl_cpu.hpp"

#include <mkl_dfti.h>
#include <mkl_service.h>

#include <fmt/format.h>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace aiaccel::cpu {
namespace {

using Long = MKL_LONG;  // a macro (long int): no functional casts through it

void check(MKL_LONG status, const char* what) {
    if (status != 0 && !DftiErrorClass(status, DFTI_NO_ERROR))
        throw Error(ErrorKind::internal, fmt::format("cpu: MKL DFTI {}: {}", what, DftiErrorMessage(status)));
}

// One committed DFTI descriptor.
class Descriptor {
public:
    template <class... Setup>
    Descriptor(DFTI_CONFIG_VALUE precision, DFTI_CONFIG_VALUE domain, std::initializer_list<MKL_LONG> lengths, int threads, Setup&&... setup) {
        const MKL_LONG n = Long(lengths.size());
        check(n == 1 ? DftiCreateDescriptor(&h_, precision, domain, 1, *lengths.begin())
                     : DftiCreateDescriptor(&h_, precision, domain, n, const_cast<MKL_LONG*>(lengths.begin())),
              "create");
        check(DftiSetValue(h_, DFTI_THREAD_LIMIT, Long(threads)), "thread limit");
        (setup(h_), ...);
        check(DftiCommitDescriptor(h_), "commit");
    }
    ~Descriptor() { DftiFreeDescriptor(&h_); }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    DFTI_DESCRIPTOR_HANDLE get() const { return h_; }

private:
    DFTI_DESCRIPTOR_HANDLE h_ = nullptr;
};

template <class T>
constexpr DFTI_CONFIG_VALUE kPrecision = sizeof(T) == 8 ? DFTI_DOUBLE : DFTI_SINGLE;

// Real ↔ CCE, out of place, with the given input and output strides (row-major, first entry the offset).
auto real_layout(std::vector<MKL_LONG> in, std::vector<MKL_LONG> out) {
    return [in = std::move(in), out = std::move(out)](DFTI_DESCRIPTOR_HANDLE h) {
        check(DftiSetValue(h, DFTI_PLACEMENT, DFTI_NOT_INPLACE), "placement");
        check(DftiSetValue(h, DFTI_CONJUGATE_EVEN_STORAGE, DFTI_COMPLEX_COMPLEX), "storage");
        check(DftiSetValue(h, DFTI_INPUT_STRIDES, in.data()), "input strides");
        check(DftiSetValue(h, DFTI_OUTPUT_STRIDES, out.data()), "output strides");
    };
}

template <class T>
class MklRealFft final : public RealFft<T> {
public:
    MklRealFft(std::size_t rows, std::size_t cols, int threads)
        : RealFft<T>(rows, cols, threads),
          fwd_(kPrecision<T>, DFTI_REAL, {Long(rows), Long(cols)}, threads, real_layout({0, Long(cols), 1}, {0, Long(this->half_cols()), 1})),
          inv_(kPrecision<T>, DFTI_REAL, {Long(rows), Long(cols)}, threads, real_layout({0, Long(this->half_cols()), 1}, {0, Long(cols), 1})) {}
    void forward(T* in, std::complex<T>* out) const override { check(DftiComputeForward(fwd_.get(), in, out), "r2c"); }
    void inverse(std::complex<T>* in, T* out) const override { check(DftiComputeBackward(inv_.get(), in, out), "c2r"); }

private:
    Descriptor fwd_, inv_;
};

template <class T>
class MklSplitFft final : public SplitFft<T> {
public:
    MklSplitFft(std::size_t rows, std::size_t cols, std::size_t block)
        : SplitFft<T>(block),
          row_(kPrecision<T>, DFTI_REAL, {Long(cols)}, 1, real_layout({0, 1}, {0, 1})),
          col_(kPrecision<T>, DFTI_COMPLEX, {Long(rows)}, 1, [block](DFTI_DESCRIPTOR_HANDLE h) {
              const MKL_LONG strides[2] = {0, Long(block)};
              check(DftiSetValue(h, DFTI_NUMBER_OF_TRANSFORMS, Long(block)), "transforms");
              check(DftiSetValue(h, DFTI_INPUT_DISTANCE, Long(1)), "input distance");
              check(DftiSetValue(h, DFTI_OUTPUT_DISTANCE, Long(1)), "output distance");
              check(DftiSetValue(h, DFTI_INPUT_STRIDES, strides), "input strides");
              check(DftiSetValue(h, DFTI_OUTPUT_STRIDES, strides), "output strides");
          }) {}
    void row_forward(T* in, std::complex<T>* out) const override { check(DftiComputeForward(row_.get(), in, out), "row r2c"); }
    void row_inverse(std::complex<T>* in, T* out) const override { check(DftiComputeBackward(row_.get(), in, out), "row c2r"); }
    void col_forward(std::complex<T>* io) const override { check(DftiComputeForward(col_.get(), io), "column forward"); }
    void col_inverse(std::complex<T>* io) const override { check(DftiComputeBackward(col_.get(), io), "column backward"); }

private:
    Descriptor row_, col_;
};

}  // namespace

template <class T>
std::unique_ptr<RealFft<T>> make_mkl_real_fft(std::size_t rows, std::size_t cols, int threads) {
    return std::make_unique<MklRealFft<T>>(rows, cols, threads);
}
template <class T>
std::unique_ptr<SplitFft<T>> make_mkl_split_fft(std::size_t rows, std::size_t cols, std::size_t block) {
    return std::make_unique<MklSplitFft<T>>(rows, cols, block);
}
template std::unique_ptr<RealFft<double>> make_mkl_real_fft<double>(std::size_t, std::size_t, int);
template std::unique_ptr<RealFft<float>> make_mkl_real_fft<float>(std::size_t, std::size_t, int);
template std::unique_ptr<SplitFft<double>> make_mkl_split_fft<double>(std::size_t, std::size_t, std::size_t);
template std::unique_ptr<SplitFft<float>> make_mkl_split_fft<float>(std::size_t, std::size_t, std::size_t);

std::string mkl_version() {
    MKLVersion v{};
    mkl_get_version(&v);
    return fmt::format("{}.{}", v.MajorVersion, v.UpdateVersion);  // oneMKL 2025.3: Major 2025, Update 3
}

}  // namespace aiaccel::cpu
