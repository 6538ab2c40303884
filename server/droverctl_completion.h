// `droverctl completion bash`: a bash completion script generated from the CLI11
// command tree, so every verb and flag droverctl has is completed, and none it lacks.
//
//   source <(droverctl completion bash)
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace drover {

// The script for `app`, the command `name`: completes subcommands and the flags of
// the deepest subcommand typed so far, plus the global flags.
std::string BashCompletion(const CLI::App& app, const std::string& name);

}  // namespace drover
