// Small string helpers shared across modules.
#pragma once

#include <string>
#include <string_view>

namespace aiaccel {

// Appends `item` to a separator-joined list: "a" → "a, b".
inline void append_joined(std::string& list, std::string_view sep, std::string_view item) {
    if (!list.empty()) list.append(sep);
    list.append(item);
}

// `s` made safe for one-line messages, TSV and JSON: control characters become \n, \t, \r or \xNN,
// and so does every byte that is not part of valid UTF-8; everything else (including valid UTF-8
// such as "Å" or "→") is kept. Idempotent on its own output (which is printable ASCII + UTF-8).
inline std::string escape_control(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    auto byte = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            if (c == '\n')
                out += "\\n";
            else if (c == '\t')
                out += "\\t";
            else if (c == '\r')
                out += "\\r";
            else
                byte(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A UTF-8 sequence: lead byte, length, continuation bytes, no overlong/surrogate/out-of-range form.
        std::size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
        if (ok && len >= 3) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) ok = false;
        }
        if (!ok) {
            byte(c);
            ++i;
            continue;
        }
        out.append(s.substr(i, len));
        i += len;
    }
    return out;
}

}  // namespace aiaccel
