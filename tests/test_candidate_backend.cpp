// External candidates (validate/candidate_backend.hpp) and JUnit XML (validate/junit.hpp) at the unit
// level: option parsing, placeholder expansion and quoting, how a command's end is classified
// (exit status, signal, timeout with the whole process group killed), and XML escaping. The end-to-end
// runs on the real files are tests/test_validate_candidate.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "validate/candidate_backend.hpp"
#include "validate/junit.hpp"

namespace aiaccel::validate {
namespace {
namespace fs = std::filesystem;

struct TempFolder {
    fs::path path;
    TempFolder() {
        std::string t = (fs::temp_directory_path() / "aiaccel-test-candidate-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~TempFolder() { fs::remove_all(path); }
};

ErrorKind kind_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) { return e.kind(); }
    return ErrorKind::internal;  // "did not throw"
}

TEST(CandidateParse, StageFromTemplateOrGiven) {
    EXPECT_EQ(parse_candidate("a=reg {input} {output}").stage, "register");
    EXPECT_EQ(parse_candidate("a=rl {input} {psf} {output}").stage, "deconvolve");
    EXPECT_EQ(parse_candidate("a=rl {input} {output} -n {iterations}").stage, "deconvolve");
    EXPECT_EQ(parse_candidate("a=psf {channel} {output}").stage, "psf");
    const CandidateSpec s = parse_candidate("my-cand.1:deconvolve=x {input} {output}");
    EXPECT_EQ(s.name, "my-cand.1");
    EXPECT_EQ(s.stage, "deconvolve");
    EXPECT_EQ(s.command, "x {input} {output}");
    EXPECT_EQ(parse_candidate("a=x {input} {output} --opt=1").command, "x {input} {output} --opt=1");  // '=' after the first is the command's
}

TEST(CandidateParse, UsageErrors) {
    for (const char* bad : {"noequals", "=x {input} {output}", "bad name=x {input} {output}", "a=x {input}", "a:prep=x {input} {output}",
                            "cpu=x {input} {output}", "reference=x {input} {output}", "a:register=x {output}"})
        EXPECT_EQ(kind_of([&] { parse_candidate(bad); }), ErrorKind::usage) << bad;
    EXPECT_EQ(parse_candidate_bound("register=1e-3"), (std::pair<std::string, double>{"register", 1e-3}));
    for (const char* bad : {"register", "prep=1", "register=abc", "register=-1", "register=nan", "register="})
        EXPECT_EQ(kind_of([&] { parse_candidate_bound(bad); }), ErrorKind::usage) << bad;
}

TEST(CandidateExpand, QuotesValuesAndKeepsOtherBraces) {
    const std::map<std::string, std::string> v = {{"input", "/tmp/a b/in.fits"}, {"output", "/tmp/it's.fits"}, {"order", "3"}};
    EXPECT_EQ(expand_command("p {input} {output} --order {order} -c 'print({1: 2})' {unknown}", v),
              "p '/tmp/a b/in.fits' '/tmp/it'\\''s.fits' --order 3 -c 'print({1: 2})' {unknown}");
}

TEST(CandidateRun, ExitStatusSignalTimeoutAndLog) {
    TempFolder d;
    CommandResult ok = run_command("echo hello; echo world >&2", d.path, 10);
    EXPECT_FALSE(ok.timed_out || ok.signalled);
    EXPECT_EQ(ok.exit_status, 0);
    EXPECT_EQ(ok.log_tail, "hello | world");
    EXPECT_EQ(run_command("exit 7", d.path, 10).exit_status, 7);
    const CommandResult sig = run_command("kill -KILL $$", d.path, 10);
    EXPECT_TRUE(sig.signalled);
    EXPECT_EQ(sig.exit_status, 9);
    // A hanging command and the child it started are both gone after the timeout.
    const CommandResult hang = run_command("sleep 30 & echo $! > child; wait", d.path, 0.5);
    EXPECT_TRUE(hang.timed_out);
    EXPECT_LT(hang.wall_s, 10);
    long child = 0;
    std::ifstream(d.path / "child") >> child;
    ASSERT_GT(child, 0);
    EXPECT_FALSE(fs::exists(fs::path("/proc") / std::to_string(child) / "exe")) << "the command's child survived the timeout";
    // It runs in the folder it is given, with stdin empty.
    EXPECT_EQ(run_command("test \"$(pwd -P)\" = \"" + fs::canonical(d.path).string() + "\" && ! read -r x", d.path, 10).exit_status, 0);
}

TEST(CandidateRun, PeakMemoryIsTheCommandsOwn) {
    TempFolder d;
    // A small shell, far below this test process's own memory after a 200 MiB allocation.
    std::vector<char> big(200u << 20, 1);
    const CommandResult r = run_command("sleep 0.3", d.path, 10);
    EXPECT_GT(r.peak_rss_mib, 0);
    EXPECT_LT(r.peak_rss_mib, 100) << "the peak counted aiaccel's own memory";
    EXPECT_EQ(big[12345], 1);
}

TEST(Junit, OneEscapedTestcasePerRow) {
    ResultRow a;
    a.stage = "register";
    a.backend = "mine";
    a.precision = "f64";
    a.case_name = "c1";
    a.against = "reference";
    a.verdict = Verdict::failed;
    a.notes = {"out of bounds: x < 1 & \"y\"", "candidate failed: \x01 odd"};
    a.repro = "aiaccel validate --candidate 'mine=x {input} {output}'";
    ResultRow b = a;
    b.case_name = "c2";
    b.verdict = Verdict::skipped;
    b.skip_reason = "no <f32> implementation";
    ResultRow c = a;
    c.case_name = "c3";
    c.verdict = Verdict::passed;
    c.notes.clear();
    const std::string x = junit_xml({a, b, c}, "aiaccel validate", 1.5);
    EXPECT_NE(x.find("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos) << x;
    EXPECT_NE(x.find("classname=\"register.mine.f64\" name=\"c1 vs reference\""), std::string::npos) << x;
    EXPECT_NE(x.find("x &lt; 1 &amp; &quot;y&quot;"), std::string::npos) << x;
    EXPECT_NE(x.find("<skipped message=\"no &lt;f32&gt; implementation\"/>"), std::string::npos) << x;
    EXPECT_NE(x.find("--candidate &apos;mine=x {input} {output}&apos;"), std::string::npos) << x;
    EXPECT_EQ(x.find('\x01'), std::string::npos);
}

}  // namespace
}  // namespace aiaccel::validate
