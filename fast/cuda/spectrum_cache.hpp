// The policy of the CUDA backend's resident PSF transforms (H = FFT(rolled PSF)/(rows·cols)): a
// small least-recently-used cache keyed by SpectrumKey (shape, precision, content hash), bounded by
// entry count and by bytes, so that one PSF per channel stays on the device while a batch of that
// channel is deconvolved and the oldest one goes when another channel's PSF needs the room.
// Header-only and independent of CUDA: Value is a device buffer in the backend, a plain struct in
// tests/test_cuda_host.cpp. Not thread-safe: the owner locks.
#pragma once

#include <cstddef>
#include <list>
#include <utility>

#include "fast/cuda/cuda_host.hpp"

namespace aiaccel::cuda {

template <class Value>
class SpectrumCache {
public:
    SpectrumCache(std::size_t max_entries, std::size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

    // The value for key, now the most recently used; nullptr when absent.
    Value* find(const SpectrumKey& key) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (it->key == key) {
                entries_.splice(entries_.begin(), entries_, it);
                ++hits_;
                return &entries_.front().value;
            }
        ++misses_;
        return nullptr;
    }
    // Room for `bytes` more: evicts least recently used entries until the bounds hold with one more
    // entry of that size. Call before allocating the new value (frees device memory first).
    void make_room(std::size_t bytes) {
        while (!entries_.empty() && (entries_.size() + 1 > max_entries_ || bytes_ + bytes > max_bytes_)) evict_last();
    }
    // Inserts (as most recently used) and returns the stored value. An entry larger than max_bytes is
    // still kept (the only one): the stage that made it needs it now.
    Value& insert(const SpectrumKey& key, Value value, std::size_t bytes) {
        make_room(bytes);
        entries_.push_front(Entry{key, std::move(value), bytes});
        bytes_ += bytes;
        return entries_.front().value;
    }
    void clear() {
        entries_.clear();
        bytes_ = 0;
    }
    std::size_t size() const { return entries_.size(); }
    std::size_t bytes() const { return bytes_; }
    std::size_t hits() const { return hits_; }
    std::size_t misses() const { return misses_; }
    std::size_t evictions() const { return evictions_; }

private:
    struct Entry {
        SpectrumKey key;
        Value value;
        std::size_t bytes;
    };
    void evict_last() {
        bytes_ -= entries_.back().bytes;
        entries_.pop_back();
        ++evictions_;
    }
    std::list<Entry> entries_;
    std::size_t max_entries_, max_bytes_, bytes_ = 0, hits_ = 0, misses_ = 0, evictions_ = 0;
};

}  // namespace aiaccel::cuda
