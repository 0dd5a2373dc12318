// Wall-clock time stamps for records (cache entries, reports).
#pragma once

#include <ctime>
#include <string>

namespace aiaccel {

// Now in UTC as "YYYY-MM-DDTHH:MM:SSZ".
inline std::string utc_now_iso8601() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace aiaccel
