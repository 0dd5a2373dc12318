// The per-iteration error of a backend's Richardson–Lucy against the reference's (iteration_errors.hpp).
#include "validate/iteration_errors.hpp"

#include <cmath>
#include <condition_variable>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "reference/deconvolve_reference.hpp"

namespace aiaccel::validate {
namespace {

constexpr int kReference = 0, kBackend = 1;
struct Abandoned {};  // thrown out of a run's estimate call when the other run has stopped

// The two runs' meeting point after every iteration. Each side calls arrive() with its estimate and
// returns once both have arrived (the error is taken then, while both estimates are unchanged), or
// throws Abandoned when the other side has stopped and will never arrive.
class Meeting {
public:
    void arrive(int side, const EstimateView& v) {
        std::unique_lock lock(mu_);
        arrived_[side] = true;
        if (left_[1 - side]) throw Abandoned{};
        at_[side] = &v;
        if (at_[1 - side]) {
            errors_.push_back(estimate_max_rel(*at_[kBackend], *at_[kReference]));
            at_[kReference] = at_[kBackend] = nullptr;
            ++round_;
            cv_.notify_all();
            return;
        }
        cv_.notify_all();  // wakes wait_started()
        const long round = round_;
        cv_.wait(lock, [&] { return round_ != round || left_[1 - side]; });
        if (round_ == round) {
            at_[side] = nullptr;
            throw Abandoned{};
        }
    }
    // `side` calls arrive() no more: it returned or threw.
    void leave(int side) {
        std::lock_guard lock(mu_);
        left_[side] = true;
        cv_.notify_all();
    }
    // Until `side` has arrived once or left.
    void wait_started(int side) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return arrived_[side] || left_[side]; });
    }
    void wait_left(int side) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return left_[side]; });
    }
    std::vector<double> errors() {
        std::lock_guard lock(mu_);
        return errors_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    const EstimateView* at_[2] = {};
    bool arrived_[2] = {}, left_[2] = {};
    long round_ = 0;
    std::vector<double> errors_;
};

}  // namespace

double estimate_max_rel(const EstimateView& got, const EstimateView& ref) {
    if (got.rows != ref.rows || got.cols != ref.cols || got.iteration != ref.iteration) return NAN;
    double max_abs = 0, max_ref = 0;
    for (std::size_t p = 0, n = ref.rows * ref.cols; p < n; ++p) {
        const double a = got.at(p), b = ref.at(p);
        if (std::isnan(a) != std::isnan(b)) return NAN;
        if (!std::isfinite(a) || !std::isfinite(b)) continue;
        max_abs = std::max(max_abs, std::fabs(a - b));
        max_ref = std::max(max_ref, std::fabs(b));
    }
    return max_ref > 0 ? max_abs / max_ref : max_abs;
}

std::vector<double> iteration_errors(Backend& be, const Image<double>& img, const Image<double>& psf, int iterations, const StageOptions& so) {
    Meeting meeting;
    std::exception_ptr ref_error, be_error;
    // The reference's estimate call: meets the backend; after the last iteration it arrives no more (a
    // backend that would is abandoned) and keeps its FFTW plans until the backend has returned.
    const EstimateHook reference_arrives = [&](const EstimateView& v) {
        meeting.arrive(kReference, v);
        if (v.iteration < iterations) return;
        meeting.leave(kReference);
        meeting.wait_left(kBackend);
    };
    std::thread ref_run([&] {
        try {
            reference::deconvolve(img, psf, {.iterations = iterations, .on_estimate = reference_arrives});
        } catch (const Abandoned&) {
        } catch (...) { ref_error = std::current_exception(); }
        meeting.leave(kReference);
    });
    meeting.wait_started(kReference);
    bool be_abandoned = false;
    try {
        be.deconvolve(img, psf, {.iterations = iterations, .on_estimate = [&](const EstimateView& v) { meeting.arrive(kBackend, v); }}, so);
    } catch (const Abandoned&) { be_abandoned = true; } catch (...) {
        be_error = std::current_exception();
    }
    meeting.leave(kBackend);
    ref_run.join();
    if (be_error) std::rethrow_exception(be_error);
    if (ref_error) std::rethrow_exception(ref_error);
    std::vector<double> errors = meeting.errors();
    if (be_abandoned && errors.size() == std::size_t(iterations))
        throw Error(ErrorKind::internal, fmt::format("{}: reported more than {} estimates for {} iterations", be.name(), iterations, iterations));
    if (errors.size() != std::size_t(iterations))
        throw Error(ErrorKind::internal, fmt::format("{}: reported {} estimates for {} iterations", be.name(), errors.size(), iterations));
    return errors;
}

}  // namespace aiaccel::validate
