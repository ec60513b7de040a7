// Start-up checks of the files and folders a run will write, so that a bad one costs no training.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/atomic_file.h"
#include "core/error.h"
#include "launcher/options.h"

namespace dpmlp {

void CheckTrainOutputs(const TrainConfig& c) {
  if (!c.metrics_path.empty()) CheckOutputPath("--metrics", c.metrics_path, /*append=*/true);
  if (!c.save_model_path.empty()) CheckOutputPath("--save-model", c.save_model_path, false);
  if (!c.summary_json_path.empty()) CheckOutputPath("--summary-json", c.summary_json_path, false);
  if (c.checkpoint_dir.empty()) return;
  // A missing folder is created (with its parents) when the run starts; an existing one must be a
  // writable directory.
  struct stat st {};
  if (::stat(c.checkpoint_dir.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode))
    throw UsageError("--checkpoint-dir " + c.checkpoint_dir + ": exists and is not a directory");
  if (::access(c.checkpoint_dir.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    throw UsageError("--checkpoint-dir " + c.checkpoint_dir +
                     ": cannot create files in it: " + std::system_category().message(err));
  }
}

}  // namespace dpmlp
