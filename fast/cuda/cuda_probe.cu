// CUDA device probe (compiled for sm_90 + PTX). Any runtime error — no driver, driver too old,
// no device — is reported as "no device", never as a crash (docs/architecture.md §6).
#include <cuda_runtime.h>

#include <string>

#include "fast/cuda/cuda_probe.hpp"

namespace aiaccel::cuda {

namespace {
__global__ void touch_kernel(int* flag) {
    if (flag != nullptr && threadIdx.x == 0 && blockIdx.x == 0) *flag = 1;
}
}  // namespace

Availability probe() {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        std::string why = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
        cudaGetLastError();  // clear the sticky error state
        return {false, "cuda: built, but no device (" + why + ")"};
    }
    // Launch one trivial kernel to prove the binary's code runs on this device.
    int* flag = nullptr;
    if (cudaMalloc(&flag, sizeof(int)) != cudaSuccess) return {false, "cuda: built, device present but cudaMalloc failed"};
    touch_kernel<<<1, 1>>>(flag);
    err = cudaDeviceSynchronize();
    cudaFree(flag);
    if (err != cudaSuccess) return {false, std::string("cuda: built, but a kernel failed to run (") + cudaGetErrorString(err) + ")"};
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    return {true, std::string("cuda: available (") + prop.name + ", " + std::to_string(count) + " device(s))"};
}

std::string device_name() {
    int dev = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
        cudaGetLastError();
        return "cuda device (properties not readable)";
    }
    return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
}

}  // namespace aiaccel::cuda
