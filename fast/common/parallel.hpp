// Tiny static-partition parallel_for for the fast CPU backend's pointwise passes, PSF rows and
// register bands, run on one persistent thread pool (threads are started once, on first need, and
// reused: a 25-iteration Richardson–Lucy makes ~100 calls). Each index range is split into `threads`
// contiguous blocks, so the work done per element (and any per-block reduction order) depends only
// on the thread count, never on scheduling or on which thread runs a block.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace aiaccel::cpu {

// Threads to use for `requested` (0 = hardware concurrency, at least 1).
inline int resolve_threads(int requested) {
    if (requested > 0) return requested;
    const unsigned hc = std::thread::hardware_concurrency();
    return hc ? static_cast<int>(hc) : 1;
}

namespace detail {

// Worker threads that run the blocks of posted batches. The caller of run() runs block 0 itself and
// then claims any blocks no worker has taken yet, so a batch finishes even when every worker is busy
// (a nested call from inside a block, or several callers at once): no deadlock, and the blocks are
// the same whoever runs them. The pool is never destroyed (its workers sleep until the process
// ends), so static destructors that still compute find it alive.
class ThreadPool {
public:
    using Fn = void (*)(void* ctx, std::size_t block);

    static ThreadPool& instance() {
        static ThreadPool* pool = new ThreadPool;
        return *pool;
    }

    // Runs fn(ctx, b) for every b in [0, blocks) (at least 2) and returns when all have finished;
    // the first exception thrown by a block is rethrown here after the others finished.
    void run(std::size_t blocks, Fn fn, void* ctx) {
        Batch batch{fn, ctx, blocks, 1, 0, nullptr};
        {
            std::lock_guard lock(m_);
            while (workers_.size() < blocks - 1) workers_.emplace_back([this] { work(); });
            queue_.push_back(&batch);
        }
        if (blocks == 2)
            work_cv_.notify_one();
        else
            work_cv_.notify_all();
        execute(batch, 0);
        std::unique_lock lock(m_);
        while (batch.next < batch.blocks) {  // blocks no worker has taken yet: run them here
            const std::size_t b = claim(batch);
            lock.unlock();
            execute(batch, b);
            lock.lock();
        }
        done_cv_.wait(lock, [&] { return batch.done == batch.blocks; });
        if (batch.error) std::rethrow_exception(batch.error);
    }

private:
    struct Batch {
        Fn fn;
        void* ctx;
        std::size_t blocks;
        std::size_t next = 1;  // block 0 is the caller's
        std::size_t done = 0;
        std::exception_ptr error;
    };

    ThreadPool() = default;

    // With the lock held: the batch's next unclaimed block; a fully claimed batch leaves the queue.
    std::size_t claim(Batch& batch) {
        const std::size_t b = batch.next++;
        if (batch.next == batch.blocks) queue_.erase(std::find(queue_.begin(), queue_.end(), &batch));
        return b;
    }

    // Runs one block and counts it; the caller's stack frame holds `batch` until done == blocks,
    // and this thread touches it last under the lock.
    void execute(Batch& batch, std::size_t b) {
        std::exception_ptr error;
        try {
            batch.fn(batch.ctx, b);
        } catch (...) { error = std::current_exception(); }
        std::lock_guard lock(m_);
        if (error && !batch.error) batch.error = error;
        if (++batch.done == batch.blocks) done_cv_.notify_all();
    }

    void work() {
        std::unique_lock lock(m_);
        for (;;) {
            work_cv_.wait(lock, [&] { return !queue_.empty(); });
            Batch& batch = *queue_.front();
            const std::size_t b = claim(batch);
            lock.unlock();
            execute(batch, b);
            lock.lock();
        }
    }

    std::mutex m_;
    std::condition_variable work_cv_, done_cv_;
    std::deque<Batch*> queue_;
    std::vector<std::thread> workers_;
};

}  // namespace detail

// Calls f(begin, end, block) on `threads` contiguous blocks of [0, n); block 0 runs on the caller,
// the others on the persistent pool.
template <class F>
void parallel_for(std::size_t n, int threads, F&& f) {
    const std::size_t t = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), n));
    if (t == 1) {
        f(std::size_t{0}, n, std::size_t{0});
        return;
    }
    struct Ctx {
        std::remove_reference_t<F>* f;
        std::size_t n, t;
    } ctx{&f, n, t};
    detail::ThreadPool::instance().run(
        t,
        [](void* p, std::size_t b) {
            const Ctx& c = *static_cast<const Ctx*>(p);
            (*c.f)(c.n * b / c.t, c.n * (b + 1) / c.t, b);
        },
        &ctx);
}

}  // namespace aiaccel::cpu
