// Process: the parts shared by both modes, and the simulated cluster.
#include "server/process.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "core/strings.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

// How long a configuration apply may wait for the loop before it is reported
// as not applied (the loop runs commands between cycles; a cycle is short).
constexpr auto kApplyWait = std::chrono::seconds(60);

}  // namespace

Process::Process(ProcessOptions options) : options_(std::move(options)) {}

Process::~Process() {
  if (live_) live_->Stop();
  mailbox_.Close();
}

absl::StatusOr<QueueConfig> Process::LoadQueues() {
  if (options_.queues_path.empty()) {
    static_config_ = ConfigStatus{1, "", "built-in (one root queue)", absl::ToUnixMillis(absl::Now()), ""};
    return DefaultQueueConfig();
  }
  live_ = std::make_unique<LiveConfig>(std::make_unique<FileConfigSource>(options_.queues_path),
                                       [this](QueueConfig c) { return ApplyThroughMailbox(std::move(c)); });
  return live_->LoadInitial();
}

absl::Status Process::BuildEngine(QueueConfig config) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(std::move(config), options_.engine);
  if (!engine.ok()) return engine.status();
  engine_ = *std::move(engine);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Process::ApplyThroughMailbox(QueueConfig config) {
  auto shared = std::make_shared<QueueConfig>(std::move(config));
  std::future<absl::StatusOr<std::vector<std::string>>> f = mailbox_.Call<std::vector<std::string>>(
      [shared](Engine& e) -> absl::StatusOr<std::vector<std::string>> { return e.ApplyConfig(std::move(*shared)); });
  if (f.wait_for(kApplyWait) != std::future_status::ready) {
    return absl::DeadlineExceededError("the scheduling loop did not take the document within 60 s");
  }
  try {
    return f.get();
  } catch (const std::future_error&) {
    return absl::UnavailableError("the scheduling loop stopped before applying the document");
  }
}

int64_t Process::ApplyTimedConfigs(int64_t now_ms, size_t* next) {
  const std::vector<TimedConfig>& timed = options_.sim_configs;
  while (*next < timed.size() && timed[*next].at_ms <= now_ms) {
    const TimedConfig& t = timed[(*next)++];
    absl::StatusOr<QueueConfig> config = LoadQueueConfigFile(t.path);
    if (!config.ok()) {
      static_config_.last_error = std::string(config.status().message());
      spdlog::error("configuration at {} ms: refused {}; revision {} stays:\n{}", now_ms, t.path,
                    static_config_.revision, static_config_.last_error);
      continue;
    }
    for (const std::string& note : engine_->ApplyConfig(*std::move(config))) {
      spdlog::warn("configuration at {} ms: {}", now_ms, note);
    }
    static_config_.revision += 1;
    static_config_.source = "file " + t.path;
    static_config_.last_error.clear();
    spdlog::info("configuration at {} ms: applied revision {} from {}", now_ms, static_config_.revision, t.path);
  }
  return *next < timed.size() ? timed[*next].at_ms : -1;
}

absl::StatusOr<SimRunResult> Process::RunSimulated(QueueConfig initial, SimInput input) {
  if (absl::Status s = BuildEngine(std::move(initial)); !s.ok()) return s;
  if (live_) static_config_ = live_->status();
  std::sort(options_.sim_configs.begin(), options_.sim_configs.end(),
            [](const TimedConfig& a, const TimedConfig& b) { return a.at_ms < b.at_ms; });
  SimCluster sim(std::move(input));
  SimRunOptions run = options_.sim;
  size_t next_config = 0;
  if (!options_.sim_configs.empty()) {
    run.on_time = [this, &next_config](Engine*, int64_t now) { return ApplyTimedConfigs(now, &next_config); };
  }
  run.mailbox = &mailbox_;
  run.board = &board_;
  run.inputs = [this] { return StatusInputs{true, true, static_config_, {}}; };
  return RunSimulation(engine_.get(), &sim, run);
}

}  // namespace drover
