// droverd: the Drover scheduler daemon. Flag parsing, then server/Process.
//
// With no arguments it runs on the embedded simulated cluster with the example
// in examples/ and prints a report. With --kubeconfig or --in-cluster it
// schedules a real cluster (see k8s/README.md).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "core/strings.h"
#include "server/droverd_flags.h"
#include "server/process.h"
#include "server/sim_setup.h"
#include "sim/report.h"
#include "spdlog/spdlog.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<drover::Process*> g_process{nullptr};
void OnStop(int) { g_stop.store(true); }
// SIGHUP re-reads the quota document; it never stops the daemon.
void OnHangup(int) {
  if (drover::Process* p = g_process.load()) p->RequestReload();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "droverd: %s\n", what.c_str());
  return 2;
}

int RunCluster(drover::ProcessOptions options) {
  drover::Process process(std::move(options));
  g_process.store(&process);
  std::signal(SIGINT, OnStop);
  std::signal(SIGTERM, OnStop);
  std::signal(SIGHUP, OnHangup);
  absl::Status s = process.RunCluster(g_stop);
  g_process.store(nullptr);
  return s.ok() ? 0 : Fail(std::string(s.message()));
}

int RunSimulated(const drover::DroverdFlags& f) {
  std::signal(SIGHUP, SIG_IGN);  // nothing to re-read mid-simulation: never die of it
  drover::ProcessOptions options = f.process;
  const bool paced = f.serve && options.sim.speed > 0;
  if (f.serve) {
    std::signal(SIGINT, OnStop);
    std::signal(SIGTERM, OnStop);
    options.sim.stop = &g_stop;  // a paced run ends early on SIGTERM
  }
  drover::Process process(std::move(options));
  absl::StatusOr<drover::QueueConfig> config = process.LoadQueues();
  if (!config.ok()) return Fail(std::string(config.status().message()));
  absl::StatusOr<drover::SimInput> input = drover::LoadSimInput(f.sim_input, *config);
  if (!input.ok()) return Fail(std::string(input.status().message()));
  spdlog::info("simulating {} nodes and {} pods with policy {}{}", input->nodes.size(), input->pods.size(),
               f.process.engine.policy,
               paced ? drover::StrCat(", in real time x", f.process.sim.speed, " while serving") : std::string());
  // --serve-speed: the HTTP status and the admin API answer while the simulation runs.
  if (paced) {
    if (absl::Status s = process.StartServing(); !s.ok()) return Fail(std::string(s.message()));
  }
  absl::StatusOr<drover::SimRunResult> result = process.RunSimulated(*std::move(config), *std::move(input));
  if (!result.ok()) return Fail(std::string(result.status().message()));
  if (!f.quiet) std::fputs(drover::FormatReportTable(result->report).c_str(), stdout);
  if (!f.report_json.empty()) {
    const std::string json = drover::FormatReportJson(result->report) + "\n";
    if (f.report_json == "-") {
      std::fputs(json.c_str(), stdout);
    } else if (std::ofstream out(f.report_json); out) {
      out << json;
    } else {
      return Fail("--report-json: cannot write \"" + f.report_json + "\"");
    }
  }
  if (f.serve) {
    std::fflush(stdout);
    if (absl::Status s = process.Serve(g_stop); !s.ok()) return Fail(std::string(s.message()));
  }
  return result->report.violations.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"droverd: GPU batch scheduler for Kubernetes (simulated cluster by default)"};
  drover::DroverdFlags flags;
  drover::AddDroverdFlags(&app, &flags);
  CLI11_PARSE(app, argc, argv);
  if (flags.version) {
    std::printf("droverd %s\n", drover::kDroverVersion);
    return 0;
  }
  if (absl::Status s = drover::FinishDroverdFlags(&flags); !s.ok()) return Fail(std::string(s.message()));
  return flags.cluster ? RunCluster(std::move(flags.process)) : RunSimulated(flags);
}
