// The option tables of the data, model, training and checkpoint options, and their range checks.
#include "launcher/options.h"

#include <charconv>
#include <cmath>

#include "core/dataset.h"
#include "core/error.h"
#include "dist/progress.h"

namespace dpmlp {

uint64_t ParseSeed(const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end)
    throw UsageError("--seed must be an integer in [0, " +
                     std::to_string(std::numeric_limits<uint64_t>::max()) + "] (got '" + text +
                     "')");
  return v;
}

// The option tables: one option a line, as --help lists them.
// clang-format off
po::options_description DataOptions(TrainConfig* c) {
  po::options_description d("Data");
  d.add_options()
      ("dataset", WithDefault(&c->dataset), "fashion-mnist | mnist (IDX files: the default folder or --data-dir) | sin | surface | parity:N | csv | npy (csv and npy are implied by --train-csv and --train-npy)")
      ("data-dir", po::value(&c->data_dir), ("directory with the four IDX files (default " + std::string(kDefaultIdxDir) + ")").c_str())
      ("train-csv", po::value(&c->train_csv), "training CSV (a header row: --csv-header)")
      ("test-csv", po::value(&c->test_csv), "test CSV")
      ("csv-targets", WithDefault(&c->csv_targets), "0: the first CSV column is the class label; T > 0: the first T columns are regression targets")
      ("normalize", WithDefault(&c->normalize), "input normalisation: auto (standardize real data, none for synthetic sets) | scale (to [0,1]) | standardize | none")
      ("train-samples", WithDefault(&c->train_samples), "use only the first N training samples (0: all)")
      ("test-samples", WithDefault(&c->test_samples), "use only the first N test samples (0: all)")
      // Read as text: Boost turns "-5" into 2^64 - 5 for an unsigned type.
      ("seed", po::value<std::string>()->default_value(std::to_string(c->seed))->notifier([c](const std::string& s) { c->seed = ParseSeed(s); }),
       "seed of every random choice (init, order, dropout, augmentation, splits)")
      ("train-npy", po::value(&c->train_npy), "training features, .npy: uint8 or float32, (N, D) or (N, H, W)")
      ("train-labels", po::value(&c->train_labels), "training labels, .npy: integer classes (N,) or float targets (N,) / (N, T)")
      ("test-npy", po::value(&c->test_npy), "test features, .npy")
      ("test-labels", po::value(&c->test_labels), "test labels, .npy")
      ("val-npy", po::value(&c->val_npy), "validation features, .npy (instead of --val-fraction)")
      ("val-labels", po::value(&c->val_labels), "validation labels, .npy")
      ("csv-header", po::bool_switch(&c->csv_header), "the first row of every CSV input names the columns; it is checked (one name per field, none empty; a row of numbers only is refused as data, except pandas' 0,1,...,n-1) and skipped");
  return d;
}

po::options_description ModelOptionsGroup(ModelOptions* m) {
  po::options_description d("Model");
  d.add_options()
      ("layers", WithDefault(&m->layers), "hidden layer widths, e.g. 256,128")
      ("activation", WithDefault(&m->activation), "hidden activation: sigmoid | tanh | relu | leaky_relu | elu | maxout")
      ("sigmoid-k", WithDefault(&m->sigmoid_k), "sigmoid steepness k: a = 1/(1+exp(-k z))")
      ("alpha", po::value<float>()->notifier([m](float a) { m->alpha = a, m->alpha_given = true; }), "leaky_relu slope (default 0.01) or elu scale (default 1)")
      ("maxout-pieces", WithDefault(&m->maxout_pieces), "linear pieces per maxout unit")
      ("output", WithDefault(&m->output), "output: softmax | sigmoid | identity | auto")
      ("loss", WithDefault(&m->loss), "loss: cross_entropy | binary_cross_entropy | mse | auto")
      ("init", WithDefault(&m->init), "initialisation: normal | normal_scaled | small | xavier | he | auto");
  return d;
}

