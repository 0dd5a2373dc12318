// Result rows to and from JSON; machine description.
#include "validate/result_row.hpp"
#include "core/strings.hpp"

#include <sys/utsname.h>

#include <fmt/format.h>
#include <fstream>
#include <thread>

namespace aiaccel::validate {

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::passed: return "PASSED";
        case Verdict::mistrusted: return "MISTRUSTED";
        case Verdict::failed: return "FAILED";
        case Verdict::skipped: return "SKIPPED";
    }
    return "?";
}

std::optional<Verdict> parse_verdict(std::string_view s) {
    for (auto v : {Verdict::passed, Verdict::mistrusted, Verdict::failed, Verdict::skipped})
        if (to_string(v) == s) return v;
    return std::nullopt;
}

MachineInfo MachineInfo::here() {
    MachineInfo m;
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, flags;
    while (std::getline(cpuinfo, line)) {
        if (m.cpu.empty() && line.rfind("model name", 0) == 0) m.cpu = line.substr(line.find(':') + 2);
        if (flags.empty() && line.rfind("flags", 0) == 0) flags = line;
    }
    std::string isa;
    for (const char* f : {"avx512f", "avx2", "fma"})
        if (flags.find(std::string(" ") + f) != std::string::npos) append_joined(isa, " ", f);
    m.cpu =
        fmt::format("{} ({} cores{}{})", m.cpu.empty() ? "unknown CPU" : m.cpu, std::thread::hardware_concurrency(), isa.empty() ? "" : ", ", isa);
    utsname u{};
    if (uname(&u) == 0) m.os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
#if defined(__clang__)
    m.compiler = fmt::format("clang {}.{}", __clang_major__, __clang_minor__);
#elif defined(__GNUC__)
    m.compiler = fmt::format("g++ {}.{}", __GNUC__, __GNUC_MINOR__);
#endif
    m.threads = static_cast<int>(std::thread::hardware_concurrency());
    return m;
}

namespace {
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(fmt::format("{}", v)); }
double num_of(const nlohmann::json& j) {
    if (j.is_number()) return j.get<double>();
    if (j.is_string()) return std::strtod(j.get<std::string>().c_str(), nullptr);
    return 0;
}
}  // namespace

nlohmann::json to_json(const ResultRow& r) {
    nlohmann::json m = {
        {"shape_ok", r.metrics.shape_ok},          {"max_abs", num(r.metrics.max_abs)},      {"max_abs_over_max", num(r.metrics.max_abs_over_max)},
        {"rel_l2", num(r.metrics.rel_l2)},         {"nan_mismatch", r.metrics.nan_mismatch}, {"compared", r.metrics.compared},
        {"bitwise_equal", r.metrics.bitwise_equal}};
    for (const auto& [k, v] : r.extra) m[k] = num(v);
    nlohmann::json j = {
        {"kind", r.kind},
        {"stage", r.stage},
        {"backend", r.backend},
        {"fft", r.fft},
        {"precision", r.precision},
        {"target", r.target},
        {"case", r.case_name},
        {"against", r.against},
        {"input_sha256", r.input_sha256},
        {"metrics", m},
        {"tolerance", {{"metric", r.bound_metric}, {"bound", num(r.bound)}, {"reason", r.bound_reason}}},
        {"verdict", std::string(to_string(r.verdict))},
        {"skip_reason", r.skip_reason},
        {"time_s", r.time_s},
        {"peak_rss_mib", r.peak_rss_mib},
        {"repro", r.repro},
        {"artifacts", r.artifacts},
        {"notes", r.notes},
        {"machine",
         {{"cpu", r.machine.cpu}, {"os", r.machine.os}, {"compiler", r.machine.compiler}, {"threads", r.machine.threads}, {"gpu", r.machine.gpu}}}};
    if (!r.iteration_max_rel.empty()) {
        nlohmann::json& series = j["iteration_max_rel"] = nlohmann::json::array();
        for (double v : r.iteration_max_rel) series.push_back(num(v));
    }
    return j;
}

ResultRow row_from_json(const nlohmann::json& j) {
    ResultRow r;
    r.kind = j.value("kind", "accuracy");
    r.stage = j.value("stage", "");
    r.backend = j.value("backend", "");
    r.fft = j.value("fft", "");
    r.precision = j.value("precision", "");
    r.target = j.value("target", "");  // rows written before the target was recorded: ""
    r.case_name = j.value("case", "");
    r.against = j.value("against", "");
    r.input_sha256 = j.value("input_sha256", "");
    const auto& m = j.at("metrics");
    r.metrics.shape_ok = m.value("shape_ok", false);
    r.metrics.max_abs = num_of(m.value("max_abs", nlohmann::json(0)));
    r.metrics.max_abs_over_max = num_of(m.value("max_abs_over_max", nlohmann::json(0)));
    r.metrics.rel_l2 = num_of(m.value("rel_l2", nlohmann::json(0)));
    r.metrics.nan_mismatch = m.value("nan_mismatch", std::size_t{0});
    r.metrics.compared = m.value("compared", std::size_t{0});
    r.metrics.bitwise_equal = m.value("bitwise_equal", std::size_t{0});
    for (auto& [k, v] : m.items())
        if (k != "shape_ok" && k != "max_abs" && k != "max_abs_over_max" && k != "rel_l2" && k != "nan_mismatch" && k != "compared" &&
            k != "bitwise_equal")
            r.extra.emplace_back(k, num_of(v));
    if (j.contains("tolerance")) {
        r.bound_metric = j["tolerance"].value("metric", "");
        r.bound = num_of(j["tolerance"].value("bound", nlohmann::json(0)));
        r.bound_reason = j["tolerance"].value("reason", "");
    }
    r.verdict = parse_verdict(j.value("verdict", "SKIPPED")).value_or(Verdict::skipped);
    r.skip_reason = j.value("skip_reason", "");
    r.time_s = j.value("time_s", 0.0);
    r.peak_rss_mib = j.value("peak_rss_mib", 0.0);
    r.repro = j.value("repro", "");
    r.artifacts = j.value("artifacts", std::vector<std::string>{});
    r.notes = j.value("notes", std::vector<std::string>{});
    if (j.contains("iteration_max_rel"))
        for (const auto& v : j["iteration_max_rel"]) r.iteration_max_rel.push_back(num_of(v));
    if (j.contains("machine")) {
        const auto& mc = j["machine"];
        r.machine.cpu = mc.value("cpu", "");
        r.machine.os = mc.value("os", "");
        r.machine.compiler = mc.value("compiler", "");
        r.machine.threads = mc.value("threads", 0);
        r.machine.gpu = mc.value("gpu", "");
    }
    return r;
}

}  // namespace aiaccel::validate
