// escape_control (core/strings.hpp): control characters and invalid UTF-8 become \n, \t, \r, \xNN so a
// file name stays on one line of a message, a TSV field or a JSON string; valid UTF-8 is kept.
#include <gtest/gtest.h>

#include <string>

#include "core/strings.hpp"

using aiaccel::escape_control;

TEST(EscapeControl, PlainTextUnchanged) {
    EXPECT_EQ(escape_control(""), "");
    EXPECT_EQ(escape_control("data/aia_lev1_171a_2013_03_10t12_00_11_34z.fits"), "data/aia_lev1_171a_2013_03_10t12_00_11_34z.fits");
    EXPECT_EQ(escape_control("a\\nb"), "a\\nb");  // a literal backslash-n is already one line
}

TEST(EscapeControl, ControlCharacters) {
    EXPECT_EQ(escape_control("bad\nname\twith\x01"
                             "ctl.fits"),
              "bad\\nname\\twith\\x01ctl.fits");
    EXPECT_EQ(escape_control("cr\r"), "cr\\r");
    EXPECT_EQ(escape_control(std::string("nul\0x", 5)), "nul\\x00x");
    EXPECT_EQ(escape_control("\x1b[31m"), "\\x1b[31m");
    EXPECT_EQ(escape_control("del\x7f"), "del\\x7f");
}

TEST(EscapeControl, Utf8KeptInvalidBytesEscaped) {
    EXPECT_EQ(escape_control("171 Å → ok"), "171 Å → ok");
    EXPECT_EQ(escape_control("\xf0\x9f\x8c\x9e"), "\xf0\x9f\x8c\x9e");  // 4-byte sequence (U+1F31E)
    EXPECT_EQ(escape_control("latin1 \xe9t\xe9"), "latin1 \\xe9t\\xe9");  // ISO-8859-1, not UTF-8
    EXPECT_EQ(escape_control("\xc0\xaf"), "\\xc0\\xaf");  // overlong '/'
    EXPECT_EQ(escape_control("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // UTF-16 surrogate
    EXPECT_EQ(escape_control("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
    EXPECT_EQ(escape_control("cut \xe2\x86"), "cut \\xe2\\x86");  // truncated sequence
}

TEST(EscapeControl, Idempotent) {
    for (const std::string s : {"bad\nname\t\x01.fits", "\xe9\xff\xc0", "Å\n→"}) {
        const std::string once = escape_control(s);
        EXPECT_EQ(escape_control(once), once) << once;
        EXPECT_EQ(once.find('\n'), std::string::npos);
    }
}
