// droverctl: Drover's admin CLI. This round it validates quota-as-code files
// offline (`droverctl validate -f queues.yaml`, or `-f -` for standard input);
// the commands that talk to a running droverd arrive with the gRPC admin API.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "CLI/CLI.hpp"
#include "queues/config.h"

namespace {

// Reads a document from standard input, refusing more than the document limit.
absl::StatusOr<std::string> ReadStdin() {
  std::string text;
  char buf[65536];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    text.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (text.size() > drover::kMaxDocumentBytes) {
      return absl::InvalidArgumentError("-f -: standard input is over the document limit of 16 MiB");
    }
  }
  return text;
}

absl::StatusOr<drover::QueueConfig> Load(const std::string& file) {
  if (file != "-") return drover::LoadQueueConfigFile(file);
  absl::StatusOr<std::string> text = ReadStdin();
  if (!text.ok()) return text.status();
  return drover::ParseQueueConfig(*text, "<stdin>");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"droverctl: administer Drover queues"};
  app.require_subcommand(1);
  std::string file;
  CLI::App* validate = app.add_subcommand("validate", "check a quota-as-code document and report every error");
  validate->add_option("-f,--filename", file, "the YAML document ('-' = standard input)")->required();
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<drover::QueueConfig> cfg = Load(file);
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return 1;
  }
  std::printf("%s: valid\n", file == "-" ? "<stdin>" : file.c_str());
  return 0;
}
