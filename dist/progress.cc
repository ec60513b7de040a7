#include "dist/progress.h"

#include <unistd.h>

#include <ctime>

#include "core/error.h"
#include "core/number_text.h"

namespace dpmlp {

void Progress::Check(const std::string& m) {
  if (m != "auto" && m != "bar" && m != "lines" && m != "off")
    throw UsageError("unknown value '" + m + "' for --progress (valid: auto|bar|lines|off)");
}

Progress::Progress(const std::string& mode, bool enabled, bool bar_allowed, std::FILE* out)
    : out_(out) {
  Check(mode);
  if (!enabled || mode == "off")
    mode_ = Mode::kOff;
  else if (mode == "bar" || (mode == "auto" && bar_allowed && isatty(fileno(out))))
    mode_ = Mode::kBar;
  else
    mode_ = Mode::kLines;
}

void Progress::StartEpoch(int64_t epoch, int64_t epochs, int64_t total, int64_t done) {
  epoch_ = epoch, epochs_ = epochs, total_ = total, start_done_ = done;
  start_ = last_draw_ = Clock::now();
  drawn_ = false;
}

void Progress::Update(int64_t done, double mean_loss) {
  if (mode_ == Mode::kOff) return;
  const auto now = Clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  // A bar is redrawn ten times a second; a log line every ten seconds.
  if (since_draw < (mode_ == Mode::kBar ? 0.1 : 10.0)) return;
  last_draw_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? (done - start_done_) / secs : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0.0;
  const double frac = total_ > 0 ? double(done) / total_ : 1.0;
  if (mode_ == Mode::kBar) {
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
    std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s] %3.0f%%  %.1fk samples/s  loss %s  ETA %.0fs",
                 (long long)epoch_ + 1, (long long)epochs_, bar.c_str(), 100 * frac, rate / 1000,
                 MetricText(mean_loss).c_str(), eta);
    drawn_ = true;
  } else {
    char stamp[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", std::localtime(&t));
    std::fprintf(out_, "%s epoch %lld/%lld %3.0f%% %.1fk samples/s loss %s ETA %.0fs\n", stamp,
                 (long long)epoch_ + 1, (long long)epochs_, 100 * frac, rate / 1000,
                 MetricText(mean_loss).c_str(), eta);
  }
  std::fflush(out_);
}

void Progress::EndEpoch() {
  if (mode_ == Mode::kBar && drawn_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  drawn_ = false;
}

}  // namespace dpmlp
