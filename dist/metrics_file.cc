#include "dist/metrics_file.h"

#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"
#include "dpmlp.pb.h"

namespace dpmlp {

int DropMetricsAfterEpoch(const std::string& path, int64_t completed_epochs) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    throw IoError(path + ": cannot read metrics: " + std::strerror(errno));
  }
  std::string text;
  try {
    text = ReadFileBytes(path);
  } catch (const Error& e) {
    throw IoError(e.what());
  }
  std::string kept;
  int dropped = 0;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  for (size_t begin = 0; begin < text.size();) {
    const size_t nl = text.find('\n', begin);
    if (nl == std::string::npos) {  // torn: the attempt died while appending this line
      ++dropped;
      break;
    }
    const std::string line = text.substr(begin, nl - begin);
    begin = nl + 1;
    pb::EpochMetrics m;
    if (google::protobuf::util::JsonStringToMessage(line, &m, options).ok() && m.epoch() > 0 &&
        m.epoch() > completed_epochs) {
      ++dropped;
      continue;
    }
    kept += line + '\n';
  }
  if (dropped > 0) WriteFileAtomic(path, kept);
  return dropped;
}

}  // namespace dpmlp
