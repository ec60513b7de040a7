// dpmlp eval | info | export: commands that read a model file or a checkpoint.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "core/atomic_file.h"
#include "core/blas_info.h"
#include "core/error.h"
#include "core/number_text.h"
#include "dist/checkpoint_state.h"
#include "dist/evaluate.h"
#include "dist/trainer.h"
#include "launcher/commands.h"
#include "launcher/data_setup.h"
#include "launcher/model_file.h"
#include "launcher/npy_export.h"
#include "launcher/onnx_export.h"
#include "proto/framed_file.h"
#include "proto/model_codec.h"

namespace dpmlp {

namespace {

// `info` for the model the options would build: text, or one JSON document with --json.
std::string SpecText(const ModelSpec& s) {
  std::string t = "architecture: " + s.Widths() + ", " + Name(s.activation) + " hidden, " +
                  Name(s.output) + " output, " + Name(s.loss) + " loss, " + Name(s.init) +
                  " init\n";
  for (int l = 0; l < s.num_layers(); ++l)
    t += "  layer" + std::to_string(l + 1) + ": " + std::to_string(s.in_dim(l)) + " -> " +
         std::to_string(s.pre_dim(l)) + "  (" +
         std::to_string(static_cast<long long>(s.pre_dim(l)) * s.in_dim(l)) + " weights + " +
         std::to_string(s.pre_dim(l)) + " biases)\n";
  return t + "parameters: " + std::to_string(s.parameter_count()) + "\n";
}

std::string SpecJson(const ModelSpec& s) {
  std::string t = "{\n  \"architecture\": [" + s.Widths(", ") + "],\n  \"activation\": \"" +
                  Name(s.activation) + "\",\n  \"output\": \"" + Name(s.output) +
                  "\",\n  \"loss\": \"" + Name(s.loss) + "\",\n  \"init\": \"" + Name(s.init) +
                  "\",\n  \"layers\": [";
  for (int l = 0; l < s.num_layers(); ++l)
    t += std::string(l ? "," : "") + "\n    {\"name\": \"layer" + std::to_string(l + 1) +
         "\", \"in\": " + std::to_string(s.in_dim(l)) +
         ", \"out\": " + std::to_string(s.pre_dim(l)) +
         ", \"weights\": " + std::to_string(static_cast<long long>(s.pre_dim(l)) * s.in_dim(l)) +
         ", \"biases\": " + std::to_string(s.pre_dim(l)) + "}";
  return t + "\n  ],\n  \"parameters\": " + std::to_string(s.parameter_count()) + "\n}\n";
}

// `info --blas`: one line, or one JSON document.
std::string BlasInfoText(bool json) {
  if (!json) return BlasLine(QueryBlas()) + "\n";
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string text;
  google::protobuf::util::MessageToJsonString(CurrentBlasProto(), &text, o);
  return text + "\n";
}

// `info --model FILE` or `--checkpoint FILE`: the message as text without the bulk tensor data,
// or all of it as one JSON document; the parameter count last.
std::string FileInfoText(const std::string& path, FramedKind kind, bool json) {
  const std::string payload = ReadFramedFile(path, kind);
  std::unique_ptr<google::protobuf::Message> msg;
  if (kind == FramedKind::kCheckpoint) {
    msg = std::make_unique<pb::Checkpoint>(ParseCheckpoint(payload, path));
  } else {
    auto m = std::make_unique<pb::Model>();
    if (!m->ParseFromString(payload)) throw UsageError(path + ": not a valid model message");
    ModelFromProto(*m, path);
    msg = std::move(m);
  }
  const ModelData model = ModelFromPayload(kind, payload, path);
  std::string text;
  if (json) {
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    google::protobuf::util::MessageToJsonString(*msg, &text, o);
  } else {
    // Readable: every field except the bulk parameter data, which is summarised.
    google::protobuf::TextFormat::Printer printer;
    printer.SetTruncateStringFieldLongerThan(64);
    auto copy = std::unique_ptr<google::protobuf::Message>(msg->New());
    copy->CopyFrom(*msg);
    auto strip = [](google::protobuf::RepeatedPtrField<pb::Tensor>* ts) {
      for (pb::Tensor& t : *ts) t.clear_data();
    };
    if (kind == FramedKind::kCheckpoint) {
      auto* ck = static_cast<pb::Checkpoint*>(copy.get());
      strip(ck->mutable_model()->mutable_params());
      strip(ck->mutable_velocity());
      ck->mutable_model()->mutable_spec()->clear_input_shift();
      ck->mutable_model()->mutable_spec()->clear_input_scale();
    } else {
      auto* m = static_cast<pb::Model*>(copy.get());
      strip(m->mutable_params());
      m->mutable_spec()->clear_input_shift();
      m->mutable_spec()->clear_input_scale();
    }
    printer.PrintToString(*copy, &text);
    text = "file: " + path + (kind == FramedKind::kCheckpoint ? " (checkpoint)\n" : " (model)\n") +
           text + "# tensor data and input normalisation omitted; --json prints everything\n";
  }
  const std::string count = std::to_string(model.spec.parameter_count());
  if (json) {
    // One JSON document: the count goes inside the message's object, as its last member.
    const size_t close = text.rfind('}');
    if (close == std::string::npos) throw InternalError(path + ": JSON printer gave no object");
    const size_t last = text.find_last_not_of(" \n", close - 1);
    const bool empty = last != std::string::npos && text[last] == '{';
    return text.substr(0, last + 1) + (empty ? "\n" : ",\n") + " \"parameters\": " + count +
           "\n}\n";
  }
  return text + "\nparameters: " + count + "\n";
}

}  // namespace

int EvalCommand(Communicator& comm, int argc, char** argv) {
  TrainConfig cfg;
  std::string model_path, ckpt_path;
  ModelData model;
  Dataset test;
  auto setup = [&]() -> bool {
    po::options_description opts;
    opts.add(ModelFileOptions(&model_path, &ckpt_path)).add(DataOptions(&cfg));
    po::variables_map vm;
    if (!ParseCommandLine("eval", "--model FILE|--checkpoint FILE [data options]", opts, argc, argv,
                          &vm, comm.rank() == 0))
      return false;
    model = LoadModelChoice(model_path, ckpt_path);
    test = LoadData(cfg).test;
    CheckDataFitsModel(test, model.spec);
    return true;
  };
  auto run = [&]() -> int {
    Network<float> net(model.spec, 256);
    net.params() = model.params;
    const EvalResult r = EvaluateSharded(comm, net, test, model.transform);
    if (comm.rank() == 0) {
      if (test.is_classification())
        std::printf("test accuracy %.2f%% (%lld samples), test loss %s\n", 100 * r.accuracy,
                    (long long)r.count, MetricText(r.loss).c_str());
      else
        std::printf("test mse %s (%lld samples), test loss %s\n", MetricText(r.mse).c_str(),
                    (long long)r.count, MetricText(r.loss).c_str());
    }
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

int InfoCommand(Communicator& comm, int argc, char** argv) {
  TrainConfig cfg;
  ModelOptions mopts;
  std::string model_path, ckpt_path;
  bool json = false, blas = false;
  auto setup = [&]() -> bool {
    po::options_description opts;
    opts.add(ModelFileOptions(&model_path, &ckpt_path))
        .add(DataOptions(&cfg))
        .add(ModelOptionsGroup(&mopts));
    po::options_description info("Info");
    // clang-format off
    info.add_options()
        ("json", po::bool_switch(&json), "print one JSON document: the whole file, the BLAS, or the model the options build")
        ("blas", po::bool_switch(&blas), "print the BLAS this process uses: OpenBLAS config, selected core, threads");
    // clang-format on
    opts.add(info);
    po::variables_map vm;
    if (!ParseCommandLine(
            "info", "[--model FILE|--checkpoint FILE|--blas] [--json] | [data and model options]",
            opts, argc, argv, &vm, comm.rank() == 0))
      return false;
    if (!model_path.empty() && !ckpt_path.empty())
      throw UsageError("give --model or --checkpoint, not both");
    if (blas && !(model_path.empty() && ckpt_path.empty()))
      throw UsageError("give --blas alone, without --model or --checkpoint");
    return true;
  };
  auto run = [&]() -> int {
    if (comm.rank() != 0) return kExitOk;
    const std::string path = model_path.empty() ? ckpt_path : model_path;
    if (blas) {
      std::fputs(BlasInfoText(json).c_str(), stdout);
      return kExitOk;
    }
    if (path.empty()) {
      int in = 0, classes = 0, targets = 0;
      DataShape(cfg, &in, &classes, &targets);
      const ModelSpec s = BuildSpec(mopts, in, classes, targets);
      std::fputs((json ? SpecJson(s) : SpecText(s)).c_str(), stdout);
      return kExitOk;
    }
    const FramedKind kind = model_path.empty() ? FramedKind::kCheckpoint : FramedKind::kModel;
    std::cout << FileInfoText(path, kind, json) << std::flush;
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

int ExportCommand(Communicator& comm, int argc, char** argv) {
  std::string model_path, ckpt_path, out_dir, format;
  ModelData model;
  auto setup = [&]() -> bool {
    po::options_description opts;
    po::options_description out("Export");
    // clang-format off
    out.add_options()
        ("format", po::value(&format)->default_value("npy"), "npy: a directory of .npy files and index.json; onnx: one ONNX file")
        ("out", po::value(&out_dir)->required(), "directory for the .npy files and index.json, or the .onnx file to write (- for standard output)");
    // clang-format on
    opts.add(ModelFileOptions(&model_path, &ckpt_path)).add(out);
    po::variables_map vm;
    if (!ParseCommandLine("export",
                          "--model FILE|--checkpoint FILE [--format npy|onnx] --out PATH|-", opts,
                          argc, argv, &vm, comm.rank() == 0))
      return false;
    if (format != "npy" && format != "onnx")
      throw UsageError("--format " + format + ": expected npy or onnx");
    if (out_dir == "-" && format != "onnx")
      throw UsageError(
          "--out -: the npy export writes a directory; only --format onnx goes to "
          "standard output");
    if (out_dir == "-" && ::isatty(STDOUT_FILENO))
      throw UsageError("--out -: standard output is a terminal; redirect it (ONNX is binary)");
    if (format == "onnx" && out_dir != "-")
      CheckOutputPath("--out", out_dir, false);  // before reading the model
    model = LoadModelChoice(model_path, ckpt_path);
    return true;
  };
  auto run = [&]() -> int {
    if (comm.rank() != 0) return kExitOk;
    if (format == "onnx") {
      const bool to_stdout = out_dir == "-";
      to_stdout ? WriteStandardOutput(OnnxModelBytes(model))
                : WriteFileAtomic(out_dir, OnnxModelBytes(model));
      std::fprintf(to_stdout ? stderr : stdout,
                   "exported an ONNX model (opset 17, %lld parameters) to %s\n",
                   static_cast<long long>(model.spec.parameter_count()),
                   to_stdout ? "standard output" : out_dir.c_str());
      return kExitOk;
    }
    const int written = WriteNpyExport(model, out_dir);
    std::printf("exported %d tensors and index.json to %s\n", written, out_dir.c_str());
    return kExitOk;
  };
  return Guarded(comm, setup, run);
}

}  // namespace dpmlp
