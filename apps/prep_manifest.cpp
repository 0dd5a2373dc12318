// manifest.json / failures.txt of `aiaccel prep`, and the coverage check of `aiaccel merge-manifests`.
#include "apps/prep_manifest.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "report/report.hpp"

namespace aiaccel::cli::prep {
namespace fs = std::filesystem;
using nlohmann::json;

std::string_view to_string(Status s) {
    switch (s) {
        case Status::ok: return "ok";
        case Status::skipped: return "skipped";
        case Status::failed: return "failed";
        case Status::planned: return "planned";
    }
    return "?";
}

namespace {

Status parse_status(const std::string& s, const std::string& where) {
    for (Status st : {Status::ok, Status::skipped, Status::failed, Status::planned})
        if (to_string(st) == s) return st;
    throw file_error(ErrorKind::bad_value, where, fmt::format("unknown status '{}'", s));
}

std::string shard_suffix(const std::string& shard) {
    if (shard.empty() || shard == "0/1") return "";
    const auto slash = shard.find('/');
    if (slash == std::string::npos) return "." + shard;  // "merged"
    return ".shard-" + shard.substr(0, slash) + "-of-" + shard.substr(slash + 1);
}

}  // namespace

const std::vector<std::string> kTimedSteps = {
    "header",     "precheck", "checksum",    "decode",   "input_sha256", "backend_wait",    "pointing", "psf",
    "deconvolve", "register", "degradation", "exposure", "write",        "output_checksum", "rename",   "output_identity"};

namespace {
double round_us(double s) { return std::round(s * 1e6) / 1e6; }
}  // namespace

json to_json(const ManifestEntry& e) {
    json j = {{"index", e.index},
              {"input", escape_control(e.input)},
              {"input_size", e.input_size},
              {"status", to_string(e.status)},
              {"seconds", std::round(e.seconds * 1000) / 1000}};
    if (!e.input_sha256.empty()) j["input_sha256"] = e.input_sha256;
    if (!e.output.empty()) j["output"] = escape_control(e.output);
    if (!e.output_sha256.empty()) j["output_sha256"] = e.output_sha256;
    if (!e.output_content_sha256.empty()) j["output_content_sha256"] = e.output_content_sha256;
    if (!e.output_datasum.empty()) j["output_datasum"] = e.output_datasum;
    if (!e.reason.empty()) j["reason"] = escape_control(e.reason);
    if (!e.error_kind.empty()) j["error_kind"] = escape_control(e.error_kind);
    if (!e.stages.empty()) j["stages"] = e.stages;
    if (!e.warnings.empty()) {
        json w = json::array();
        for (const auto& s : e.warnings) w.push_back(escape_control(s));
        j["warnings"] = std::move(w);
    }
    if (!e.timings.empty()) {
        json t = json::object();
        for (const auto& [step, s] : e.timings) t[step] = round_us(s);
        j["timings_s"] = std::move(t);
    }
    return j;
}

std::string failure_line(const ManifestEntry& e) {
    return escape_control(e.input) + '\t' + escape_control(e.error_kind) + '\t' + escape_control(e.reason) + '\n';
}

json to_json(const Manifest& m) {
    json entries = json::array();
    for (const auto& e : m.entries) entries.push_back(to_json(e));
    std::size_t n[4] = {0, 0, 0, 0};
    for (const auto& e : m.entries) ++n[static_cast<int>(e.status)];
    json budget = json::array();  // [step, mean seconds] in pipeline order; derived from the entries, not read back
    for (const auto& [step, s] : time_budget(m)) budget.push_back({step, round_us(s)});
    return {{"schema", "aiaccel-prep-manifest/1"},
            {"tool", m.tool},
            {"command", escape_control(m.command)},
            {"level", m.level},
            {"steps", m.steps},
            {"backend", m.backend},
            {"precision", m.precision},
            {"shard", m.shard},
            {"inputs_total", m.inputs_total},
            {"inputs_sha256", m.inputs_sha256},
            {"started_utc", m.started_utc},
            {"finished_utc", m.finished_utc},
            {"wall_s", std::round(m.wall_s * 1000) / 1000},
            {"counts", {{"ok", n[0]}, {"skipped", n[1]}, {"failed", n[2]}, {"planned", n[3]}}},
            {"time_budget_s", budget},
            {"entries", entries}};
}

std::vector<std::pair<std::string, double>> time_budget(const Manifest& m) {
    std::map<std::string, double> sum;
    double total = 0;
    std::size_t n = 0;
    for (const auto& e : m.entries) {
        if (e.status != Status::ok) continue;
        ++n, total += e.seconds;
        for (const auto& [step, s] : e.timings) sum[step] += s, total -= s;
    }
    std::vector<std::pair<std::string, double>> out;
    if (n == 0) return out;
    for (const auto& step : kTimedSteps)
        if (auto it = sum.find(step); it != sum.end()) out.emplace_back(step, it->second / n);
    out.emplace_back("queued", std::max(0.0, total / n));
    return out;
}

Manifest manifest_from_json(const json& j, const std::string& where) {
    try {
        if (j.value("schema", "") != "aiaccel-prep-manifest/1")
            throw file_error(ErrorKind::bad_value, where, "not an aiaccel prep manifest (schema aiaccel-prep-manifest/1)");
        Manifest m;
        m.tool = j.value("tool", "");
        m.command = j.value("command", "");
        m.level = j.value("level", "");
        m.steps = j.value("steps", "");
        m.backend = j.value("backend", "");
        m.precision = j.value("precision", "");
        m.shard = j.value("shard", "0/1");
        m.inputs_total = j.at("inputs_total").get<std::size_t>();
        m.inputs_sha256 = j.value("inputs_sha256", "");
        m.started_utc = j.value("started_utc", "");
        m.finished_utc = j.value("finished_utc", "");
        m.wall_s = j.value("wall_s", 0.0);
        for (const auto& e : j.at("entries")) m.entries.push_back(entry_from_json(e, where));
        return m;
    } catch (const json::exception& e) { throw file_error(ErrorKind::bad_value, where, fmt::format("malformed manifest: {}", e.what())); }
}

ManifestEntry entry_from_json(const json& e, const std::string& where) {
    try {
        ManifestEntry x;
        x.index = e.at("index").get<std::size_t>();
        x.input = e.at("input").get<std::string>();
        x.input_size = e.value("input_size", std::uintmax_t{0});
        x.input_sha256 = e.value("input_sha256", "");
        x.output = e.value("output", "");
        x.output_sha256 = e.value("output_sha256", "");
        x.output_content_sha256 = e.value("output_content_sha256", "");
        x.output_datasum = e.value("output_datasum", "");
        x.status = parse_status(e.at("status").get<std::string>(), where);
        x.reason = e.value("reason", "");
        x.error_kind = e.value("error_kind", "");
        x.seconds = e.value("seconds", 0.0);
        x.stages = e.value("stages", "");
        if (e.contains("warnings")) x.warnings = e.at("warnings").get<std::vector<std::string>>();
        if (e.contains("timings_s")) x.timings = e.at("timings_s").get<StepTimes>();
        return x;
    } catch (const json::exception& ex) { throw file_error(ErrorKind::bad_value, where, fmt::format("malformed manifest entry: {}", ex.what())); }
}

Manifest read_manifest(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw file_error(ErrorKind::unreadable, path, "cannot read the manifest");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception& e) { throw file_error(ErrorKind::unreadable, path, fmt::format("not JSON (truncated?): {}", e.what())); }
    return manifest_from_json(j, path);
}

