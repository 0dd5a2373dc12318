// Image<T>: owning, 64-byte-aligned, row-major 2-D array (memory from core/frame_pool: contents
// indeterminate unless a fill is given); ImageView<T>: non-owning strided view.
// Index as img(row, col) = img(y, x), matching numpy's arr[y, x] on the same data.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>

#include "core/frame_pool.hpp"

namespace aiaccel {

template <class T>
class ImageView {
public:
    ImageView() = default;
    ImageView(T* data, std::size_t rows, std::size_t cols, std::size_t stride) : data_(data), rows_(rows), cols_(cols), stride_(stride) {}
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t stride() const { return stride_; }  // elements between row starts
    T& operator()(std::size_t r, std::size_t c) const { return data_[r * stride_ + c]; }
    T* row(std::size_t r) const { return data_ + r * stride_; }
    // Sub-rectangle [r0, r0+nr) x [c0, c0+nc).
    ImageView sub(std::size_t r0, std::size_t c0, std::size_t nr, std::size_t nc) const {
        if (r0 + nr > rows_ || c0 + nc > cols_) throw std::out_of_range("ImageView::sub outside the image");
        return ImageView(data_ + r0 * stride_ + c0, nr, nc, stride_);
    }

private:
    T* data_ = nullptr;
    std::size_t rows_ = 0, cols_ = 0, stride_ = 0;
};

template <class T>
class Image {
public:
    static constexpr std::size_t alignment = kFrameAlignment;

    Image() = default;
    Image(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), data_(allocate(rows * cols)) {}
    Image(std::size_t rows, std::size_t cols, T fill) : Image(rows, cols) { std::fill_n(data_.get(), size(), fill); }
    Image(const Image& o) : Image(o.rows_, o.cols_) { std::copy_n(o.data(), size(), data()); }
    Image& operator=(const Image& o) {
        if (this != &o) {
            Image t(o);
            *this = std::move(t);
        }
        return *this;
    }
    Image(Image&&) noexcept = default;
    // Caller-owned memory seen as an Image (never freed by it), so the Python binding can hand a
    // numpy array to a stage without a copy. The memory must outlive the Image; it may be aligned
    // only to alignof(T): use borrowed Images only as stage inputs (const), which are read
    // element-wise into the stages' own aligned buffers.
    static Image borrow(T* data, std::size_t rows, std::size_t cols) {
        Image img;
        img.rows_ = rows;
        img.cols_ = cols;
        img.data_ = std::unique_ptr<T[], Free>(data, Free{0, false});
        return img;
    }
    Image& operator=(Image&&) noexcept = default;

    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    std::size_t size() const { return rows_ * cols_; }
    bool empty() const { return size() == 0; }
    T* data() { return data_.get(); }
    const T* data() const { return data_.get(); }
    T& operator()(std::size_t r, std::size_t c) { return data_[r * cols_ + c]; }
    const T& operator()(std::size_t r, std::size_t c) const { return data_[r * cols_ + c]; }
    T* row(std::size_t r) { return data() + r * cols_; }
    const T* row(std::size_t r) const { return data() + r * cols_; }
    std::span<T> pixels() { return {data(), size()}; }
    std::span<const T> pixels() const { return {data(), size()}; }
    ImageView<T> view() { return {data(), rows_, cols_, cols_}; }
    ImageView<const T> view() const { return {data(), rows_, cols_, cols_}; }

    template <class U>
    Image<U> cast() const {
        Image<U> out(rows_, cols_);
        std::transform(data(), data() + size(), out.data(), [](T v) { return static_cast<U>(v); });
        return out;
    }

private:
    struct Free {
        std::size_t bytes = 0;
        bool owned = true;
        void operator()(T* p) const noexcept {
            if (owned) frame_free(p, bytes);
        }
    };
    static std::unique_ptr<T[], Free> allocate(std::size_t n) {
        if (n == 0) return nullptr;
        return std::unique_ptr<T[], Free>(static_cast<T*>(frame_alloc(n * sizeof(T))), Free{n * sizeof(T), true});
    }
    std::size_t rows_ = 0, cols_ = 0;
    std::unique_ptr<T[], Free> data_;
};

}  // namespace aiaccel
