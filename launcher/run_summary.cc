#include "launcher/run_summary.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "core/atomic_file.h"
#include "core/error.h"
#include "dpmlp.pb.h"

namespace dpmlp {

std::string ExitReason(int exit_code, const TrainSummary& s) {
  switch (exit_code) {
    case kExitOk:
      return s.early_stopped ? "early_stopped" : s.stopped_by_max_steps ? "max_steps" : "completed";
    case kExitPreempted:
      return "preempted";
    case kExitDiverged:
      return "diverged";
    case kExitIo:
      return "output_failed";
    case kExitStalled:
      return "stalled";
    case kExitUsage:
      return "usage_error";
    default:
      return "internal_error";
  }
}

std::string RunSummaryJson(const TrainConfig& cfg, int world_size, const TrainSummary& s,
                           int exit_code, const std::string& message, double seconds) {
  pb::RunSummary r;
  r.set_exit_reason(ExitReason(exit_code, s));
  r.set_exit_code(exit_code);
  r.set_message(message);
  r.set_steps(s.steps);
  r.set_samples_seen(s.samples_seen);
  r.set_epochs_completed(s.epochs_completed);
  r.set_world_size(world_size);
  r.set_resumed_from_step(s.resumed_from_step);
  r.set_early_stopped(s.early_stopped);
  if (s.test.count > 0) {
    r.set_test_samples(static_cast<int64_t>(s.test.count));
    r.set_test_loss(s.test.loss);
    if (s.classification)
      r.set_test_accuracy(s.test.accuracy);
    else
      r.set_test_mse(s.test.mse);
  }
  if (exit_code == kExitOk) r.set_saved_model(cfg.save_model_path);
  r.set_checkpoint_dir(cfg.checkpoint_dir);
  r.set_seconds(seconds);
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string json;
  google::protobuf::util::MessageToJsonString(r, &json, o);
  return json + "\n";
}

int WriteRunSummary(int rank, const TrainConfig& cfg, int world_size, const TrainSummary& s,
                    int exit_code, const std::string& message, double seconds) {
  if (rank != 0 || cfg.summary_json_path.empty()) return exit_code;
  try {
    WriteFileAtomic(cfg.summary_json_path,
                    RunSummaryJson(cfg, world_size, s, exit_code, message, seconds));
  } catch (const Error& e) {
    std::fprintf(stderr, "dpmlp: error: --summary-json %s\n", e.what());
    return exit_code == kExitOk ? kExitIo : exit_code;
  }
  return exit_code;
}

}  // namespace dpmlp