po::options_description TrainingOptions(TrainConfig* c, int* threads) {
  po::options_description d("Training");
  d.add_options()
      ("epochs", WithDefault(&c->epochs), "passes over the training set")
      ("batch-size", WithDefault(&c->batch_size), "global mini-batch, split across ranks")
      ("lr", WithDefault(&c->lr), "learning rate eta")
      ("momentum", WithDefault(&c->sgd.momentum), "momentum mu in [0, 1)")
      ("nesterov", po::bool_switch(&c->sgd.nesterov), "Nesterov momentum")
      ("max-steps", WithDefault(&c->max_steps), "stop after this many steps (0: no limit); the lr schedule still spans --epochs")
      ("threads", po::value(threads), "OpenBLAS threads per rank (default: 1 under mpirun, all cores alone)")
      ("weight-decay", WithDefault(&c->sgd.weight_decay), "L2 regularisation lambda")
      ("l1", WithDefault(&c->sgd.l1), "L1 regularisation lambda")
      ("decay-biases", po::bool_switch(&c->sgd.decay_biases), "apply L1/L2 to biases too")
      ("dropout", WithDefault(&c->dropout), "dropout probability on hidden units")
      ("max-norm", WithDefault(&c->sgd.max_norm), "max L2 norm of a unit's incoming weights (0: off)")
      ("clip-norm", WithDefault(&c->sgd.clip_norm), "clip the global gradient norm (0: off)")
      ("lr-schedule", po::value<std::string>()->default_value("constant")->notifier([c](const std::string& s) { c->lr_schedule = LrSchedule::Parse(s); }),
       "constant | step | cosine")
      ("lr-gamma", WithDefault(&c->lr_gamma), "step schedule: factor")
      ("lr-step-epochs", WithDefault(&c->lr_step_epochs), "step schedule: period")
      ("warmup-epochs", WithDefault(&c->warmup_epochs), "linear warmup length in epochs")
      ("min-lr", WithDefault(&c->min_lr), "cosine schedule: final learning rate")
      ("val-fraction", WithDefault(&c->val_fraction), "hold out this fraction of train for validation")
      ("early-stop-patience", WithDefault(&c->early_stop_patience), "stop after this many epochs without validation improvement (0: off)")
      ("augment", po::bool_switch(&c->augment.enabled), "random shifts and rotations of images")
      ("augment-shift", WithDefault(&c->augment.max_shift), "max shift, pixels")
      ("augment-rotate", WithDefault(&c->augment.max_rotate_deg), "max rotation, degrees")
      ("augment-flip", po::bool_switch(&c->augment.flip), "mirror images left-right with probability 1/2")
      ("erase-prob", WithDefault(&c->augment.erase_prob), "random erasing: probability of blanking a random box of an image")
      ("erase-max-area", WithDefault(&c->augment.erase_max_area), "random erasing: largest box, as a fraction of the image (smallest 0.02)")
      ("input-dropout", WithDefault(&c->input_dropout), "dropout probability on input features")
      ("label-smoothing", WithDefault(&c->label_smoothing), "train against (1-e) one-hot + e/classes (softmax cross-entropy)")
      ("average-epochs", WithDefault(&c->average_epochs), "final model = mean of the parameters after every step of the last K epochs (0: off)")
      ("metrics", po::value(&c->metrics_path), "append one JSON object per epoch to this file")
      ("save-model", po::value(&c->save_model_path), "write the trained model here")
      ("summary-json", po::value(&c->summary_json_path), "write how the run ended (exit reason and code, steps, final test figures, saved model) here as one JSON object")
      ("progress", WithDefault(&c->progress), "auto | bar | lines | off")
      ("collective-timeout", WithDefault(&c->collective_timeout), "seconds a rank may wait in a collective before the job is ended (0: off)")
      ("allreduce-bucket-kb", WithDefault(&c->allreduce_bucket_kb), "start the gradient allreduce during backward in buckets of this many KiB, last layers first (0: one allreduce after backward)")
      ("grad-wire", WithDefault(&c->grad_wire), "gradients on the wire: fp32 | bf16 (half the bytes, rounded; not rank-count exact)")
      ("allreduce", WithDefault(&c->allreduce), "how the gradients are summed: auto (shm when every rank is on one host and the window is at most 32 MiB, else mpi) | mpi (Open MPI's allreduce) | shm (one shared-memory window on the host)")
      ("overlap-gather", po::bool_switch(&c->overlap_gather), "with the sharded update over MPI (ranks on several hosts, or --allreduce mpi): leave the parameters' allgather running while the next step's inputs are gathered (measured no faster on one 2-core host; docs/performance.md)")
      ("update", WithDefault(&c->update), "who runs the optimizer update: auto (sharded whenever the ranks are several and the sum is fused fp32) | replicated (every rank, all parameters) | sharded (ZeRO stage 1: each rank its 1/p share of the parameters and of the velocity, then the parameters are gathered)")
      ("init-from", po::value(&c->init_from), "fine-tune: start from the parameters of this model file (--save-model) or checkpoint, whose architecture the options must build; its input normalisation is kept (--normalize is not applied); velocity and step start at 0. A checkpoint that --resume loads wins over it (--init-from is then not applied)");
  return d;
}

