// The plain options struct the launcher fills from the command line / config file and the
// trainer reads. Defaults here are the documented defaults of `dpmlp train`.
#pragma once

#include <cstdint>
#include <string>

#include "core/batch.h"
#include "core/optimizer.h"

namespace dpmlp {

struct TrainConfig {
  // Data (recorded in checkpoints so a mismatch can be named).
  std::string dataset = "fashion-mnist";  // fashion-mnist | sin | surface | parity:N | csv | npy
  std::string data_dir;
  std::string train_csv, test_csv;
  int csv_targets = 0;
  bool csv_header = false;  // the first row of each CSV names the columns (skipped)
  // NumPy inputs: features and labels (or targets) per split; val is optional.
  std::string train_npy, train_labels, test_npy, test_labels, val_npy, val_labels;
  std::string normalize = "auto";  // auto: standardize real data, none for synthetic sets
  int64_t train_samples = 0;       // use only the first N training samples (0: all)
  int64_t test_samples = 0;        // use only the first N test samples (0: all)

  uint64_t seed = 1;
  int64_t batch_size = 128;  // global batch, split across ranks
  int epochs = 10;
  int64_t max_steps = 0;  // 0: no limit

  double lr = 0.05;
  SgdOptions sgd = {0.9};
  LrSchedule::Kind lr_schedule = LrSchedule::Kind::kConstant;
  double lr_gamma = 0.1;
  int lr_step_epochs = 10;
  double warmup_epochs = 0.0;
  double min_lr = 0.0;

  double dropout = 0.0;
  double input_dropout = 0.0;    // inverted dropout on the inputs (core/regularize.h)
  double label_smoothing = 0.0;  // softmax cross-entropy against (1-e) one_hot + e/classes
  int average_epochs = 0;        // final model: mean of the parameters over the last K epochs
  AugmentOptions augment;
  double val_fraction = 0.0;
  int early_stop_patience = 0;

  std::string checkpoint_dir;    // empty: no checkpoints
  int64_t checkpoint_every = 0;  // steps (0: only at the end and on signals)
  double checkpoint_every_seconds = 0.0;
  int keep = 3;
  std::string resume = "auto";  // auto | none | PATH
  // --resume auto finding checkpoint files of which none is valid: start fresh (true) or exit 2.
  bool fresh_start_ok = false;
  bool allow_seed_change = false;  // resume a checkpoint written with another --seed

  // Fine-tuning: the model file or checkpoint whose parameters (and input normalisation) the run
  // starts from instead of a random init; a resumed checkpoint wins over it.
  std::string init_from;

  std::string metrics_path;
  std::string save_model_path;
  std::string summary_json_path;      // --summary-json: how the run ended, as one JSON object
  std::string progress = "auto";      // auto | bar | lines | off
  bool progress_bar_allowed = true;   // may `auto` draw a bar on a terminal (the launcher decides)
  double collective_timeout = 300.0;  // seconds a rank may wait in a collective (0: off)
  // Gradient allreduce: KiB of fp32 gradient per bucket started during backward (0: one fused
  // allreduce after backward), and the wire format, fp32 | bf16.
  double allreduce_bucket_kb = 0.0;
  std::string grad_wire = "fp32";
  std::string allreduce = "auto";  // auto | mpi | shm: how the fused gradient sum runs
  std::string update = "auto";     // auto | replicated | sharded (ZeRO stage 1): who updates what
  bool overlap_gather = false;     // sharded update over MPI: the parameter allgather left running
                                   // while the next step's inputs are gathered
};

// What --normalize `normalize` means for the data set named by the other options: "auto" is
// "none" for the synthetic sets and "standardize" for real data (IDX, CSV or .npy files).
inline std::string ResolveNormalization(const std::string& normalize, const std::string& dataset,
                                        const std::string& data_dir, const std::string& train_csv,
                                        const std::string& train_npy) {
  if (normalize != "auto") return normalize;
  const bool synthetic = train_csv.empty() && train_npy.empty() && data_dir.empty() &&
                         dataset != "csv" && dataset != "npy" && dataset != "fashion-mnist" &&
                         dataset != "mnist";
  return synthetic ? "none" : "standardize";
}

}  // namespace dpmlp
