#include "server/droverd_flags.h"

#include <catch2/catch.hpp>

#include "core/strings.h"

namespace drover {
namespace {

// Parses droverd's command line; the error text (CLI11's or ours), "" if none.
std::string Parse(std::vector<std::string> args, DroverdFlags* f) {
  CLI::App app{"droverd"};
  AddDroverdFlags(&app, f);
  args.insert(args.begin(), "droverd");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  absl::Status s = FinishDroverdFlags(f);
  return s.ok() ? "" : std::string(s.message());
}

std::string Parse(std::vector<std::string> args) {
  DroverdFlags f;
  return Parse(std::move(args), &f);
}

TEST_CASE("bad_flags_are_errors_naming_the_flag_and_value", "[server][flags]") {
  const std::string kube = "--kubeconfig=/dev/null";
  CHECK(Parse({kube, "--lease-name", "Bad Name!"}).find("--lease-name: \"Bad Name!\"") != std::string::npos);
  CHECK(Parse({kube, "--health-port", "99999"}).find("99999") != std::string::npos);
  CHECK(Parse({kube, "--bind-workers", "0"}).find("bind-workers") != std::string::npos);
  CHECK(Parse({"--scheduler-name", ""}).find("--scheduler-name") != std::string::npos);
  CHECK(Parse({kube, "--kube-api-qps", "-1"}).find("kube-api-qps") != std::string::npos);
  CHECK(Parse({"--preemption-delay", "99999999999999h"}).find("--preemption-delay") != std::string::npos);
  CHECK(Parse({"--preemption-delay", "soon"}).find("--preemption-delay") != std::string::npos);
  CHECK(Parse({"--config-at", "2h"}).find("--config-at: \"2h\" is not DURATION=PATH") != std::string::npos);
  CHECK(Parse({"--log-level", "loud"}).find("loud") != std::string::npos);
  CHECK(Parse({kube, "--generate", "nodes=5"}).find("--generate is for the simulated cluster") != std::string::npos);
  CHECK(Parse({"--queues-configmap", "ns/q"}).find("--queues-configmap needs a cluster") != std::string::npos);
}

TEST_CASE("good_flags_fill_the_process_options", "[server][flags]") {
  DroverdFlags f;
  REQUIRE(Parse({"--preemption-delay", "0", "--config-at", "90m=q2.yaml", "--until", "3h"}, &f).empty());
  CHECK(f.process.engine.preemption_delay_ms == 0);
  REQUIRE(f.process.sim_configs.size() == 1);
  CHECK(f.process.sim_configs[0].at_ms == 90 * 60 * 1000);
  CHECK(f.process.sim_configs[0].path == "q2.yaml");
  CHECK(f.process.sim.until_ms == 3 * 3600 * 1000);
  CHECK(f.process.http_port == -1);  // the simulator serves no HTTP unless asked
  CHECK_FALSE(f.cluster);
  DroverdFlags k;
  REQUIRE(Parse({"--kubeconfig=/dev/null", "--queues-configmap", "drover-system/drover-queues"}, &k).empty());
  CHECK(k.cluster);
  CHECK(k.process.http_port == 10251);
  CHECK(k.process.admin_port == 10252);
  CHECK(f.process.admin_port == -1);  // a plain simulation serves no admin API
}

TEST_CASE("serve_keeps_the_simulator_up_with_http_and_the_admin_api", "[server][flags]") {
  DroverdFlags f;
  REQUIRE(Parse({"--serve"}, &f).empty());
  CHECK(f.serve);
  CHECK(f.process.http_port == 10251);
  CHECK(f.process.admin_port == 10252);
  CHECK(f.process.admin_tokens_path.ends_with("examples/admin-tokens.csv"));
  DroverdFlags g;
  REQUIRE(Parse({"--serve", "--admin-port", "-1", "--admin-anonymous-read"}, &g).empty());
  CHECK(g.process.admin_port == -1);
  CHECK(g.process.admin_tokens_path.empty());
  CHECK(g.process.admin_anonymous_read);
  CHECK(Parse({"--kubeconfig=/dev/null", "--serve"}).find("--serve") != std::string::npos);
  CHECK(Parse({"--admin-port", "70000"}).find("70000") != std::string::npos);
}

TEST_CASE("serve_speed_flag_is_checked_naming_flag_and_value", "[server][flags]") {
  DroverdFlags f;
  CHECK(Parse({"--serve", "--serve-speed", "60"}, &f).empty());
  CHECK(f.process.sim.speed == 60);
  CHECK(Parse({"--serve", "--serve-speed", "0"}).empty());
  for (const char* bad : {"-2", "fast", "nan", "1e9"}) {
    CHECK(Parse({"--serve", "--serve-speed", bad}).find(StrCat("--serve-speed: \"", bad, "\" is not a speed factor")) == 0);
  }
  CHECK(Parse({"--serve-speed", "60"}) == "--serve-speed: \"60\" needs --serve");
  CHECK(Parse({"--kubeconfig=/dev/null", "--serve-speed", "60"}).find("--serve-speed is for the simulated cluster") == 0);
}

}  // namespace
}  // namespace drover
