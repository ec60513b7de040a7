// Drawing through gnuplot (Debian's gnuplot-nox): a figure is a PNG, its data files and a gnuplot
// script, all in one directory; the script names its files relative to that directory, so
// `cd DIR && gnuplot fit.gp` redraws it.
#pragma once

#include <string>
#include <vector>

namespace dpmlp {

// Pixel size of a PNG.
struct PlotSize {
  int width = 0, height = 0;
};
// "WIDTHxHEIGHT" (each 100..10000); throws UsageError naming `option` otherwise.
PlotSize ParsePlotSize(const std::string& text, const std::string& option);

// A figure's files. The data files and the script are written by the figure's function; the PNG
// by DrawFigure.
struct Figure {
  std::string png, script;
  PlotSize size;  // of the PNG
  std::vector<std::string> data_files;
};

// Paths of a figure's companion files: for png "out/fit.png", FigureFile(png, "curve.dat") is
// "out/fit.curve.dat" and FigureFile(png, "gp") is "out/fit.gp".
std::string FigureFile(const std::string& png, const std::string& suffix);

// A gnuplot string literal holding `text` (single-quoted, quotes doubled).
std::string GnuplotQuote(const std::string& text);
// A gnuplot string literal for `path`, relative to the figure's directory (its base name).
std::string GnuplotName(const std::string& path);

// The gnuplot program: $DPMLP_GNUPLOT when set (a path, or a name looked up in PATH), else
// "gnuplot" in PATH. Empty when it is not there.
std::string FindGnuplot();

// The message for a missing gnuplot: names the Debian package gnuplot-nox and DPMLP_GNUPLOT, and
// says which files were written and how to draw them later.
std::string GnuplotMissingMessage(const std::vector<Figure>& figures);

// Runs `gnuplot script` in the script's directory. Throws IoError when gnuplot cannot be started,
// fails, or leaves no non-empty PNG.
void DrawFigure(const std::string& gnuplot, const Figure& figure);

}  // namespace dpmlp
