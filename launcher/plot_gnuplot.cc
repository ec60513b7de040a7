#include "launcher/plot_gnuplot.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace dpmlp {

namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

PlotSize ParsePlotSize(const std::string& text, const std::string& option) {
  PlotSize s;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%dx%d%c", &s.width, &s.height, &extra) != 2 || s.width < 100 ||
      s.height < 100 || s.width > 10000 || s.height > 10000)
    throw UsageError(option + " " + text +
                     ": expected WIDTHxHEIGHT in pixels, each 100..10000 (e.g. 900x600)");
  return s;
}

std::string FigureFile(const std::string& png, const std::string& suffix) {
  const std::string base = BaseName(png);
  const size_t dot = base.rfind('.');
  const std::string stem = png.substr(0, png.size() - base.size()) +
                           (dot == std::string::npos || dot == 0 ? base : base.substr(0, dot));
  return stem + "." + suffix;
}

std::string GnuplotQuote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

std::string GnuplotName(const std::string& path) { return GnuplotQuote(BaseName(path)); }

std::string FindGnuplot() {
  const char* env = std::getenv("DPMLP_GNUPLOT");
  const std::string name = env && *env ? env : "gnuplot";
  if (name.find('/') != std::string::npos) return IsExecutableFile(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > at ? dirs.substr(at, end - at) : ".";
    if (IsExecutableFile(dir + "/" + name)) return dir + "/" + name;
    at = end + 1;
  }
  return "";
}

std::string GnuplotMissingMessage(const std::vector<Figure>& figures) {
  const char* env = std::getenv("DPMLP_GNUPLOT");
  std::string m = std::string("gnuplot not found") +
                  (env && *env ? " (DPMLP_GNUPLOT=" + std::string(env) + ")" : " in PATH") +
                  ": install the Debian package gnuplot-nox (apt-get install gnuplot-nox), or set "
                  "DPMLP_GNUPLOT to the gnuplot program. Written anyway:";
  for (const Figure& f : figures) {
    for (const std::string& d : f.data_files) m += " " + d;
    m += " " + f.script;
  }
  m += "; to draw later: ";
  for (size_t i = 0; i < figures.size(); ++i)
    m += (i ? "; " : "") + std::string("cd ") + DirName(figures[i].script) + " && gnuplot " +
         BaseName(figures[i].script);
  return m;
}

void DrawFigure(const std::string& gnuplot, const Figure& figure) {
  // posix_spawn (not fork): no copy of an MPI process's address space, and it reports a failed
  // exec through its return value.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string dir = DirName(figure.script), script = BaseName(figure.script);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  std::vector<char*> argv = {const_cast<char*>(gnuplot.c_str()), const_cast<char*>(script.c_str()),
                             nullptr};
  ::unlink(figure.png.c_str());  // a stale PNG must not pass for a new one
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw IoError(gnuplot + ": cannot run: " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw IoError(gnuplot + " failed on " + figure.script + " (" +
                  (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status))) +
                  "); its message is above");
  struct stat st;
  if (::stat(figure.png.c_str(), &st) != 0 || st.st_size == 0)
    throw IoError(figure.png + ": gnuplot ran but wrote no image");
}

}  // namespace dpmlp
