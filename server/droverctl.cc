// droverctl: Drover's admin CLI. This round it validates quota-as-code files
// offline (`droverctl validate -f queues.yaml`); the commands that talk to a
// running droverd arrive with the gRPC admin API.
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "queues/config.h"

int main(int argc, char** argv) {
  CLI::App app{"droverctl: administer Drover queues"};
  app.require_subcommand(1);
  std::string file;
  CLI::App* validate = app.add_subcommand("validate", "check a quota-as-code document and report every error");
  validate->add_option("-f,--filename", file, "the YAML document")->required();
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<drover::QueueConfig> cfg = drover::LoadQueueConfigFile(file);
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return 1;
  }
  std::printf("%s: valid\n", file.c_str());
  return 0;
}
