// The admin API's read gate: at most AdminOptions::read_slots reads compute at
// once; a read that finds none free waits until its deadline, then fails
// UNAVAILABLE without computing; a slot comes back when a read ends.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "core/strings.h"
#include "core/sync.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "server/admin_service.h"
#include "store/memory_store.h"

namespace drover {
namespace {

namespace pb = admin::v1;

// A backend whose status reads block until released: a read that reached it holds its slot.
class HeldBackend : public AdminBackend {
 public:
  std::shared_ptr<const ClusterStatus> CurrentStatus() const override {
    entered_.fetch_add(1);
    (void)release_.WaitForNotificationWithTimeout(absl::Seconds(30));
    return status_;
  }
  Store* AdminStore() const override { return &store_; }
  absl::StatusOr<AdminApplied> ApplyAdmin(AdminWrite) override { return absl::UnimplementedError("test"); }

  int entered() const { return entered_.load(); }
  void Release() { release_.Notify(); }

 private:
  std::shared_ptr<const ClusterStatus> status_ = std::make_shared<ClusterStatus>();
  mutable MemoryStore store_;
  mutable std::atomic<int> entered_{0};
  Notification release_;
};

std::unique_ptr<grpc::ClientContext> Within(absl::Duration d) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return ctx;
}

// Starts `server` on a free port; a client of it.
std::unique_ptr<pb::Admin::Stub> Serve(AdminServer& server) {
  absl::StatusOr<int> port = server.Start();
  REQUIRE(port.ok());
  return pb::Admin::NewStub(grpc::CreateChannel(StrCat("127.0.0.1:", *port), grpc::InsecureChannelCredentials()));
}

bool WaitFor(const std::function<bool()>& pred) {
  for (absl::Time end = absl::Now() + absl::Seconds(20); absl::Now() < end; absl::SleepFor(absl::Milliseconds(5))) {
    if (pred()) return true;
  }
  return pred();
}

TEST_CASE("admin_reads_beyond_the_slots_wait_then_fail_unavailable_without_computing", "[admin][gate]") {
  HeldBackend backend;
  AdminServer server(&backend, {.host = "127.0.0.1", .port = 0, .anonymous_read = true, .read_slots = 1});
  std::unique_ptr<pb::Admin::Stub> stub = Serve(server);

  grpc::Status first;
  std::thread holder([&] {
    pb::ListQueuesResponse out;
    first = stub->ListQueues(Within(absl::Seconds(30)).get(), pb::ListQueuesRequest(), &out);
  });
  REQUIRE(WaitFor([&] { return backend.entered() == 1; }));  // the one slot is held

  pb::ListQueuesResponse out;
  // It waits for the slot until shortly before its deadline, then says why.
  // (5 s: it gives up 0.5 s early, room for a slow sanitizer run to deliver the answer.)
  grpc::Status busy = stub->ListQueues(Within(absl::Seconds(5)).get(), pb::ListQueuesRequest(), &out);
  CHECK(busy.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(busy.error_message(), Catch::Contains("admin reads are busy: 1 compute at once"));
  CHECK(backend.entered() == 1);  // the refused read never reached the backend

  backend.Release();
  holder.join();
  CHECK(first.ok());
  // The slot came back: the next read computes.
  grpc::Status next = stub->ListQueues(Within(absl::Seconds(20)).get(), pb::ListQueuesRequest(), &out);
  CHECK(next.ok());
  CHECK(backend.entered() == 2);
  server.Stop();
}

TEST_CASE("admin_reads_within_the_slots_compute_side_by_side", "[admin][gate]") {
  HeldBackend backend;
  AdminServer server(&backend, {.host = "127.0.0.1", .port = 0, .anonymous_read = true, .read_slots = 3});
  std::unique_ptr<pb::Admin::Stub> stub = Serve(server);
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      pb::ListQueuesResponse out;
      if (stub->ListQueues(Within(absl::Seconds(30)).get(), pb::ListQueuesRequest(), &out).ok()) ok.fetch_add(1);
    });
  }
  CHECK(WaitFor([&] { return backend.entered() == 3; }));  // three slots: all three inside at once
  backend.Release();
  for (std::thread& t : readers) t.join();
  CHECK(ok.load() == 3);
  server.Stop();
}

}  // namespace
}  // namespace drover
