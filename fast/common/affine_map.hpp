// The output→input map of register's rotation, shared by fast/common/register_plan.hpp (which builds
// it) and the backends that interpolate through it (fast/cpu/affine_transform_cpu.hpp, fast/cuda/).
#pragma once

namespace aiaccel::cpu {

// The output→input map in image (x, y) order, as sunpy passes it to scipy on the transposed array:
//   X = sx + ox·m00 + oy·m01,  Y = sy + ox·m10 + oy·m11
// summed as scipy ≥ 1.16 does ((sx + ox·m00) + oy·m01) or, with sum_ge_1_16 = false, as ≤ 1.15 does
// ((ox·m00 + oy·m01) + sx).
struct AffineMap {
    double m00, m01, m10, m11, sx, sy;
    bool sum_ge_1_16 = true;
    double x(double ox, double oy) const { return sum_ge_1_16 ? (sx + ox * m00) + oy * m01 : (ox * m00 + oy * m01) + sx; }
    double y(double ox, double oy) const { return sum_ge_1_16 ? (sy + ox * m10) + oy * m11 : (ox * m10 + oy * m11) + sy; }
};

}  // namespace aiaccel::cpu
