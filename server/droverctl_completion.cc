#include "server/droverctl_completion.h"

#include <vector>

#include "CLI/CLI.hpp"
#include "core/strings.h"

namespace drover {
namespace {

// "--server --token -o --output ..." for `app`'s own options (positionals left out).
std::string Flags(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& s : o->get_snames()) StrAppend(&out, " -", s);
    for (const std::string& l : o->get_lnames()) StrAppend(&out, " --", l);
  }
  return out;
}

// One "path|words" per subcommand below `app`, deepest first.
void Collect(const CLI::App& app, const std::string& path, std::vector<std::pair<std::string, std::string>>* out) {
  std::string words = Flags(app);
  const auto subs = const_cast<CLI::App&>(app).get_subcommands([](CLI::App*) { return true; });
  for (const CLI::App* s : subs) StrAppend(&words, " ", s->get_name());
  for (const CLI::App* s : subs) Collect(*s, StrCat(path, " ", s->get_name()), out);
  out->emplace_back(path, words);
}

}  // namespace

std::string BashCompletion(const CLI::App& app, const std::string& name) {
  std::vector<std::pair<std::string, std::string>> cases;
  Collect(app, "", &cases);  // the root comes last: it matches anything
  const std::string global = Flags(app);
  std::string known = "|";
  for (const auto& c : cases) StrAppend(&known, c.first, "|");
  // The path is made only of known subcommands, so flag values do not get in its way.
  std::string script = StrCat("# bash completion for ", name, " (generated: source <(", name, " completion bash))\n_",
                              name, "() {\n  local cur=${COMP_WORDS[COMP_CWORD]} w path=\"\" words\n",
                              "  local known=\"", known, "\"\n",
                              "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n",
                              "    case \"$known\" in *\"|$path $w|\"*) path=\"$path $w\" ;; esac\n  done\n",
                              "  case \"$path\" in\n");
  for (const auto& [path, words] : cases) {
    StrAppend(&script, "    ", path.empty() ? "*" : StrCat("\"", path, "\""), ") words=\"", words,
              path.empty() ? "" : global, "\" ;;\n");
  }
  StrAppend(&script, "  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -F _", name, " ", name,
            "\n");
  return script;
}

}  // namespace drover
