// The worker-process side of prep's crash isolation (apps/prep_supervisor.cpp) that the pipeline's
// threads use: which input and stage each thread is on, for the crash handler.
#pragma once

#include <cstddef>
#include <string>

namespace aiaccel::cli::prep {

enum StageId : int { kDecode = 1, kCompute = 2, kWrite = 3 };

// Marks this thread as working on list index `index` in `stage` while in scope.
struct StageScope {
    StageScope(std::size_t index, int stage);
    ~StageScope();
    StageScope(const StageScope&) = delete;
    StageScope& operator=(const StageScope&) = delete;
};

// AIACCEL_TEST_CRASH_ON=<basename>: the decoder raises SIGSEGV on that input (tests of the isolation).
void maybe_test_crash(const std::string& input);

// write(2) all of `s` to `fd`, retrying on EINTR; gives up silently when the reader is gone.
void write_all(int fd, const std::string& s);

}  // namespace aiaccel::cli::prep
