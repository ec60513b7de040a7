#include "proto/model_codec.h"

#include <cmath>
#include <ctime>

#include "core/error.h"
#include "core/network.h"
#include "proto/framed_file.h"

namespace dpmlp {

pb::ModelSpec SpecToProto(const ModelSpec& s) {
  pb::ModelSpec p;
  p.set_input_dim(s.input_dim);
  for (int h : s.hidden) p.add_hidden(h);
  p.set_output_dim(s.output_dim);
  p.set_activation(Name(s.activation));
  p.set_sigmoid_k(s.sigmoid_k);
  p.set_alpha(s.alpha);
  p.set_maxout_pieces(s.maxout_pieces);
  p.set_output(Name(s.output));
  p.set_loss(Name(s.loss));
  p.set_init(Name(s.init));
  return p;
}

ModelSpec SpecFromProto(const pb::ModelSpec& p, const std::string& source) {
  try {
    ModelSpec s;
    s.input_dim = p.input_dim();
    s.hidden.assign(p.hidden().begin(), p.hidden().end());
    s.output_dim = p.output_dim();
    s.activation = ParseActivation(p.activation(), "activation");
    s.sigmoid_k = p.sigmoid_k();
    s.alpha = p.alpha();
    s.maxout_pieces = p.maxout_pieces();
    s.output = ParseOutput(p.output(), "output");
    s.loss = ParseLoss(p.loss(), "loss");
    s.init = ParseInit(p.init(), "init");
    s.Validate();
    return s;
  } catch (const Error& e) {
    throw UsageError(source + ": bad model spec: " + e.what());
  }
}

void FlatToTensors(const ModelSpec& spec, const std::vector<float>& flat,
                   google::protobuf::RepeatedPtrField<pb::Tensor>* out) {
  ParamLayout layout(spec);
  out->Clear();
  for (size_t l = 0; l < layout.layers().size(); ++l) {
    const LayerSlot& s = layout.layers()[l];
    pb::Tensor* w = out->Add();
    w->set_name(ParamLayout::WeightName(l));
    w->add_shape(s.pre);
    w->add_shape(s.in);
    w->mutable_data()->Add(flat.begin() + s.weight_offset, flat.begin() + s.bias_offset);
    pb::Tensor* b = out->Add();
    b->set_name(ParamLayout::BiasName(l));
    b->add_shape(s.pre);
    b->mutable_data()->Add(flat.begin() + s.bias_offset, flat.begin() + s.bias_offset + s.pre);
  }
}

std::vector<float> TensorsToFlat(const ModelSpec& spec,
                                 const google::protobuf::RepeatedPtrField<pb::Tensor>& tensors,
                                 const std::string& source) {
  ParamLayout layout(spec);
  if (tensors.size() != 2 * static_cast<int>(layout.layers().size()))
    throw UsageError(source + ": expected " + std::to_string(2 * layout.layers().size()) +
                     " parameter tensors for the model spec, found " +
                     std::to_string(tensors.size()));
  struct Expected {
    const pb::Tensor* t;
    std::string name;
    std::vector<int64_t> shape;
    size_t offset, count;
  };
  std::vector<Expected> expect;
  for (size_t l = 0; l < layout.layers().size(); ++l) {
    const LayerSlot& s = layout.layers()[l];
    expect.push_back({&tensors[2 * l],
                      ParamLayout::WeightName(l),
                      {s.pre, s.in},
                      s.weight_offset,
                      size_t(s.pre) * s.in});
    expect.push_back(
        {&tensors[2 * l + 1], ParamLayout::BiasName(l), {s.pre}, s.bias_offset, size_t(s.pre)});
  }
  // Every name, shape and size is checked against the data actually in the file before the flat
  // buffer is allocated, so a spec that declares a huge model cannot make us allocate it.
  for (const Expected& e : expect) {
    const std::vector<int64_t> shape(e.t->shape().begin(), e.t->shape().end());
    if (e.t->name() != e.name || shape != e.shape)
      throw UsageError(source + ": tensor '" + e.t->name() +
                       "' does not match the model spec (expected " + e.name + ")");
    if (static_cast<size_t>(e.t->data_size()) != e.count)
      throw UsageError(source + ": tensor " + e.name + " holds " +
                       std::to_string(e.t->data_size()) + " values, its shape needs " +
                       std::to_string(e.count));
  }
  std::vector<float> flat(layout.size());
  for (const Expected& e : expect) {
    for (size_t i = 0; i < e.count; ++i) {
      const float v = e.t->data(static_cast<int>(i));
      if (!std::isfinite(v))
        throw UsageError(source + ": tensor " + e.name + " holds a non-finite value at " +
                         std::to_string(i));
      flat[e.offset + i] = v;
    }
  }
  return flat;
}

pb::Model ModelToProto(const ModelData& m) {
  pb::Model p;
  p.set_format_version(kModelFormatVersion);
  *p.mutable_spec() = SpecToProto(m.spec);
  p.mutable_spec()->mutable_input_shift()->Add(m.transform.shift.begin(), m.transform.shift.end());
  p.mutable_spec()->mutable_input_scale()->Add(m.transform.scale.begin(), m.transform.scale.end());
  p.mutable_spec()->set_image_height(m.image_height);
  p.mutable_spec()->set_image_width(m.image_width);
  FlatToTensors(m.spec, m.params, p.mutable_params());
  p.set_dpmlp_version(DPMLP_VERSION);
  p.set_created_unix(static_cast<int64_t>(std::time(nullptr)));
  return p;
}

ModelData ModelFromProto(const pb::Model& p, const std::string& source) {
  if (p.format_version() != kModelFormatVersion)
    throw UsageError(source + ": unsupported model format version " +
                     std::to_string(p.format_version()));
  ModelData m;
  m.spec = SpecFromProto(p.spec(), source);
  const size_t dim = static_cast<size_t>(m.spec.input_dim);
  if (static_cast<size_t>(p.spec().input_shift_size()) != dim ||
      static_cast<size_t>(p.spec().input_scale_size()) != dim)
    throw UsageError(source + ": input normalisation has " +
                     std::to_string(p.spec().input_shift_size()) + " entries, the model has " +
                     std::to_string(dim) + " inputs");
  m.transform.shift.assign(p.spec().input_shift().begin(), p.spec().input_shift().end());
  m.transform.scale.assign(p.spec().input_scale().begin(), p.spec().input_scale().end());
  for (size_t j = 0; j < dim; ++j)
    if (!std::isfinite(m.transform.shift[j]) || !std::isfinite(m.transform.scale[j]))
      throw UsageError(source + ": input normalisation of feature " + std::to_string(j) +
                       " is non-finite (shift " + std::to_string(m.transform.shift[j]) +
                       ", scale " + std::to_string(m.transform.scale[j]) + ")");
  m.image_height = p.spec().image_height();
  m.image_width = p.spec().image_width();
  m.params = TensorsToFlat(m.spec, p.params(), source);
  return m;
}

void SaveModelFile(const std::string& path, const ModelData& m) {
  std::string bytes;
  if (!ModelToProto(m).SerializeToString(&bytes))
    throw IoError(path + ": cannot serialise the model");
  WriteFramedFile(path, FramedKind::kModel, bytes);
}

ModelData LoadModelFile(const std::string& path, std::optional<FramedKind> expected) {
  std::string payload;
  const FramedKind kind = expected ? (payload = ReadFramedFile(path, *expected), *expected)
                                   : ReadFramedFileOfAnyKind(path, &payload);
  return ModelFromPayload(kind, payload, path);
}

ModelData ModelFromPayload(FramedKind kind, const std::string& payload, const std::string& path) {
  if (kind == FramedKind::kCheckpoint) {
    pb::Checkpoint ck;
    if (!ck.ParseFromString(payload)) throw UsageError(path + ": not a valid checkpoint message");
    return ModelFromProto(ck.model(), path);
  }
  pb::Model model;
  if (!model.ParseFromString(payload)) throw UsageError(path + ": not a valid model message");
  return ModelFromProto(model, path);
}

}  // namespace dpmlp
