// libFuzzer harness for the checkpoint and model readers (proto/framed_file.cc,
// proto/model_codec.cc, dist/checkpoint_state.cc). The first input byte picks what the rest is
// (byte % 3): 0 a whole file (frame checks: magic, version, length, CRC); 1 a Checkpoint payload
// that the harness frames with a valid CRC, so mutations reach protobuf parsing, ParseCheckpoint
// and ModelFromProto; 2 a Model payload, framed likewise and read with LoadModelFile.
// Only dpmlp::Error may escape.
#include <google/protobuf/stubs/logging.h>

#include <cstring>

#include "core/error.h"
#include "dist/checkpoint_state.h"
#include "proto/framed_file.h"
#include "proto/model_codec.h"
#include "tests/fuzz/fuzz_util.h"

// protobuf logs every string field that is not UTF-8; the parse failure that follows is what
// counts.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dpmlp_fuzz::ScratchFile path_file("ckpt");
  const std::string& path = path_file.path();
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  using dpmlp_fuzz::Require;
  try {
    if (mode == 0) {
      dpmlp_fuzz::WriteScratch(path, rest.data(), rest.size());
      const dpmlp::FramedKind kind = dpmlp::PeekFramedKind(path);
      const std::string payload = dpmlp::ReadFramedFile(path, kind);
      Require(payload.size() + dpmlp::kFramedHeaderBytes == rest.size(),
              "payload is the file minus the header");
      if (kind == dpmlp::FramedKind::kCheckpoint)
        dpmlp::ParseCheckpoint(payload, path);
      else
        dpmlp::LoadModelFile(path);
    } else {
      const auto kind = mode == 1 ? dpmlp::FramedKind::kCheckpoint : dpmlp::FramedKind::kModel;
      const std::string file = dpmlp::FrameBytes(kind, rest);
      dpmlp_fuzz::WriteScratch(path, file.data(), file.size());
      Require(dpmlp::ReadFramedFile(path, kind) == rest, "a framed payload reads back unchanged");
      if (mode == 1) {
        const dpmlp::pb::Checkpoint ck =
            dpmlp::ParseCheckpoint(dpmlp::ReadFramedFile(path, kind), path);
        const dpmlp::ModelData m = dpmlp::ModelFromProto(ck.model(), path);
        Require(m.params.size() == static_cast<size_t>(m.spec.parameter_count()),
                "params match the spec");
      } else {
        const dpmlp::ModelData m = dpmlp::LoadModelFile(path);
        Require(m.params.size() == static_cast<size_t>(m.spec.parameter_count()),
                "params match the spec");
        Require(m.transform.shift.size() == static_cast<size_t>(m.spec.input_dim),
                "one shift per input");
      }
    }
  } catch (const dpmlp::Error& e) {
    Require(e.code() == dpmlp::kExitUsage, "a bad checkpoint or model file is a usage error");
    Require(std::strstr(e.what(), "/dev/shm/dpmlp-fuzz-") != nullptr, "the message names the file");
  }
  return 0;
}
