// Argv and --config files into a variables_map: --help, --print-config, and the messages for an
// unknown option or key (with the nearest option names).
#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/input_file.h"
#include "core/suggest.h"
#include "launcher/options.h"

namespace dpmlp {

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

std::vector<std::string> LongNames(const po::options_description& d) {
  std::vector<std::string> names;
  for (const auto& o : d.options())
    if (!o->long_name().empty()) names.push_back(o->long_name());
  return names;
}

// "; did you mean --layers?" (or the options starting with what was typed) for an unknown
// command-line option as Boost names it ("--layer"); "" for a short option or nothing close.
std::string CommandLineHint(const std::string& typed, const po::options_description& d) {
  if (typed.size() < 3 || typed.compare(0, 2, "--") != 0) return "";
  const std::string s = SuggestNames(typed.substr(2), LongNames(d), "--");
  return s.empty() ? "" : "; " + s;
}

// The same for an unknown config-file key. Boost reads `key` under a [section] line as
// "section.key": when key is an option, the section is the mistake.
std::string ConfigHint(const std::string& key, const po::options_description& d) {
  const std::vector<std::string> names = LongNames(d);
  const size_t dot = key.rfind('.');
  if (dot != std::string::npos &&
      std::find(names.begin(), names.end(), key.substr(dot + 1)) != names.end())
    return "; did you mean " + key.substr(dot + 1) + " (outside any [section])?";
  const std::string s = SuggestNames(key, names, "");
  return s.empty() ? "" : "; " + s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A group's heading in Boost's help text: "Caption:" at the start of a line (options and their
// descriptions are indented).
bool IsHeading(const std::string& line) {
  return !line.empty() && line[0] != ' ' && line.back() == ':';
}

bool EndsWithBlankLine(const std::string& text) {
  return text.size() >= 2 && text.compare(text.size() - 2, 2, "\n\n") == 0;
}

// Boost's help text of d without the heading of a group that has no options, and with no two
// blank lines in a row.
std::string HelpText(const po::options_description& d) {
  std::ostringstream out;
  out << d;
  const std::vector<std::string> lines = Lines(out.str());
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size();
    if (IsHeading(lines[i]) && (last || lines[i + 1].empty() || IsHeading(lines[i + 1]))) continue;
    if (lines[i].empty() && (text.empty() || EndsWithBlankLine(text))) continue;
    text += lines[i] + "\n";
  }
  while (EndsWithBlankLine(text)) text.pop_back();
  return text;
}

// Each option's group heading as d's help text shows it ("" outside any named group).
std::map<std::string, std::string> GroupOf(const po::options_description& d) {
  std::map<std::string, std::string> group;
  std::string caption;
  for (const std::string& line : Lines(HelpText(d))) {
    if (line.empty()) {
      caption.clear();
    } else if (IsHeading(line)) {
      caption = line.substr(0, line.size() - 1);
    } else if (line.compare(0, 3, "  -") == 0 && line.find("--") != std::string::npos) {
      const size_t start = line.find("--") + 2;
      size_t end = start;
      while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) ||
                                   line[end] == '-' || line[end] == '_'))
        ++end;
      group[line.substr(start, end - start)] = caption;
    }
  }
  return group;
}

// An option's value as a config file's value; throws UsageError for text an INI file cannot hold.
std::string IniValue(const std::string& name, const boost::any& v) {
  if (const auto* s = boost::any_cast<std::string>(&v)) {
    if (name == "seed") return OptionText(ParseSeed(*s));
    const bool spaced = !s->empty() && (std::isspace(static_cast<unsigned char>(s->front())) ||
                                        std::isspace(static_cast<unsigned char>(s->back())));
    if (spaced || s->find_first_of("#\r\n") != std::string::npos)
      throw UsageError("--print-config: the value of --" + name + " ('" + *s +
                       "') cannot be written to an INI file ('#' starts a comment there, and "
                       "spaces at either end are dropped)");
    return *s;
  }
  if (const auto* b = boost::any_cast<bool>(&v)) return *b ? "true" : "false";
  if (const auto* x = boost::any_cast<int>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<long>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<long long>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<unsigned>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<unsigned long>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<float>(&v)) return OptionText(*x);
  if (const auto* x = boost::any_cast<double>(&v)) return OptionText(*x);
  throw InternalError("--print-config: no text form for the value of --" + name);
}