fs::path manifest_path(const fs::path& outdir, const std::string& shard) { return outdir / ("manifest" + shard_suffix(shard) + ".json"); }
fs::path failures_path(const fs::path& outdir, const std::string& shard) { return outdir / ("failures" + shard_suffix(shard) + ".txt"); }

void write_manifest_files(const fs::path& outdir, const Manifest& m) {
    std::ostringstream f;
    for (const auto& e : m.entries)
        if (e.status == Status::failed) f << failure_line(e);
    validate::report::write_file_atomic(failures_path(outdir, m.shard), f.str());
    validate::report::write_file_atomic(manifest_path(outdir, m.shard), to_json(m).dump(1) + "\n");
}

MergeResult merge_manifests(const std::vector<std::pair<std::string, Manifest>>& manifests) {
    MergeResult r;
    if (manifests.empty()) return r;
    const Manifest& first = manifests.front().second;
    r.merged = first;
    r.merged.shard = "merged";
    r.merged.entries.clear();
    r.merged.wall_s = 0;
    std::map<std::size_t, std::string> owner;  // index → manifest that lists it
    std::map<std::string, std::size_t> outputs;  // output → index that wrote it
    for (const auto& [path, m] : manifests) {
        auto differs = [&](const char* what, const std::string& a, const std::string& b) {
            if (a != b) r.mismatches.push_back(fmt::format("{}: {} '{}' but {} has '{}'", path, what, b, manifests.front().first, a));
        };
        differs("inputs_sha256 (a different input list)", first.inputs_sha256, m.inputs_sha256);
        differs("level", first.level, m.level);
        differs("steps", first.steps, m.steps);
        if (m.inputs_total != first.inputs_total)
            r.mismatches.push_back(
                fmt::format("{}: inputs_total {} but {} has {}", path, m.inputs_total, manifests.front().first, first.inputs_total));
        r.merged.wall_s = std::max(r.merged.wall_s, m.wall_s);
        if (!m.started_utc.empty() && (r.merged.started_utc.empty() || m.started_utc < r.merged.started_utc)) r.merged.started_utc = m.started_utc;
        if (m.finished_utc > r.merged.finished_utc) r.merged.finished_utc = m.finished_utc;
        for (const auto& e : m.entries) {
            if (e.index >= first.inputs_total) {
                r.mismatches.push_back(fmt::format("{}: entry #{} ({}) beyond inputs_total {}", path, e.index, e.input, first.inputs_total));
                continue;
            }
            auto [it, fresh] = owner.emplace(e.index, path);
            if (!fresh) {
                r.duplicates.push_back(fmt::format("input #{} {} listed by {} and {}", e.index, e.input, it->second, path));
                continue;
            }
            if (!e.output.empty() && e.status != Status::failed) {
                auto [ot, ofresh] = outputs.emplace(e.output, e.index);
                if (!ofresh) r.duplicates.push_back(fmt::format("output {} claimed by inputs #{} and #{}", e.output, ot->second, e.index));
            }
            r.merged.entries.push_back(e);
        }
    }
    std::sort(r.merged.entries.begin(), r.merged.entries.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    for (std::size_t k = 0, i = 0; k < first.inputs_total; ++k) {
        while (i < r.merged.entries.size() && r.merged.entries[i].index < k) ++i;
        if (i == r.merged.entries.size() || r.merged.entries[i].index != k) r.gaps.push_back(k);
    }
    for (const auto& e : r.merged.entries) {
        if (e.status == Status::ok)
            ++r.ok;
        else if (e.status == Status::skipped)
            ++r.skipped;
        else if (e.status == Status::failed)
            ++r.failed;
        else
            ++r.planned;
    }
    return r;
}

}  // namespace aiaccel::cli::prep
