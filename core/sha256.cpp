// SHA-256 through OpenSSL's EVP interface (libcrypto picks the CPU's SHA instructions itself).
#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <new>
#include <vector>

#include "core/error.hpp"

namespace aiaccel {

struct Sha256::Ctx {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
    if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t n) {
    if (n > 0 && EVP_DigestUpdate(ctx_->md, data, n) != 1) throw Error(ErrorKind::internal, "sha256: EVP_DigestUpdate failed");
}

std::string Sha256::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_->md, md, &len) != 1 || len != 32) throw Error(ErrorKind::internal, "sha256: EVP_DigestFinal_ex failed");
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 0xf];
    }
    return out;
}

std::string sha256_hex(const void* data, std::size_t n) {
    Sha256 s;
    s.update(data, n);
    return s.hex();
}

std::string sha256_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(ErrorKind::unreadable, path, "cannot open for reading");
    Sha256 s;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        s.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    return s.hex();
}

}  // namespace aiaccel