// The options of `opts` with their values as an INI file, a "# Group" line before each group;
// an option with no value (no default, not given) is a comment.
std::string ConfigText(const std::string& command, const po::options_description& opts,
                       const po::variables_map& vm) {
  const std::map<std::string, std::string> group = GroupOf(opts);
  std::string text = "# dpmlp " + command + " --config FILE repeats these options\n";
  std::string current = "\n";  // no caption is this: the first option opens its group
  for (const auto& o : opts.options()) {
    const std::string& name = o->long_name();
    if (name.empty()) continue;
    const auto g = group.find(name);
    const std::string caption = g == group.end() ? "" : g->second;
    if (caption != current) {
      text += caption.empty() ? "\n" : "\n# " + caption + "\n";
      current = caption;
    }
    text += vm.count(name) ? name + " = " + IniValue(name, vm[name].value()) + "\n"
                           : "# " + name + " =\n";
  }
  return text;
}

}  // namespace

bool ParseCommandLine(const std::string& command, const std::string& usage,
                      po::options_description& opts, int argc, char** argv, po::variables_map* vm,
                      bool print_help, const std::function<void()>& check) {
  std::string config;
  bool help = false, print_config = false;
  po::options_description general("General");
  // clang-format off
  general.add_options()
      ("help,h", po::bool_switch(&help), "show this help")
      ("config", po::value(&config), "INI file with the same keys as the long options; the command line wins")
      ("print-config", po::bool_switch(&print_config), "print the options in effect as an INI file for --config (defaults included) and exit");
  // clang-format on
  po::options_description all;
  all.add(general).add(opts);
  // No guessing from a prefix: --layer is an error, not --layers.
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    const po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(all).style(style).run();
    // No command takes a bare word: one is a typo (a missing "--", a value without its option),
    // not something to ignore.
    for (const po::option& o : parsed.options)
      if (o.position_key >= 0)
        throw UsageError(command + ": unexpected argument '" +
                         (!o.original_tokens.empty() ? o.original_tokens.front()
                          : !o.value.empty()         ? o.value.front()
                                                     : std::string("?")) +
                         "': every option starts with -- (see dpmlp " + command + " --help)");
    po::store(parsed, *vm);
  } catch (const po::unknown_option& e) {
    throw UsageError(command + ": " + SafeWhat(e) + CommandLineHint(e.get_option_name(), all) +
                     " (see dpmlp " + command + " --help)");
  } catch (const po::error& e) {
    throw UsageError(command + ": " + SafeWhat(e) + " (see dpmlp " + command + " --help)");
  }
  if ((*vm)["help"].as<bool>()) {
    if (print_help)
      std::cout << "usage: dpmlp " << command << " " << usage << "\n\n"
                << HelpText(all) << std::flush;
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
    // Keys are matched whole (parse_config_file never guesses from a prefix).
    try {
      po::store(po::parse_config_file(in, opts, false), *vm);
    } catch (const po::invalid_config_file_syntax& e) {
      throw UsageError(path + ConfigLineWithText(text, e.tokens()) + ": " + SafeWhat(e) +
                       " (expected 'key = value')");
    } catch (const po::unknown_option& e) {
      const std::string name = BareOptionName(e);
      throw UsageError(path + (name.empty() ? "" : ConfigLineOf(text, name)) + ": " + SafeWhat(e) +
                       ConfigHint(name, opts));
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
  if ((*vm)["print-config"].as<bool>()) {
    if (check) check();
    if (print_help) std::cout << ConfigText(command, opts, *vm) << std::flush;
    return false;
  }
  return true;
}

}  // namespace dpmlp
