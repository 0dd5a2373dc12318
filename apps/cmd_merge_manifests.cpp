// `aiaccel merge-manifests M1 M2 ... [-o merged.json]`: joins the manifests of the shards of one
// `aiaccel prep --shard I/N` batch (e.g. the tasks of tools/slurm/prep-array.sbatch) and checks that
// together they cover every input exactly once: gaps, duplicates (inputs or outputs) and manifests of
// another batch are reported, and make the exit code non-zero.
#include <fmt/format.h>

#include "apps/cli_common.hpp"
#include "apps/commands.hpp"
#include "apps/prep_manifest.hpp"
#include "core/error.hpp"
#include "report/report.hpp"

namespace aiaccel::cli {

void add_merge_manifests(CLI::App& app, int& exit_code) {
    auto* cmd =
        app.add_subcommand("merge-manifests",
                           "Merge the manifest.shard-I-of-N.json files of an `aiaccel prep --shard` batch and check coverage: every\n"
                           "input of the batch's sorted list listed exactly once (gaps and duplicates are reported by index and path,\n"
                           "outputs claimed twice too), all manifests from the same input list and settings. With -o, writes the merged\n"
                           "manifest (same schema, shard 'merged') and, next to it, failures.merged.txt. Exit: 0 complete and no file failed,\n"
                           "1 gaps, duplicates, mismatched manifests or failed inputs, 2 unreadable manifests.");
    struct Args {
        std::vector<std::string> in;
        std::string out;
        bool allow_failed = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("MANIFESTS", a->in, "Shard manifests (manifest*.json)")->required();
    cmd->add_option("-o,--output", a->out, "Write the merged manifest here (e.g. OUTDIR/manifest.json)");
    cmd->add_flag("--allow-failed", a->allow_failed, "Exit 0 when coverage is complete even if some inputs failed");
    cmd->callback([a, &exit_code] {
        using namespace prep;
        std::vector<std::pair<std::string, Manifest>> ms;
        for (const auto& p : a->in) ms.emplace_back(p, read_manifest(p));
        MergeResult r = merge_manifests(ms);
        for (const auto& s : r.mismatches) fmt::print(stderr, "merge-manifests: MISMATCH {}\n", s);
        for (const auto& s : r.duplicates) fmt::print(stderr, "merge-manifests: DUPLICATE {}\n", s);
        const std::size_t total = ms.front().second.inputs_total;
        for (std::size_t k : r.gaps) {
            std::string owner;
            if (auto sh = ms.front().second.shard; sh.find('/') != std::string::npos) {
                const auto n = std::stoul(sh.substr(sh.find('/') + 1));
                owner = fmt::format(" (belongs to shard {}/{})", k % n, n);
            }
            fmt::print(stderr, "merge-manifests: GAP input #{} of {} is in no manifest{}\n", k, total, owner);
        }
        if (!a->out.empty()) {
            const std::filesystem::path out(a->out);
            const auto dir = out.parent_path().empty() ? std::filesystem::path(".") : out.parent_path();
            validate::report::write_file_atomic(out, to_json(r.merged).dump(1) + "\n");
            std::string f;
            for (const auto& e : r.merged.entries)
                if (e.status == Status::failed) f += failure_line(e);
            validate::report::write_file_atomic(failures_path(dir, "merged"), f);
        }
        fmt::print(
            "merge-manifests: {} manifest(s), {} input(s): {} listed, {} gap(s), {} duplicate(s), {} mismatch(es); "
            "{} ok, {} skipped, {} failed, {} not run\n",
            ms.size(), total, r.merged.entries.size(), r.gaps.size(), r.duplicates.size(), r.mismatches.size(), r.ok, r.skipped, r.failed, r.planned);
        const bool coverage_bad = !r.gaps.empty() || !r.duplicates.empty() || !r.mismatches.empty() || r.planned;
        exit_code = coverage_bad || (r.failed && !a->allow_failed) ? 1 : 0;
    });
}

}  // namespace aiaccel::cli
