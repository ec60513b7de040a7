// A data set's feature (or target) array: either owned (a std::vector) or a read-only view into
// memory someone else keeps alive, such as a memory-mapped input file. Ranks on one host that map
// the same file then share its pages in the page cache instead of each holding a private copy.
// Reads never copy. The first write to a view copies it into owned memory (copy on write), so
// code that fills or edits a buffer needs no special case.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

namespace dpmlp {

template <class T>
class FeatureBuffer {
 public:
  FeatureBuffer() = default;
  FeatureBuffer(std::vector<T> v) : owned_(std::move(v)) {}  // NOLINT: implicit by design
  FeatureBuffer(std::initializer_list<T> v) : owned_(v) {}
  FeatureBuffer& operator=(std::vector<T> v) {
    Drop();
    owned_ = std::move(v);
    return *this;
  }
  FeatureBuffer& operator=(std::initializer_list<T> v) { return *this = std::vector<T>(v); }

  // A view of n elements at p; `keep` holds whatever keeps p valid (e.g. a mapping).
  static FeatureBuffer View(std::shared_ptr<const void> keep, const T* p, size_t n) {
    FeatureBuffer b;
    b.keep_ = std::move(keep);
    b.view_ = p;
    b.view_size_ = n;
    return b;
  }
  bool is_view() const { return view_ != nullptr; }

  size_t size() const { return view_ ? view_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  const T* data() const { return view_ ? view_ : owned_.data(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  const T& operator[](size_t i) const { return data()[i]; }
  const T& front() const { return data()[0]; }
  const T& back() const { return data()[size() - 1]; }

  // Writers: each makes the buffer owned first.
  T* data() { return Own().data(); }
  T* begin() { return data(); }
  T* end() { return data() + size(); }
  T& operator[](size_t i) { return Own()[i]; }
  void resize(size_t n) { Own().resize(n); }
  void reserve(size_t n) { Own().reserve(n); }
  void push_back(const T& v) { Own().push_back(v); }
  void append(const T* p, size_t n) { Own().insert(Own().end(), p, p + n); }

  bool operator==(const FeatureBuffer& o) const { return Equal(o.data(), o.size()); }
  bool operator==(const std::vector<T>& o) const { return Equal(o.data(), o.size()); }
  bool operator!=(const FeatureBuffer& o) const { return !(*this == o); }

 private:
  std::vector<T>& Own() {
    if (view_) {
      std::vector<T> copy(view_, view_ + view_size_);
      Drop();
      owned_ = std::move(copy);
    }
    return owned_;
  }
  void Drop() {
    view_ = nullptr;
    view_size_ = 0;
    keep_.reset();
  }
  bool Equal(const T* p, size_t n) const {
    if (n != size()) return false;
    const T* a = data();
    for (size_t i = 0; i < n; ++i)
      if (!(a[i] == p[i])) return false;
    return true;
  }

  std::vector<T> owned_;
  std::shared_ptr<const void> keep_;
  const T* view_ = nullptr;
  size_t view_size_ = 0;
};

}  // namespace dpmlp
