// Suggestions for a mistyped name: "did you mean --layers?" from the names that exist.
#pragma once

#include <string>
#include <vector>

namespace dpmlp {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// adjacent characters each cost 1.
int EditDistance(const std::string& a, const std::string& b);

// What to tell someone who typed `typed`, which is none of `names` (all without dashes), each
// name shown with `dashes` in front ("--" on the command line, "" in a config file):
//   "options starting with --l: --l1, --layers, --lr"  when typed begins two or more names;
//   "did you mean --layers?"                            when it begins one, or else for the
//                                                       nearest names within a small distance;
//   ""                                                  when nothing is close.
// Names come out sorted; case and '_' for '-' do not count as typing errors (a name typed with
// them is suggested as itself first).
std::string SuggestNames(const std::string& typed, const std::vector<std::string>& names,
                         const std::string& dashes);

}  // namespace dpmlp
