// SHA-256 (FIPS 180-4) of byte buffers and files, hex-encoded. Used for input identities in
// result rows, cache keys and checking data against manifests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/image.hpp"

namespace aiaccel {

class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t n);
    std::string hex();  // finalises

private:
    void block(const std::uint8_t* p);
    std::uint32_t h_[8];
    std::uint8_t buf_[64];
    std::size_t used_ = 0;
    std::uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, std::size_t n);
std::string sha256_file(const std::string& path);

}  // namespace aiaccel
