// Case list reading and selection (see case_list.hpp).
#include "validate/case_list.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "validate/golden_store.hpp"
#include "validate/stage_driver.hpp"

namespace aiaccel::validate {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Case parse_case(const json& j) {
    Case c;
    c.name = j.at("name").get<std::string>();
    c.stage = j.at("stage").get<std::string>();
    c.quick = j.value("quick", false);
    c.description = j.value("description", "");
    c.golden = j.value("golden", "");
    c.goldens = j.value("goldens", std::vector<std::string>{});
    c.channel = j.value("channel", 0);
    c.preflight = j.value("preflight", false);
    c.input = j.value("input", "");
    c.iterations = j.value("iterations", 0);
    c.psf_channel = j.value("psf_channel", 0);
    c.functions = j.value("functions", std::vector<std::string>{});
    c.synthetic = j.value("synthetic", "");
    c.size = j.value("size", 0);
    c.value = j.value("value", 0.0);
    if (c.name.empty()) throw std::runtime_error("a case without a name");
    const StageDriver* driver = find_stage_driver(c.stage);
    if (!driver) throw std::runtime_error(fmt::format("case {}: unknown stage '{}'", c.name, c.stage));
    driver->check_case(c);  // the fields this stage needs
    if (!c.input.empty() && c.input != GoldenStore::kDerivedKey && !GoldenStore::input_files().count(c.input))
        throw std::runtime_error(fmt::format("case {}: unknown input key '{}'", c.name, c.input));
    if (c.is_synthetic() && c.size <= 0) throw std::runtime_error(fmt::format("case {}: a synthetic case needs \"size\"", c.name));
    for (const auto& v : c.goldens)
        if (std::find(kGoldenVersions.begin(), kGoldenVersions.end(), v) == kGoldenVersions.end())
            throw std::runtime_error(fmt::format("case {}: no aiapy version '{}' (goldens exist for 0.10.2, 0.12.1)", c.name, v));
    return c;
}

// Real files in the discovery folders that no listed input uses: cases of their own.
void discover(CaseList& list, const json& d, const fs::path& root, const fs::path& data_dir) {
    std::set<std::string> known;
    for (const auto& [key, name] : GoldenStore::input_files()) known.insert(name);
    const auto stages = d.value("stages", std::vector<std::string>{});
    for (const auto& stage : stages)
        if (!find_stage_driver(stage)) throw std::runtime_error(fmt::format("discover: unknown stage '{}'", stage));
    const bool quick = d.value("quick", false);
    for (const auto& dir_text : d.value("dirs", std::vector<std::string>{})) {
        fs::path dir = dir_text == "$AIA_DATA_DIR" ? data_dir : fs::path(dir_text);
        if (dir.empty()) continue;
        if (dir.is_relative()) dir = root / dir;
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) continue;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.is_regular_file() && e.path().extension() == ".fits") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            if (!known.insert(f.filename().string()).second) continue;  // listed, or found in an earlier folder
            for (const auto& stage : stages) {
                Case c;
                c.name = fmt::format("file-{}-{}", f.stem().string(), stage);
                c.stage = stage;
                c.quick = quick;
                c.file = f;
                c.description = fmt::format("{} (found in {}; no aiapy golden: fast backends vs the reference)", f.filename().string(), dir.string());
                stage_driver(stage).discovered_case(c);
                list.cases.push_back(std::move(c));
            }
        }
    }
}

}  // namespace

CaseList load_case_list(const fs::path& file, const fs::path& root, const fs::path& data_dir) {
    CaseList list;
    list.file = file;
    std::ifstream in(file);
    if (!in) throw file_error(ErrorKind::unreadable, file.string(), "cannot read the case list");
    try {
        const json doc = json::parse(in);
        std::set<std::string> names;
        for (const auto& j : doc.at("cases")) {
            Case c = parse_case(j);
            if (!names.insert(c.name).second) throw std::runtime_error("two cases named " + c.name);
            list.cases.push_back(std::move(c));
        }
        if (doc.contains("discover")) discover(list, doc.at("discover"), root, data_dir);
    } catch (const Error&) { throw; } catch (const std::exception& e) {
        throw file_error(ErrorKind::bad_value, file.string(), std::string("not a valid case list: ") + e.what());
    }
    return list;
}

std::vector<const Case*> select_cases(const CaseList& list, const std::vector<std::string>& selectors) {
    std::set<std::string> names;
    bool quick = false, full = false;
    for (const auto& s : selectors) {
        if (s == "quick")
            quick = true;
        else if (s == "full" || s == "all")
            full = true;
        else if (std::none_of(list.cases.begin(), list.cases.end(), [&](const Case& c) { return c.name == s; })) {
            std::string known;
            for (const auto& c : list.cases)
                if (c.name.find(s) != std::string::npos || s.find(c.stage) != std::string::npos) append_joined(known, ", ", c.name);
            throw Error(ErrorKind::usage,
                        fmt::format("--cases: no case named '{}' in {} ({}; `aiaccel validate --list` lists them all)", s, list.file.string(),
                                    known.empty() ? "use quick, full or a case name" : "similar: " + known));
        } else {
            names.insert(s);
        }
    }
    std::vector<const Case*> out;
    for (const auto& c : list.cases)
        if (full || (quick && c.quick) || names.count(c.name)) out.push_back(&c);
    return out;
}

}  // namespace aiaccel::validate
