// droverd's command line: every flag, its default (shown by --help) and its
// check. A bad value is an error naming the flag and the value.
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "server/process.h"
#include "server/sim_setup.h"

namespace drover {

inline constexpr const char* kDroverVersion = "0.2.0-dev";

struct DroverdFlags {
  ProcessOptions process;
  SimInputOptions sim_input;
  bool cluster = false;  // --kubeconfig or --in-cluster given
  bool quiet = false;
  bool version = false;
  bool serve = false;    // simulator: keep serving after the run, until SIGTERM
  std::string serve_speed;  // --serve-speed: virtual seconds per wall second while serving ("" or 0: end state)
  std::string report_json;
  std::string log_level = "info";
  // Text forms, converted by FinishDroverdFlags.
  std::string preemption_delay = "30s";
  std::string until;
  std::string config_poll = "5s";
  std::string usage_interval = "60s";
  std::string lease_duration = "15s";  // the Lease timings (k8s/leader.h); shorter ones speed up failover tests
  std::string lease_renew_deadline = "10s";
  std::string lease_retry_period = "2s";
  std::string token_review_ttl = "10s";
  std::string state_dir = "(default)";  // "(default)": the simulator's build/state, a cluster's none
  std::vector<std::string> config_at;  // "DURATION=PATH"
  std::string webhook_service = "drover-system/drover-webhook";
  std::string webhook_cert_check = "1m";
  std::vector<std::string> simulator_flags_given;
};

// Declares every flag on `app`, writing into `flags`.
void AddDroverdFlags(CLI::App* app, DroverdFlags* flags);
// After parsing: converts durations, checks values and combinations
// (simulator-only flags with a cluster), sets the log level.
absl::Status FinishDroverdFlags(DroverdFlags* flags);

// True if `name` is a lowercase RFC 1123 subdomain (Kubernetes object names).
bool IsDnsSubdomain(std::string_view name);
// The same as a flag check (Lease and scheduler names): error names `flag` and the value.
absl::Status CheckDnsSubdomain(std::string_view flag, std::string_view value);

}  // namespace drover
