// SHA-256 against the FIPS 180-4 example vectors and sha256sum of a real file.
#include <gtest/gtest.h>

#include <string>

#include "core/sha256.hpp"
#include "tests/test_support.hpp"

using namespace aiaccel;

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(sha256_hex(two.data(), two.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    Sha256 s;
    std::string a(1000, 'a');
    for (int i = 0; i < 1000; ++i) s.update(a.data(), a.size());
    EXPECT_EQ(s.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, RealFileMatchesManifest) {
    EXPECT_EQ(sha256_file(test::real_file("aia_171_level1.fits").string()), "71d7f9f56908bd22d5dcac015884117c57c45f30951131bf4abdc06c55cb0280");
}
