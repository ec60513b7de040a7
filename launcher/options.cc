#include "launcher/options.h"

#include <sys/stat.h>

#include <charconv>
#include <cmath>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/input_file.h"
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

po::options_description DataOptions(TrainConfig* c) {
  po::options_description d("Data");
  d.add_options()("dataset", po::value(&c->dataset)->default_value(c->dataset),
                  "fashion-mnist | sin | surface | parity:N | csv | npy (csv and npy are implied "
                  "by --train-csv and --train-npy)")("data-dir", po::value(&c->data_dir),
                                                     "directory with the four IDX files "
                                                     "(default /usr/share/datasets/fashion-mnist)")(
      "train-csv", po::value(&c->train_csv), "training CSV (no header)")(
      "test-csv", po::value(&c->test_csv), "test CSV (no header)")(
      "csv-targets", po::value(&c->csv_targets)->default_value(c->csv_targets),
      "0: the first CSV column is the class label; T > 0: the first T columns are regression "
      "targets")("normalize", po::value(&c->normalize)->default_value(c->normalize),
                 "input normalisation: auto (standardize real data, none for synthetic sets) | "
                 "scale (to [0,1]) | "
                 "standardize | none")("train-samples",
                                       po::value(&c->train_samples)->default_value(0),
                                       "use only the first N training samples (0: all)")(
      "test-samples", po::value(&c->test_samples)->default_value(0),
      "use only the first N test samples (0: all)")(
      // Read as text: Boost turns "-5" into 2^64 - 5 for an unsigned type.
      "seed",
      po::value<std::string>()
          ->default_value(std::to_string(c->seed))
          ->notifier([c](const std::string& s) { c->seed = ParseSeed(s); }),
      "seed of every random choice (init, order, dropout, augmentation, splits)");
  // clang-format off
  d.add_options()
      ("train-npy", po::value(&c->train_npy), "training features, .npy: uint8 or float32, (N, D) or (N, H, W)")
      ("train-labels", po::value(&c->train_labels), "training labels, .npy: integer classes (N,) or float targets (N,) / (N, T)")
      ("test-npy", po::value(&c->test_npy), "test features, .npy")
      ("test-labels", po::value(&c->test_labels), "test labels, .npy")
      ("val-npy", po::value(&c->val_npy), "validation features, .npy (instead of --val-fraction)")
      ("val-labels", po::value(&c->val_labels), "validation labels, .npy");
  // clang-format on
  return d;
}

po::options_description ModelOptionsGroup(ModelOptions* m) {
  po::options_description d("Model");
  d.add_options()("layers", po::value(&m->layers)->default_value(m->layers),
                  "hidden layer widths, e.g. 256,128")(
      "activation", po::value(&m->activation)->default_value(m->activation),
      "hidden activation: sigmoid | tanh | relu | leaky_relu | elu | maxout")(
      "sigmoid-k", po::value(&m->sigmoid_k)->default_value(m->sigmoid_k),
      "sigmoid steepness k: a = 1/(1+exp(-k z))")(
      "alpha", po::value<float>()->notifier([m](float a) { m->alpha = a, m->alpha_given = true; }),
      "leaky_relu slope (default 0.01) or elu scale (default 1)")(
      "maxout-pieces", po::value(&m->maxout_pieces)->default_value(m->maxout_pieces),
      "linear pieces per maxout unit")("output", po::value(&m->output)->default_value(m->output),
                                       "output: softmax | sigmoid | identity | auto")(
      "loss", po::value(&m->loss)->default_value(m->loss),
      "loss: cross_entropy | binary_cross_entropy | mse | auto")(
      "init", po::value(&m->init)->default_value(m->init),
      "initialisation: normal | normal_scaled | small | xavier | he | auto");
  return d;
}

