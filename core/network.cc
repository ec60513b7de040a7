#include "core/network.h"

#include <algorithm>
#include <cmath>

#include "core/blas.h"
#include "core/error.h"
#include "core/rng.h"

namespace dpmlp {

namespace {

template <typename T>
inline T Sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Hidden activation value a = f(z); the kind is a template argument so that the switch is
// resolved at compile time and the loops over a layer vectorise.
template <ActKind kind, typename T>
inline T Activate(T z, T k, T alpha) {
  switch (kind) {
    case ActKind::kSigmoid:
      return Sigmoid(k * z);
    case ActKind::kTanh:
      return std::tanh(z);
    case ActKind::kRelu:
      return z > T(0) ? z : T(0);
    case ActKind::kLeakyRelu:
      return z > T(0) ? z : alpha * z;
    case ActKind::kElu:
      return z > T(0) ? z : alpha * (std::exp(z) - T(1));
    case ActKind::kIdentity:
    case ActKind::kMaxout:
      return z;
  }
  return z;
}

// f'(z) expressed through a = f(z), so backward needs no second copy of z.
template <ActKind kind, typename T>
inline T DerivFromOutput(T a, T k, T alpha) {
  switch (kind) {
    case ActKind::kSigmoid:
      return k * a * (T(1) - a);
    case ActKind::kTanh:
      return T(1) - a * a;
    case ActKind::kRelu:
      return a > T(0) ? T(1) : T(0);
    case ActKind::kLeakyRelu:
      return a > T(0) ? T(1) : alpha;
    case ActKind::kElu:
      return a > T(0) ? T(1) : a + alpha;
    case ActKind::kIdentity:
    case ActKind::kMaxout:
      return T(1);
  }
  return T(1);
}

// z += b and a = f(z) over rows x width, in one pass.
template <ActKind kind, typename T>
void BiasActivate(T* z, T* a, const T* b, int rows, int width, T k, T alpha) {
  for (int r = 0; r < rows; ++r) {
    T* __restrict zr = z + static_cast<size_t>(r) * width;
    T* __restrict ar = a + static_cast<size_t>(r) * width;
    for (int j = 0; j < width; ++j) {
      const T v = zr[j] + b[j];
      zr[j] = v;
      ar[j] = Activate<kind>(v, k, alpha);
    }
  }
}

// da *= f'(.) through a = f(z), over n values.
template <ActKind kind, typename T>
void MultiplyDerivative(T* __restrict da, const T* __restrict a, size_t n, T k, T alpha) {
  for (size_t i = 0; i < n; ++i) da[i] *= DerivFromOutput<kind>(a[i], k, alpha);
}

// Calls F<kind>() for the runtime activation kind (maxout is handled by the callers).
#define DPMLP_DISPATCH_ACTIVATION(kind, F, ...) \
  switch (kind) {                               \
    case ActKind::kSigmoid:                     \
      F<ActKind::kSigmoid>(__VA_ARGS__);        \
      break;                                    \
    case ActKind::kTanh:                        \
      F<ActKind::kTanh>(__VA_ARGS__);           \
      break;                                    \
    case ActKind::kRelu:                        \
      F<ActKind::kRelu>(__VA_ARGS__);           \
      break;                                    \
    case ActKind::kLeakyRelu:                   \
      F<ActKind::kLeakyRelu>(__VA_ARGS__);      \
      break;                                    \
    case ActKind::kElu:                         \
      F<ActKind::kElu>(__VA_ARGS__);            \
      break;                                    \
    case ActKind::kIdentity:                    \
    case ActKind::kMaxout:                      \
      F<ActKind::kIdentity>(__VA_ARGS__);       \
      break;                                    \
  }

}  // namespace

template <typename T>
Network<T>::Network(const ModelSpec& spec, int max_rows)
    : spec_(spec), layout_(spec), max_rows_(std::max(1, max_rows)) {
  spec_.Validate();
  params_.assign(layout_.size(), T(0));
  const int L = spec_.num_layers();
  z_buf_.resize(L);
  a_buf_.resize(L);
  mask_buf_.resize(L);
  drop_buf_.resize(L);
  d_buf_.resize(L);
  argmax_.resize(L);
  size_t widest = 0;
  for (int l = 0; l < L; ++l) {
    const LayerSlot& s = layout_.layers()[l];
    const size_t rows = static_cast<size_t>(max_rows_);
    z_buf_[l].assign(rows * s.pre, T(0));
    a_buf_[l].assign(rows * s.out, T(0));
    d_buf_[l].assign(rows * s.pre, T(0));
    if (s.pre != s.out) argmax_[l].assign(rows * s.out, 0);
    if (l + 1 < L) {
      mask_buf_[l].assign(rows * s.out, T(0));
      drop_buf_[l].assign(rows * s.out, T(0));
    }
    widest = std::max(widest, rows * s.out);
    z_.push_back(z_buf_[l].data());
    a_.push_back(a_buf_[l].data());
    d_.push_back(d_buf_[l].data());
    next_input_.push_back(a_buf_[l].data());
  }
  scratch_.assign(widest, T(0));
}

template <typename T>
void Network<T>::ActivateHidden(int l, int rows) {
  const LayerSlot& s = layout_.layers()[l];
  const T* b = params_.data() + s.bias_offset;
  const T k = T(spec_.sigmoid_k), alpha = T(spec_.alpha);
  T* z = z_[l];
  T* a = a_[l];
  if (spec_.activation == ActKind::kMaxout) {
    const int pieces = spec_.maxout_pieces;
    int32_t* arg = argmax_[l].data();
    for (int r = 0; r < rows; ++r) {
      T* zr = z + static_cast<size_t>(r) * s.pre;
      for (int u = 0; u < s.out; ++u) {
        int best = 0;
        T best_v = zr[u * pieces] + b[u * pieces];
        zr[u * pieces] = best_v;
        for (int p = 1; p < pieces; ++p) {
          const T v = zr[u * pieces + p] + b[u * pieces + p];
          zr[u * pieces + p] = v;
          if (v > best_v) best_v = v, best = p;
        }
        a[static_cast<size_t>(r) * s.out + u] = best_v;
        arg[static_cast<size_t>(r) * s.out + u] = best;
      }
    }
    return;
  }
  DPMLP_DISPATCH_ACTIVATION(spec_.activation, BiasActivate, z, a, b, rows, s.pre, k, alpha);
}

template <typename T>
void Network<T>::Forward(const T* x, int rows, const DropoutSpec* dropout) {
  if (rows > max_rows_) throw InternalError("Forward: batch larger than the buffers");
  const int L = spec_.num_layers();
  dropout_active_ = dropout != nullptr && dropout->p > 0.0;
  const T* in = x;
  for (int l = 0; l < L; ++l) {
    const LayerSlot& s = layout_.layers()[l];
    const T* w = params_.data() + s.weight_offset;
    if (rows > 0) Gemm(false, true, rows, s.pre, s.in, T(1), in, s.in, w, s.in, T(0), z_[l], s.pre);
    if (l + 1 < L) {
      ActivateHidden(l, rows);
      next_input_[l] = a_[l];
      if (dropout_active_) {
        // Inverted dropout: kept units are scaled by 1/(1-p) so evaluation needs no change.
        const T keep_scale = T(1.0 / (1.0 - dropout->p));
        const float p = static_cast<float>(dropout->p);
        for (int r = 0; r < rows; ++r) {
          const uint64_t id = dropout->sample_ids[r];
          for (int u = 0; u < s.out; ++u) {
            const size_t i = static_cast<size_t>(r) * s.out + u;
            const uint64_t h = HashKey(dropout->seed, RngPurpose::kDropout, dropout->step, id,
                                       (static_cast<uint64_t>(l) << 32) | static_cast<uint64_t>(u));
            const T m = UniformFromHash(h) < p ? T(0) : keep_scale;
            mask_buf_[l][i] = m;
            drop_buf_[l][i] = a_[l][i] * m;
          }
        }
        next_input_[l] = drop_buf_[l].data();
      }
      in = next_input_[l];
    } else {
      // Output layer: bias plus the output activation (softmax via max-shifted exponentials).
      const T* b = params_.data() + s.bias_offset;
      for (int r = 0; r < rows; ++r) {
        T* zr = z_[l] + static_cast<size_t>(r) * s.pre;
        T* ar = a_[l] + static_cast<size_t>(r) * s.out;
        for (int j = 0; j < s.pre; ++j) zr[j] += b[j];
        switch (spec_.output) {
          case OutputKind::kSoftmax: {
            const T m = *std::max_element(zr, zr + s.pre);
            T sum = 0;
            for (int j = 0; j < s.pre; ++j) sum += (ar[j] = std::exp(zr[j] - m));
            const T inv = T(1) / sum;
            for (int j = 0; j < s.pre; ++j) ar[j] *= inv;
            break;
          }
          case OutputKind::kSigmoid:
            for (int j = 0; j < s.pre; ++j) ar[j] = Sigmoid(zr[j]);
            break;
          case OutputKind::kIdentity:
            std::copy(zr, zr + s.pre, ar);
            break;
        }
      }
    }
  }
}

template <typename T>
BatchStats Network<T>::Loss(int rows, const int32_t* labels, const T* targets, bool want_grad,
                            double label_smoothing) {
  const int l = spec_.num_layers() - 1;
  const int n = spec_.output_dim;
  const T* z = z_[l];
  const T* a = a_[l];
  T* d = d_[l];
  BatchStats st;
  st.count = rows;
  // Smoothing needs a class distribution: softmax outputs and labels.
  const double smooth = labels && n > 1 ? label_smoothing : 0.0;
  for (int r = 0; r < rows; ++r) {
    const T* zr = z + static_cast<size_t>(r) * n;
    const T* ar = a + static_cast<size_t>(r) * n;
    T* dr = d + static_cast<size_t>(r) * n;
    const int label = labels ? labels[r] : -1;
    // The target of output j: a regression value, or the one-hot (or single binary) class.
    auto target = [&](int j) -> T {
      if (targets) return targets[static_cast<size_t>(r) * n + j];
      if (n == 1) return T(label == 1 ? 1 : 0);
      return T(j == label ? 1 : 0);
    };
    double loss = 0.0, sq = 0.0;
    switch (spec_.loss) {
      case LossKind::kCrossEntropy: {
        // -log softmax(z)_y by log-sum-exp, exact even when the probability underflows.
        const T m = *std::max_element(zr, zr + n);
        double sum = 0.0;
        for (int j = 0; j < n; ++j) sum += std::exp(double(zr[j] - m));
        if (labels && smooth > 0) {
          // -sum_j t_j log p_j with t = (1-e) one_hot + e/n, and sum_j t_j = 1.
          double zsum = 0.0;
          for (int j = 0; j < n; ++j) zsum += double(zr[j] - m);
          loss = std::log(sum) - (1.0 - smooth) * double(zr[label] - m) - smooth / n * zsum;
        } else if (labels) {
          loss = std::log(sum) - double(zr[label] - m);
        } else {
          for (int j = 0; j < n; ++j)
            loss -= double(target(j)) * (double(zr[j] - m) - std::log(sum));
        }
        if (want_grad)
          for (int j = 0; j < n; ++j)
            dr[j] = ar[j] - (labels && smooth > 0
                                 ? T((1.0 - smooth) * (j == label ? 1 : 0) + smooth / n)
                                 : target(j));
        break;
      }
      case LossKind::kBinaryCrossEntropy:
        for (int j = 0; j < n; ++j) {
          // max(z,0) - z y + log(1 + e^-|z|): the stable form of -[y log a + (1-y) log(1-a)].
          const double zj = zr[j], y = target(j);
          loss += std::max(zj, 0.0) - zj * y + std::log1p(std::exp(-std::fabs(zj)));
          if (want_grad) dr[j] = ar[j] - T(y);
        }
        break;
      case LossKind::kMse:
        for (int j = 0; j < n; ++j) {
          const T e = ar[j] - target(j);
          loss += double(e) * double(e) / n;
          if (want_grad) {
            T g = T(2) * e / T(n);
            if (spec_.output == OutputKind::kSigmoid) g *= ar[j] * (T(1) - ar[j]);
            dr[j] = g;
          }
        }
        break;
    }
    for (int j = 0; j < n; ++j) {
      const double e = double(ar[j]) - double(target(j));
      sq += e * e;
    }
    st.loss_sum += loss;
    st.sq_error_sum += sq;
    if (labels) {
      const int pred =
          n == 1 ? (ar[0] > T(0.5) ? 1 : 0) : static_cast<int>(std::max_element(ar, ar + n) - ar);
      st.correct += pred == label ? 1.0 : 0.0;
    }
  }
  return st;
}

template <typename T>
void Network<T>::ActivationGrad(int l, int rows) {
  const LayerSlot& s = layout_.layers()[l];
  const T k = T(spec_.sigmoid_k), alpha = T(spec_.alpha);
  const size_t n = static_cast<size_t>(rows) * s.out;
  T* da = spec_.activation == ActKind::kMaxout ? scratch_.data() : d_[l];
  if (dropout_active_) {
    const T* m = mask_buf_[l].data();
    for (size_t i = 0; i < n; ++i) da[i] *= m[i];
  }
  if (spec_.activation == ActKind::kMaxout) {
    // Only the winning piece of each unit receives the gradient.
    const int pieces = spec_.maxout_pieces;
    std::fill(d_[l], d_[l] + static_cast<size_t>(rows) * s.pre, T(0));
    const int32_t* arg = argmax_[l].data();
    for (size_t i = 0; i < n; ++i) {
      const size_t r = i / s.out, u = i % s.out;
      d_[l][r * s.pre + u * pieces + arg[i]] = da[i];
    }
    return;
  }
  DPMLP_DISPATCH_ACTIVATION(spec_.activation, MultiplyDerivative, da, a_[l], n, k, alpha);
}

template <typename T>
void Network<T>::Backward(const T* x, int rows, T* grads, GradientSink* sink, size_t chunk) {
  // With no rows the gradient is zero, but the spans are the same as with rows: every rank must
  // report the same spans, or a rank with an empty shard would start different allreduces.
  const bool empty = rows <= 0;
  if (empty) std::fill(grads, grads + layout_.size(), T(0));
  for (int l = spec_.num_layers() - 1; l >= 0; --l) {
    const LayerSlot& s = layout_.layers()[l];
    const T* in = l == 0 ? x : next_input_[l - 1];
    T* dw = grads + s.weight_offset;
    T* db = grads + s.bias_offset;
    const T* d = d_[l];
    if (!empty) {
      // db = column sums of d.
      std::fill(db, db + s.pre, T(0));
      for (int r = 0; r < rows; ++r) {
        const T* dr = d + static_cast<size_t>(r) * s.pre;
        for (int j = 0; j < s.pre; ++j) db[j] += dr[j];
      }
    }
    // dW (pre x in) = d^T (pre x rows) * in (rows x in), in blocks of rows [j0, j1) from the
    // last block down; the last block's span also holds the bias.
    const size_t weights = static_cast<size_t>(s.pre) * s.in;
    const int block = sink && chunk > 0 && weights > chunk
                          ? std::max<int>(1, static_cast<int>(chunk / s.in))
                          : s.pre;
    size_t span_end = s.bias_offset + s.pre;
    for (int j1 = s.pre; j1 > 0;) {
      const int j0 = std::max(0, j1 - block);
      if (!empty)
        Gemm(true, false, j1 - j0, s.in, rows, T(1), d + j0, s.pre, in, s.in, T(0),
             dw + static_cast<size_t>(j0) * s.in, s.in);
      const size_t span_begin = s.weight_offset + static_cast<size_t>(j0) * s.in;
      if (sink) sink->Ready(span_begin, span_end);
      span_end = span_begin;
      j1 = j0;
    }
    if (l == 0 || empty) continue;  // the input needs no gradient
    // dC/da of the layer below (rows x in) = d (rows x pre) * W (pre x in).
    const T* w = params_.data() + s.weight_offset;
    T* da = spec_.activation == ActKind::kMaxout ? scratch_.data() : d_[l - 1];
    Gemm(false, false, rows, s.in, s.pre, T(1), d, s.pre, w, s.in, T(0), da, s.in);
    ActivationGrad(l - 1, rows);
  }
}

template class Network<float>;
template class Network<double>;

}  // namespace dpmlp
