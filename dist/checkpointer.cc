#include "dist/checkpointer.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "dist/rank_zero.h"
#include "proto/checkpoint_dir.h"
#include "proto/checkpoint_lock.h"
#include "proto/framed_file.h"

namespace dpmlp {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Checkpointer::Checkpointer(Communicator& comm, const TrainConfig& cfg, const ModelSpec& spec,
                           std::FILE* out)
    : comm_(comm), cfg_(cfg), spec_(spec), out_(out) {}

Checkpointer::~Checkpointer() = default;

void Checkpointer::Say(const std::string& text) {
  if (!out_) return;
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void Checkpointer::Open() {
  if (!enabled()) return;
  RankZeroWrites(comm_, [&] {
    lock_ = std::make_unique<CheckpointDirLock>(cfg_.checkpoint_dir);
    if (!lock_->warning().empty()) Say("warning: " + lock_->warning() + "\n");
    auto check = [this](const std::string& path, const std::string& payload) {
      const ModelData m = ModelFromProto(ParseCheckpoint(payload, path).model(), path);
      if (!SpecMismatches(m.spec, spec_).empty())
        throw UsageError(path + ": a checkpoint of another model");
    };
    pruner_ = std::make_unique<CheckpointPruner>(
        cfg_.checkpoint_dir, cfg_.keep, check,
        [this](const std::string& w) { Say("warning: " + w + "\n"); },
        MaxCheckpointPayloadBytes(spec_));
  });
}

std::string Checkpointer::Write(const ModelData& model, const TrainingState& state, int64_t step) {
  for (float v : model.params)
    if (!std::isfinite(v))
      throw CollectiveError(
          kExitDiverged,
          "step " + std::to_string(step) + ": parameters are not finite; no checkpoint written");
  const std::string path = CheckpointPath(cfg_.checkpoint_dir, step);
  RankZeroWrites(comm_, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    EnsureDirectory(cfg_.checkpoint_dir);
    std::string bytes;
    MakeCheckpoint(model, cfg_, state, comm_.size()).SerializeToString(&bytes);
    WriteFramedFile(path, FramedKind::kCheckpoint, bytes);  // durable when it returns
    pruner_->Prune(step);
    char line[512];
    std::snprintf(line, sizeof line, "checkpoint %s (%.1f MB, %.1f ms)\n", path.c_str(),
                  bytes.size() / 1e6, 1000 * Since(t0));
    Say(line);
  });
  return path;
}

std::string Checkpointer::Find() {
  const uint64_t max_bytes = MaxCheckpointPayloadBytes(spec_);
  if (cfg_.resume != "auto") {
    const std::string payload = ReadFramedFile(cfg_.resume, FramedKind::kCheckpoint, max_bytes);
    ParseCheckpoint(payload, cfg_.resume);
    return cfg_.resume + '\0' + payload;
  }
  CheckpointEntry found;
  std::string payload;
  const bool ok = FindNewestValid(
      cfg_.checkpoint_dir,
      [&](const std::string& path, const std::string& p) {
        ParseCheckpoint(p, path);
        payload = p;
      },
      [&](const std::string& w) { Say("warning: " + w + "\n"); }, &found, max_bytes);
  const size_t named = ok ? 0 : ListCheckpoints(cfg_.checkpoint_dir).size();
  if (named > 0 && !cfg_.fresh_start_ok)
    throw UsageError("--resume auto: none of the " + std::to_string(named) +
                     " checkpoint file(s) in " + cfg_.checkpoint_dir +
                     " is valid (see the warnings): not starting fresh over them; fix or "
                     "remove them, or add --fresh-start-ok to start from scratch");
  return ok ? found.path + '\0' + payload : "";
}

std::optional<Checkpointer::Loaded> Checkpointer::Load() {
  if (cfg_.resume == "none" || (cfg_.resume == "auto" && !enabled())) return std::nullopt;
  // Rank 0 finds and reads the file; the bytes (or the error) go to every rank.
  const std::string found = RankZeroActs(comm_, [&] { return Find(); });
  if (found.empty()) {
    Say("no checkpoint in " + cfg_.checkpoint_dir + ": starting fresh\n");
    return std::nullopt;
  }
  const auto t0 = std::chrono::steady_clock::now();
  Loaded loaded;
  const size_t nul = found.find('\0');
  loaded.path = found.substr(0, nul);
  loaded.checkpoint = ParseCheckpoint(found.substr(nul + 1), loaded.path);
  loaded.parse_seconds = Since(t0);
  CheckResumable(loaded.checkpoint, loaded.path);
  return loaded;
}

// Every rank, on the same bytes: the checkpoint's model must be the requested one, the options
// that cannot change have not, and the seed only with --allow-seed-change. Says what changes.
void Checkpointer::CheckResumable(const pb::Checkpoint& ck, const std::string& path) {
  const auto refuse = [&](const std::string& why, const std::vector<std::string>& items) {
    std::string all;
    for (const auto& s : items) all += "\n  " + s;
    if (!items.empty()) throw CollectiveError(kExitUsage, path + ": " + why + all);
  };
  const ModelData m = ModelFromProto(ck.model(), path);
  refuse("the checkpoint's model differs from the requested one:", SpecMismatches(m.spec, spec_));
  refuse("cannot resume with these options changed (the weights assume the checkpoint's values):",
         RefusedChanges(ck.options(), cfg_));
  // The seed picks every epoch's order, dropout masks and augmentation: a new one mid-run
  // silently changes the rest of training.
  if (ck.seed() != cfg_.seed) {
    const std::string both =
        "--seed " + std::to_string(cfg_.seed) + " (checkpoint: " + std::to_string(ck.seed()) + ")";
    if (!cfg_.allow_seed_change)
      throw CollectiveError(kExitUsage,
                            path + ": the checkpoint was written with another seed: " + both +
                                "; rerun with --seed " + std::to_string(ck.seed()) +
                                ", or add --allow-seed-change to continue with the new one");
    Say("resume: using new value " + both + " (--allow-seed-change)\n");
  }
  for (const std::string& change : OptionChanges(ck.options(), cfg_))
    Say("resume: using new value " + change + "\n");
  if (!cfg_.init_from.empty())
    Say("resume: --init-from " + cfg_.init_from + " not applied (the checkpoint's state wins)\n");
  if (m.spec.init != spec_.init)
    Say(std::string("resume: --init ") + Name(spec_.init) +
        " has no effect (the weights come from the checkpoint)\n");
}

void Checkpointer::WriteBest(const ModelData& model) {
  RankZeroWrites(comm_, [&] { SaveModelFile(BestPath(), model); });
}

std::vector<float> Checkpointer::ReadBest() {
  const std::string best =
      RankZeroActs(comm_, [&] { return ReadFramedFile(BestPath(), FramedKind::kModel); });
  return ModelFromPayload(FramedKind::kModel, best, BestPath()).params;
}

}  // namespace dpmlp
