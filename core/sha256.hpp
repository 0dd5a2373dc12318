// SHA-256 (FIPS 180-4) of byte buffers and files, hex-encoded. Used for input identities in
// result rows, cache keys, checking data against manifests and prep's output identities.
// Computed by OpenSSL's libcrypto, which uses the CPU's SHA extensions where present (several times
// the portable C code this replaced: docs/architecture.md §4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/image.hpp"

namespace aiaccel {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(const void* data, std::size_t n);
    std::string hex();  // finalises

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(const void* data, std::size_t n);
std::string sha256_file(const std::string& path);

}  // namespace aiaccel