po::options_description CheckpointOptions(TrainConfig* c) {
  po::options_description d("Checkpoints");
  d.add_options()
      ("checkpoint-dir", po::value(&c->checkpoint_dir), "write checkpoints here")
      ("checkpoint-every", WithDefault(&c->checkpoint_every), "checkpoint every STEPS (0: off)")
      ("checkpoint-every-seconds", WithDefault(&c->checkpoint_every_seconds), "checkpoint every S seconds (0: off)")
      ("keep", WithDefault(&c->keep), "keep the newest K checkpoints")
      ("resume", WithDefault(&c->resume), "auto (newest valid checkpoint in --checkpoint-dir) | none | PATH")
      ("fresh-start-ok", po::bool_switch(&c->fresh_start_ok), "with --resume auto: start from scratch even when every checkpoint in the folder is corrupt (otherwise that is an error)")
      ("allow-seed-change", po::bool_switch(&c->allow_seed_change), "resume a checkpoint written with another --seed (the shuffle, dropout and augmentation change from the resumed step on); without it such a resume is refused");
  return d;
}
// clang-format on

namespace {

std::string ShowNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void CheckOption(const std::string& name, double value, const Range& r) {
  const bool above = r.lo_open ? value > r.lo : value >= r.lo;
  const bool below = r.hi_open ? value < r.hi : value <= r.hi;
  // Written so that NaN fails (every comparison with it is false); inf fails at an open inf end.
  if (above && below && std::isfinite(value)) return;
  throw UsageError("--" + name + " must be " + (r.integer ? "an integer " : "a number ") + "in " +
                   (r.lo_open ? "(" : "[") + ShowNumber(r.lo) + ", " + ShowNumber(r.hi) +
                   (r.hi_open ? ")" : "]") + " (got " +
                   (std::isnan(value) ? std::string("nan") : ShowNumber(value)) + ")");
}

namespace {

// The .npy options: features and labels in pairs, train with test, and no other data source.
void ValidateNpyOptions(const TrainConfig& c) {
  const auto pair = [](const char* a, const std::string& x, const char* b, const std::string& y) {
    if (x.empty() != y.empty())
      throw UsageError(std::string("--") + (x.empty() ? a : b) + " needs --" + (x.empty() ? b : a) +
                       " (features and labels are separate .npy files)");
  };
  pair("train-npy", c.train_npy, "train-labels", c.train_labels);
  pair("test-npy", c.test_npy, "test-labels", c.test_labels);
  pair("val-npy", c.val_npy, "val-labels", c.val_labels);
  const bool npy = !c.train_npy.empty() || c.dataset == "npy";
  if (!npy) {
    if (!c.test_npy.empty() || !c.val_npy.empty())
      throw UsageError(std::string(c.test_npy.empty() ? "--val-npy" : "--test-npy") +
                       " needs --train-npy and --train-labels");
    return;
  }
  if (c.train_npy.empty() || c.test_npy.empty())
    throw UsageError(
        "--train-npy/--train-labels and --test-npy/--test-labels go together (the four files are "
        "needed)");
  if (c.dataset != "npy" && c.dataset != "fashion-mnist")  // fashion-mnist: the default
    throw UsageError("--train-npy with --dataset " + c.dataset + ": choose one data source");
  if (!c.train_csv.empty() || !c.data_dir.empty())
    throw UsageError(std::string("--train-npy with ") +
                     (c.train_csv.empty() ? "--data-dir" : "--train-csv") +
                     ": choose one data source");
  if (!c.val_npy.empty() && c.val_fraction > 0)
    throw UsageError("--val-npy with --val-fraction: choose one validation set");
}

}  // namespace

void ValidateDataOptions(const TrainConfig& c) {
  ValidateNpyOptions(c);
  const Range count{0, kInf, false, true, true};
  CheckOption("csv-targets", c.csv_targets, {0, 1 << 24, false, false, true});
  CheckOption("train-samples", static_cast<double>(c.train_samples), count);
  CheckOption("test-samples", static_cast<double>(c.test_samples), count);
}

void ValidateModelOptions(const ModelOptions& m) {
  CheckOption("sigmoid-k", m.sigmoid_k, {0, kInf, true, true});
  if (m.alpha_given) CheckOption("alpha", m.alpha, {0, kInf, false, true});
  CheckOption("maxout-pieces", m.maxout_pieces, {2, 16, false, false, true});
}

void ValidateTrainConfig(const TrainConfig& c, int threads) {
  auto fail = [](const std::string& m) { throw UsageError(m); };
  const Range positive{0, kInf, true, true}, non_negative{0, kInf, false, true};
  const Range fraction{0, 1, false, true}, count{0, kInf, false, true, true};
  ValidateDataOptions(c);
  CheckOption("lr", c.lr, positive);
  CheckOption("momentum", c.sgd.momentum, fraction);
  CheckOption("batch-size", static_cast<double>(c.batch_size), {1, 1e6, false, false, true});
  CheckOption("epochs", c.epochs, count);
  CheckOption("max-steps", static_cast<double>(c.max_steps), count);
  CheckOption("threads", threads, {1, 1024, false, false, true});
  CheckOption("weight-decay", c.sgd.weight_decay, non_negative);
  CheckOption("l1", c.sgd.l1, non_negative);
  CheckOption("dropout", c.dropout, fraction);
  CheckOption("max-norm", c.sgd.max_norm, non_negative);
  CheckOption("clip-norm", c.sgd.clip_norm, non_negative);
  CheckOption("lr-gamma", c.lr_gamma, positive);
  CheckOption("lr-step-epochs", c.lr_step_epochs, {1, kInf, false, true, true});
  CheckOption("warmup-epochs", c.warmup_epochs, non_negative);
  CheckOption("min-lr", c.min_lr, {0, c.lr});  // [0, --lr]
  CheckOption("val-fraction", c.val_fraction, fraction);
  CheckOption("early-stop-patience", c.early_stop_patience, count);
  if (c.early_stop_patience > 0 && c.val_fraction <= 0 && c.val_npy.empty())
    fail("--early-stop-patience needs a validation set: set --val-fraction or --val-npy");
  CheckOption("augment-shift", c.augment.max_shift, {0, 10, false, false, true});
  CheckOption("augment-rotate", c.augment.max_rotate_deg, {0, 90});
  CheckOption("erase-prob", c.augment.erase_prob, {0, 1});
  CheckOption("erase-max-area", c.augment.erase_max_area, {0.02, 1});
  CheckOption("input-dropout", c.input_dropout, {0, 1, false, true});
  CheckOption("label-smoothing", c.label_smoothing, {0, 1, false, true});
  CheckOption("average-epochs", c.average_epochs,
              {0, static_cast<double>(c.epochs), false, false, true});
  if (c.average_epochs > 0 && c.early_stop_patience > 0)
    fail("--average-epochs and --early-stop-patience do not go together (which model to keep?)");
  CheckOption("checkpoint-every", static_cast<double>(c.checkpoint_every), count);
  CheckOption("checkpoint-every-seconds", c.checkpoint_every_seconds, non_negative);
  CheckOption("keep", c.keep, {1, kInf, false, true, true});
  if (c.resume.empty()) fail("--resume must be auto, none or a checkpoint path");
  CheckOption("collective-timeout", c.collective_timeout, non_negative);
  CheckOption("allreduce-bucket-kb", c.allreduce_bucket_kb, {0, 1e6});
  if (c.allreduce_bucket_kb > 0 && c.allreduce_bucket_kb * 1024 / 4 < 1)
    fail("--allreduce-bucket-kb must hold at least one float (4 bytes) when not 0");
  if (c.grad_wire != "fp32" && c.grad_wire != "bf16")
    fail("--grad-wire must be fp32 or bf16, not '" + c.grad_wire + "'");
  if (c.allreduce != "auto" && c.allreduce != "mpi" && c.allreduce != "shm")
    fail("--allreduce must be auto, mpi or shm, not '" + c.allreduce + "'");
  if (c.update != "auto" && c.update != "replicated" && c.update != "sharded")
    fail("--update must be auto, replicated or sharded, not '" + c.update + "'");
  if (c.update == "sharded" && (c.grad_wire == "bf16" || c.allreduce_bucket_kb > 0))
    fail("--update sharded sums fp32 gradients after backward: it does not go with " +
         std::string(c.grad_wire == "bf16" ? "--grad-wire bf16" : "--allreduce-bucket-kb"));
  if (c.allreduce == "shm" && (c.grad_wire == "bf16" || c.allreduce_bucket_kb > 0))
    fail("--allreduce shm sums fp32 gradients after backward: it does not go with " +
         std::string(c.grad_wire == "bf16" ? "--grad-wire bf16" : "--allreduce-bucket-kb"));
  Progress::Check(c.progress);
  // Output files are written late (epoch ends, the end of training): check them now.
  CheckTrainOutputs(c);
  if (c.normalize != "auto" && c.normalize != "scale" && c.normalize != "standardize" &&
      c.normalize != "none")
    fail("unknown value '" + c.normalize +
         "' for --normalize (valid: auto|scale|standardize|none)");
}

}  // namespace dpmlp