po::options_description TrainingOptions(TrainConfig* c, int* threads) {
  po::options_description d("Training");
  d.add_options()("epochs", po::value(&c->epochs)->default_value(c->epochs),
                  "passes over the training set")(
      "batch-size", po::value(&c->batch_size)->default_value(c->batch_size),
      "global mini-batch, split across ranks")("lr", po::value(&c->lr)->default_value(c->lr),
                                               "learning rate eta")(
      "momentum", po::value(&c->sgd.momentum)->default_value(c->sgd.momentum),
      "momentum mu in [0, 1)")("nesterov", po::bool_switch(&c->sgd.nesterov), "Nesterov momentum")(
      "max-steps", po::value(&c->max_steps)->default_value(c->max_steps),
      "stop after this many steps (0: no limit); the lr schedule still spans --epochs")(
      "threads", po::value(threads),
      "OpenBLAS threads per rank (default: 1 under mpirun, all cores alone)")(
      "weight-decay", po::value(&c->sgd.weight_decay)->default_value(0.0),
      "L2 regularisation lambda")("l1", po::value(&c->sgd.l1)->default_value(0.0),
                                  "L1 regularisation lambda")(
      "decay-biases", po::bool_switch(&c->sgd.decay_biases), "apply L1/L2 to biases too")(
      "dropout", po::value(&c->dropout)->default_value(0.0), "dropout probability on hidden units")(
      "max-norm", po::value(&c->sgd.max_norm)->default_value(0.0),
      "max L2 norm of a unit's incoming weights (0: off)")(
      "clip-norm", po::value(&c->sgd.clip_norm)->default_value(0.0),
      "clip the global gradient norm (0: off)")(
      "lr-schedule",
      po::value<std::string>()->default_value("constant")->notifier([c](const std::string& s) {
        c->lr_schedule = LrSchedule::Parse(s);
      }),
      "constant | step | cosine")("lr-gamma", po::value(&c->lr_gamma)->default_value(c->lr_gamma),
                                  "step schedule: factor")(
      "lr-step-epochs", po::value(&c->lr_step_epochs)->default_value(c->lr_step_epochs),
      "step schedule: period")("warmup-epochs", po::value(&c->warmup_epochs)->default_value(0.0),
                               "linear warmup length in epochs")(
      "min-lr", po::value(&c->min_lr)->default_value(0.0), "cosine schedule: final learning rate")(
      "val-fraction", po::value(&c->val_fraction)->default_value(0.0),
      "hold out this fraction of train for validation")(
      "early-stop-patience", po::value(&c->early_stop_patience)->default_value(0),
      "stop after this many epochs without validation improvement (0: off)")(
      "augment", po::bool_switch(&c->augment.enabled), "random shifts and rotations of images")(
      "augment-shift", po::value(&c->augment.max_shift)->default_value(c->augment.max_shift),
      "max shift, pixels")(
      "augment-rotate",
      po::value(&c->augment.max_rotate_deg)->default_value(c->augment.max_rotate_deg),
      "max rotation, degrees")("augment-flip", po::bool_switch(&c->augment.flip),
                               "mirror images left-right with probability 1/2")(
      "erase-prob", po::value(&c->augment.erase_prob)->default_value(0.0),
      "random erasing: probability of blanking a random box of an image")(
      "erase-max-area", po::value(&c->augment.erase_max_area)->default_value(0.25),
      "random erasing: largest box, as a fraction of the image (smallest 0.02)")(
      "input-dropout", po::value(&c->input_dropout)->default_value(0.0),
      "dropout probability on input features")(
      "label-smoothing", po::value(&c->label_smoothing)->default_value(0.0),
      "train against (1-e) one-hot + e/classes (softmax cross-entropy)")(
      "average-epochs", po::value(&c->average_epochs)->default_value(0),
      "final model = mean of the parameters after every step of the last K epochs (0: off)")(
      "metrics", po::value(&c->metrics_path), "append one JSON object per epoch to this file")(
      "save-model", po::value(&c->save_model_path), "write the trained model here")(
      "progress", po::value(&c->progress)->default_value(c->progress), "auto | bar | lines | off")(
      "collective-timeout", po::value(&c->collective_timeout)->default_value(c->collective_timeout),
      "seconds a rank may wait in a collective before the job is ended (0: off)")(
      "allreduce-bucket-kb",
      po::value(&c->allreduce_bucket_kb)->default_value(c->allreduce_bucket_kb),
      "start the gradient allreduce during backward in buckets of this many KiB, last layers "
      "first (0: one allreduce after backward)")(
      "grad-wire", po::value(&c->grad_wire)->default_value(c->grad_wire),
      "gradients on the wire: fp32 | bf16 (half the bytes, rounded; not rank-count exact)");
  return d;
}

po::options_description CheckpointOptions(TrainConfig* c) {
  po::options_description d("Checkpoints");
  d.add_options()("checkpoint-dir", po::value(&c->checkpoint_dir), "write checkpoints here")(
      "checkpoint-every", po::value(&c->checkpoint_every)->default_value(0),
      "checkpoint every STEPS (0: off)")(
      "checkpoint-every-seconds", po::value(&c->checkpoint_every_seconds)->default_value(0.0),
      "checkpoint every S seconds (0: off)")("keep", po::value(&c->keep)->default_value(c->keep),
                                             "keep the newest K checkpoints")(
      "resume", po::value(&c->resume)->default_value(c->resume),
      "auto (newest valid checkpoint in --checkpoint-dir) | none | PATH")(
      "fresh-start-ok", po::bool_switch(&c->fresh_start_ok),
      "with --resume auto: start from scratch even when every checkpoint in the folder is "
      "corrupt (otherwise that is an error)")(
      "allow-seed-change", po::bool_switch(&c->allow_seed_change),
      "resume a checkpoint written with another --seed (the shuffle, dropout and augmentation "
      "change from the resumed step on); without it such a resume is refused");
  return d;
}

