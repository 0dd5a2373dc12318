// The frame-buffer pool (core/frame_pool.hpp).
#include "core/frame_pool.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>

namespace aiaccel {
namespace {

void advise_huge_pages(void* p, std::size_t bytes) {
    constexpr std::uintptr_t page = 4096;
    const auto b = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto e = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(page - 1);
    if (e > b) (void)madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);  // advisory: failures ignored
}

void release(void* p) { ::operator delete(p, std::align_val_t(kFrameAlignment)); }

struct Pool {
    std::mutex m;
    std::multimap<std::size_t, void*> blocks;  // size → free block
    std::size_t cached = 0, hits = 0, misses = 0;
    const std::size_t cap = [] {
        const char* e = std::getenv("AIACCEL_FRAME_POOL_MIB");
        const long mib = e && *e ? std::strtol(e, nullptr, 10) : 1536;
        return mib > 0 ? static_cast<std::size_t>(mib) << 20 : std::size_t{0};
    }();
    // Frees pooled blocks, largest first, until `need` more bytes fit under the cap. Caller holds m.
    void make_room(std::size_t need) {
        while (!blocks.empty() && cached + need > cap) {
            auto last = std::prev(blocks.end());
            cached -= last->first;
            release(last->second);
            blocks.erase(last);
        }
    }
};
Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: Images freed during static destruction still find it
    return *p;
}

}  // namespace

void* frame_alloc(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    if (bytes < kFramePoolMinBytes) return ::operator new(bytes, std::align_val_t(kFrameAlignment));
    Pool& pl = pool();
    if (pl.cap) {
        std::lock_guard lock(pl.m);
        if (auto it = pl.blocks.find(bytes); it != pl.blocks.end()) {
            void* p = it->second;
            pl.blocks.erase(it);
            pl.cached -= bytes;
            ++pl.hits;
            return p;
        }
        ++pl.misses;
        pl.make_room(bytes);  // what is pooled is of other sizes: keep resident memory ≤ live + cap
    }
    void* p = ::operator new(bytes, std::align_val_t(kFrameAlignment));
    advise_huge_pages(p, bytes);
    return p;
}

void frame_free(void* p, std::size_t bytes) noexcept {
    if (!p) return;
    Pool& pl = pool();
    if (bytes >= kFramePoolMinBytes && pl.cap && bytes <= pl.cap) {
        std::lock_guard lock(pl.m);
        pl.make_room(bytes);
        pl.blocks.emplace(bytes, p);
        pl.cached += bytes;
        return;
    }
    release(p);
}

FramePoolStats frame_pool_stats() {
    Pool& pl = pool();
    std::lock_guard lock(pl.m);
    return {pl.cached, pl.cap, pl.hits, pl.misses};
}

void frame_pool_release() {
    Pool& pl = pool();
    std::lock_guard lock(pl.m);
    pl.make_room(pl.cap + 1);
}

}  // namespace aiaccel
