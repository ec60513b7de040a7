// The ONNX graph of a model, built with the protobuf classes of Debian's libonnx-dev (onnx 1.12).
// Layout: Sub(input_shift), Mul(input_scale), then per layer Gemm(W: pre x in, transB=1) and the
// hidden activation; maxout is Gemm to out*K, Reshape [N, out, K] (a unit's K pieces are adjacent
// rows of W, as in core/network.cc), ReduceMax over K; the last layer ends in the output
// activation.
#include "launcher/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/network.h"

namespace dpmlp {

namespace {

constexpr int64_t kIrVersion = 8;  // onnx 1.12
constexpr int64_t kOpset = 17;

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* g) : g_(g) {}

  // A float initializer of the given shape (empty: a scalar).
  std::string Constant(const std::string& name, const std::vector<int64_t>& shape,
                       const float* data, size_t count) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->mutable_float_data()->Add(data, data + count);
    return name;
  }
  std::string Int64s(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return name;
  }
  // Adds a node; returns its one output (named `out`, or a fresh name when empty).
  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        std::string out = "") {
    if (out.empty()) out = "t" + std::to_string(++count_) + "_" + op;
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g_->node_size()));
    for (const std::string& i : inputs) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void Float(onnx::NodeProto* n, const char* name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void Int(onnx::NodeProto* n, const char* name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void Ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  // A float tensor [N, width] with a symbolic batch dimension.
  static void BatchTensor(onnx::ValueInfoProto* v, const std::string& name, int64_t width) {
    v->set_name(name);
    onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("N");
    t->mutable_shape()->add_dim()->set_dim_value(width);
  }

 private:
  onnx::GraphProto* g_;
  int count_ = 0;
};

// The hidden activation of layer l applied to z (the Gemm output); returns the activation.
std::string Activation(GraphBuilder& b, const ModelSpec& s, int l, const std::string& z) {
  const std::string layer = "layer" + std::to_string(l + 1);
  switch (s.activation) {
    case ActKind::kSigmoid: {
      const std::string k = b.Constant(layer + ".sigmoid_k", {}, &s.sigmoid_k, 1);
      return b.Node("Sigmoid", {b.Node("Mul", {z, k})->output(0)})->output(0);
    }
    case ActKind::kTanh:
      return b.Node("Tanh", {z})->output(0);
    case ActKind::kRelu:
      return b.Node("Relu", {z})->output(0);
    case ActKind::kLeakyRelu: {
      onnx::NodeProto* n = b.Node("LeakyRelu", {z});
      GraphBuilder::Float(n, "alpha", s.alpha);
      return n->output(0);
    }
    case ActKind::kElu: {
      onnx::NodeProto* n = b.Node("Elu", {z});
      GraphBuilder::Float(n, "alpha", s.alpha);
      return n->output(0);
    }
    case ActKind::kMaxout: {
      // Reshape's 0 copies the batch dimension; ReduceMax takes axes as an attribute in opset 17.
      const std::string shape =
          b.Int64s(layer + ".maxout_shape", {0, s.out_dim(l), s.maxout_pieces});
      onnx::NodeProto* n = b.Node("ReduceMax", {b.Node("Reshape", {z, shape})->output(0)});
      GraphBuilder::Ints(n, "axes", {2});
      GraphBuilder::Int(n, "keepdims", 0);
      return n->output(0);
    }
    case ActKind::kIdentity:
      return z;
  }
  throw InternalError("onnx export: unknown activation");
}

}  // namespace

std::string OnnxModelBytes(const ModelData& m) {
  const ModelSpec& s = m.spec;
  const ParamLayout layout(s);
  const size_t dim = static_cast<size_t>(s.input_dim);
  if (m.transform.shift.size() != dim || m.transform.scale.size() != dim)
    throw InternalError("onnx export: the input normalisation does not match the input width");

  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("dpmlp");
  model.set_producer_version(DPMLP_VERSION);
  model.set_doc_string(std::string("dpmlp MLP: ") + Name(s.activation) + " hidden, " +
                       Name(s.output) + " output; raw inputs, normalised inside the graph");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("dpmlp");
  GraphBuilder b(g);
  GraphBuilder::BatchTensor(g->add_input(), "input", s.input_dim);
  GraphBuilder::BatchTensor(g->add_output(), "output", s.output_dim);

  // x' = (x - shift) * scale, in the same float arithmetic as predict.
  const std::vector<int64_t> feature_shape = {s.input_dim};
  const std::string shift = b.Constant("input_shift", feature_shape, m.transform.shift.data(), dim);
  const std::string scale = b.Constant("input_scale", feature_shape, m.transform.scale.data(), dim);
  std::string h = b.Node("Mul", {b.Node("Sub", {"input", shift})->output(0), scale})->output(0);

  const int last = s.num_layers() - 1;
  for (int l = 0; l <= last; ++l) {
    const LayerSlot& slot = layout.layers()[l];
    const std::string w =
        b.Constant(ParamLayout::WeightName(l), {slot.pre, slot.in},
                   m.params.data() + slot.weight_offset, static_cast<size_t>(slot.pre) * slot.in);
    const std::string bias = b.Constant(ParamLayout::BiasName(l), {slot.pre},
                                        m.params.data() + slot.bias_offset, slot.pre);
    const bool plain_output = l == last && s.output == OutputKind::kIdentity;
    onnx::NodeProto* gemm = b.Node("Gemm", {h, w, bias}, plain_output ? "output" : "");
    GraphBuilder::Int(gemm, "transB", 1);
    h = gemm->output(0);
    if (l < last) {
      h = Activation(b, s, l, h);
    } else if (s.output == OutputKind::kSoftmax) {
      GraphBuilder::Int(b.Node("Softmax", {h}, "output"), "axis", 1);
    } else if (s.output == OutputKind::kSigmoid) {
      b.Node("Sigmoid", {h}, "output");
    }
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw InternalError("onnx export: serialisation failed");
  return bytes;
}

}  // namespace dpmlp