namespace {

// Boost names an unknown config key but not its line; find it for the message.
std::string ConfigLineOf(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  const std::string bare = key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.') + 1);
  for (int n = 1; std::getline(in, line); ++n) {
    const size_t eq = line.find('=');
    std::string k = line.substr(0, eq);
    k.erase(0, k.find_first_not_of(" \t"));
    k.erase(k.find_last_not_of(" \t\r") + 1);
    if (!k.empty() && (k == bare || k == key)) return ":" + std::to_string(n);
  }
  return "";
}

// Boost 1.74 builds an error's message by replacing placeholders such as %value% with the values
// of the failing option, again and again until none is left: a value that itself contains
// "%value%" never ends (the parse hung). The values are copied with each '%' replaced by a
// full-width percent sign (U+FF05) before the message is built. The member pointer reaches the
// protected map without pretending the exception is of another type.
struct SubstitutionAccess : po::error_with_option_name {
  using Map = std::map<std::string, std::string>;
  static Map po::error_with_option_name::*Member() { return &SubstitutionAccess::m_substitutions; }
};

std::string SafeWhat(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (named == nullptr) return e.what();
  po::error_with_option_name copy = *named;
  for (auto& kv : copy.*SubstitutionAccess::Member()) {
    std::string safe;
    for (char ch : kv.second) safe += ch == '%' ? std::string("\xef\xbc\x85") : std::string(1, ch);
    kv.second = safe;
  }
  return copy.what();
}

// The option a Boost error is about, without leading dashes ("" for a syntax error).
std::string BareOptionName(const po::error_with_option_name& e) {
  const std::string name = e.get_option_name();
  const size_t start = name.find_first_not_of('-');
  return start == std::string::npos ? "" : name.substr(start);
}

// The 1-based line of a config file's text that equals `wanted` once trimmed (":N", or "" if none).
std::string ConfigLineWithText(const std::string& config, const std::string& wanted) {
  std::istringstream in(config);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line == wanted) return ":" + std::to_string(n);
  }
  return "";
}

}  // namespace

bool ParseCommandLine(const std::string& command, const std::string& usage,
                      po::options_description& opts, int argc, char** argv, po::variables_map* vm,
                      bool print_help) {
  std::string config;
  bool help = false;
  po::options_description general("General");
  general.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "config", po::value(&config),
      "INI file with the same keys as the long options; the command line wins");
  po::options_description all;
  all.add(general).add(opts);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).run(), *vm);
  } catch (const po::error& e) {
    throw UsageError(command + ": " + SafeWhat(e) + " (see dpmlp " + command + " --help)");
  }
  if ((*vm)["help"].as<bool>()) {
    if (print_help)
      std::cout << "usage: dpmlp " << command << " " << usage << "\n" << all << std::flush;
    return false;
  }
  if (vm->count("config")) {
    const std::string path = (*vm)["config"].as<std::string>();
    // Read once, whole: a FIFO cannot be reopened for the line lookups, a directory or an
    // unreadable file must not pass as an empty configuration.
    std::string text;
    try {
      text = ReadInputFile(path);
    } catch (const Error& e) {
      throw UsageError("--config " + std::string(e.what()));
    }
    StripUtf8Bom(&text);  // else it would glue onto the first key ("\xef\xbb\xbfepochs")
    std::istringstream in(text);
    try {
      po::store(po::parse_config_file(in, opts, false), *vm);
    } catch (const po::invalid_config_file_syntax& e) {
      throw UsageError(path + ConfigLineWithText(text, e.tokens()) + ": " + SafeWhat(e) +
                       " (expected 'key = value')");
    } catch (const po::error_with_option_name& e) {
      const std::string name = BareOptionName(e);
      throw UsageError(path + (name.empty() ? "" : ConfigLineOf(text, name)) + ": " + SafeWhat(e));
    } catch (const po::error& e) {
      throw UsageError(path + ": " + SafeWhat(e));
    }
  }
  try {
    po::notify(*vm);
  } catch (const po::error& e) {
    throw UsageError(command + ": " + SafeWhat(e));
  }
  return true;
}

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
  Progress::Check(c.progress);
  // Output files are written late (epoch ends, the end of training): check them now.
  CheckTrainOutputs(c);
  if (c.normalize != "auto" && c.normalize != "scale" && c.normalize != "standardize" &&
      c.normalize != "none")
    fail("unknown value '" + c.normalize +
         "' for --normalize (valid: auto|scale|standardize|none)");
}

}  // namespace dpmlp
