#include "launcher/npy_export.h"

#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/network.h"
#include "core/npy.h"
#include "dpmlp.pb.h"

namespace dpmlp {
namespace {

struct TensorSlice {
  std::string name;
  std::vector<uint64_t> shape;
  size_t offset, count;
};

std::vector<TensorSlice> Tensors(const ModelSpec& spec) {
  const ParamLayout layout(spec);
  std::vector<TensorSlice> t;
  for (size_t l = 0; l < layout.layers().size(); ++l) {
    const LayerSlot& s = layout.layers()[l];
    t.push_back({ParamLayout::WeightName(l),
                 {uint64_t(s.pre), uint64_t(s.in)},
                 s.weight_offset,
                 size_t(s.pre) * s.in});
    t.push_back({ParamLayout::BiasName(l), {uint64_t(s.pre)}, s.bias_offset, size_t(s.pre)});
  }
  return t;
}

}  // namespace

std::string NpyExportIndexJson(const ModelData& model) {
  const ModelSpec& spec = model.spec;
  pb::NpyExportIndex index;
  index.set_format("npy float32 little-endian, C order; weight is out x in");
  for (int j = 0; j < spec.input_dim; ++j) {
    const bool has = static_cast<size_t>(j) < model.transform.shift.size();
    index.add_input_shift(has ? model.transform.shift[j] : 0.0f);
    index.add_input_scale(has ? model.transform.scale[j] : 1.0f);
  }
  const std::vector<TensorSlice> tensors = Tensors(spec);
  for (size_t i = 0; i < tensors.size(); i += 2) {
    pb::NpyExportIndex::Layer* layer = index.add_layers();
    layer->set_weight(tensors[i].name + ".npy");
    layer->set_bias(tensors[i + 1].name + ".npy");
    const bool last = i + 2 == tensors.size();
    layer->set_activation(last ? "identity" : Name(spec.activation));  // then `output`
  }
  for (const TensorSlice& t : tensors) {
    pb::NpyExportIndex::TensorFile* f = index.add_tensors();
    f->set_name(t.name);
    f->set_file(t.name + ".npy");
    for (uint64_t d : t.shape) f->add_shape(static_cast<int32_t>(d));
  }
  index.set_sigmoid_k(spec.sigmoid_k);
  index.set_alpha(spec.alpha);
  index.set_maxout_pieces(spec.maxout_pieces);
  index.set_activation(Name(spec.activation));
  index.set_output(Name(spec.output));
  index.set_parameters(static_cast<int32_t>(spec.parameter_count()));
  index.set_dpmlp_version(DPMLP_VERSION);
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(index, &text, o).ok())
    throw InternalError("index.json: protobuf JSON printing failed");
  return text;
}

int WriteNpyExport(const ModelData& model, const std::string& out_dir) {
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw IoError(out_dir + ": cannot create directory: " + std::strerror(errno));
  const std::vector<TensorSlice> tensors = Tensors(model.spec);
  for (const TensorSlice& t : tensors) {
    std::string bytes = NpyHeaderBytes("<f4", t.shape);
    bytes.append(reinterpret_cast<const char*>(model.params.data() + t.offset),
                 t.count * sizeof(float));
    WriteFileAtomic(out_dir + "/" + t.name + ".npy", bytes);
  }
  WriteFileAtomic(out_dir + "/index.json", NpyExportIndexJson(model));
  return static_cast<int>(tensors.size());
}

}  // namespace dpmlp
