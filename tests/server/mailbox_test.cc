#include "server/mailbox.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "placement/engine.h"

namespace drover {
namespace {

std::unique_ptr<Engine> NewEngine() {
  absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(DefaultQueueConfig(), EngineOptions{});
  REQUIRE(e.ok());
  return *std::move(e);
}

TEST_CASE("mailbox_runs_commands_of_many_threads_on_the_loop_thread_in_post_order", "[server][mailbox]") {
  std::unique_ptr<Engine> engine = NewEngine();
  Mailbox mailbox(10000);
  std::atomic<bool> done{false};
  std::thread::id loop_id;
  std::thread loop([&] {
    loop_id = std::this_thread::get_id();
    while (!done.load()) mailbox.RunPending(*engine);
    mailbox.RunPending(*engine);
  });
  constexpr int kThreads = 4, kCalls = 200;
  std::vector<std::vector<int>> seen(kThreads);  // written on the loop thread only
  std::vector<std::thread> clients;
  std::atomic<int> wrong_thread{0};
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        auto f = mailbox.Call<int>([&, t, i](Engine& e) -> absl::StatusOr<int> {
          if (std::this_thread::get_id() != loop_id) wrong_thread++;
          seen[t].push_back(i);
          return static_cast<int>(e.pending_pods()) + i;
        });
        absl::StatusOr<int> r = f.get();
        if (!r.ok() || *r != i) wrong_thread++;
      }
    });
  }
  for (std::thread& c : clients) c.join();
  done = true;
  loop.join();
  CHECK(wrong_thread.load() == 0);
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(seen[t].size() == kCalls);
    for (int i = 0; i < kCalls; ++i) CHECK(seen[t][i] == i);
  }
}

TEST_CASE("mailbox_is_bounded_and_refuses_after_close_without_hanging_callers", "[server][mailbox]") {
  std::unique_ptr<Engine> engine = NewEngine();
  Mailbox mailbox(2);
  int woken = 0;
  mailbox.set_waker([&] { ++woken; });
  CHECK(mailbox.Post([](Engine&) {}).ok());
  auto queued = mailbox.Call<int>([](Engine&) -> absl::StatusOr<int> { return 7; });
  CHECK(woken == 2);
  absl::Status full = mailbox.Post([](Engine&) {});
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  auto refused = mailbox.Call<int>([](Engine&) -> absl::StatusOr<int> { return 1; });
  CHECK(refused.get().status().code() == absl::StatusCode::kResourceExhausted);
  mailbox.Close();
  // The command queued before Close is dropped: its caller learns it at once.
  CHECK_THROWS_AS(queued.get(), std::future_error);
  CHECK(mailbox.Post([](Engine&) {}).code() == absl::StatusCode::kUnavailable);
  CHECK(mailbox.RunPending(*engine) == 0);
}

}  // namespace
}  // namespace drover
