// Host side of the CUDA backend's register (fast/cuda/register_cuda_host.hpp).
#include "fast/cuda/register_cuda_host.hpp"

#include <algorithm>
#include <limits>

#include "fast/common/register_plan.hpp"

namespace aiaccel::cuda {

AiaImage register_image_with(const AiaImage& in, const RegisterRequest& req, const AffineRunner& run) {
    const cpu::RegisterPlan p = cpu::plan_register(in, req, 0);
    const cpu::Frame& f = p.frame;
    const std::size_t ny = in.data.rows(), nx = in.data.cols();

    // np.pad(data, ((pad_y, pad_y), (pad_x, pad_x)), constant_values=fill), in the dtype.
    Image<double> padded(f.py, f.px, p.fill);
    for (std::size_t y = 0; y < ny; ++y) std::copy_n(in.data.row(y), nx, padded.row(f.pad_y + y) + f.pad_x);

    // sunpy's _rotation_scipy: affine_transform(image.T, inv(rmatrix)/scale, shift, order, cval=missing).T;
    // the (x, y) map of the plan is the map of the transposed array scipy sees.
    RegisterJob job;
    job.order = req.order;
    job.map.matrix[0][0] = f.map.m00;
    job.map.matrix[0][1] = f.map.m01;
    job.map.matrix[1][0] = f.map.m10;
    job.map.matrix[1][1] = f.map.m11;
    job.map.offset[0] = f.map.sx;
    job.map.offset[1] = f.map.sy;
    job.map.out_rows = f.px;
    job.map.out_cols = f.py;
    job.map.cval = p.missing;
    job.map.output = in.dtype;
    job.map.scipy_ge_1_16 = f.map.sum_ge_1_16;
    job.map.transposed = true;
    if (p.pad.any_nan) {
        job.nan.enabled = true;
        job.nan.substitute = cpu::padded_nanmedian(in.data, f.py * f.px - ny * nx, p.fill, in.dtype);
        job.nan.big = in.dtype == PixelType::f32 ? static_cast<double>(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
        job.nan.integer_dtype = cpu::is_integer(in.dtype);
    }
    job.clip = {true, p.missing};
    const Image<double> frame = run(padded, job);  // f.py × f.px

    AiaImage out;
    out.path = in.path;
    out.dtype = in.dtype;
    out.header = in.header;
    out.data = Image<double>(p.crop.rows, p.crop.cols);
    for (std::size_t r = 0; r < p.crop.rows; ++r) std::copy_n(frame.row(p.crop.r0 + r) + p.crop.c0, p.crop.cols, out.data.row(r));
    cpu::write_registered_header(out, in, p, req.full_frame);
    return out;
}

}  // namespace aiaccel::cuda
