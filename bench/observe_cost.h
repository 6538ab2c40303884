// What watching droverd costs, on a published status: one /metrics scrape
// (server/metrics.h) and the web page's JSON (server/admin_reads.h through
// Protobuf's JSON mapping, as server/page_routes.cc serves it). Used by
// status_bench (--observe); prints figures, asserts nothing.
#pragma once

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "server/admin_reads.h"
#include "server/metrics.h"
#include "store/memory_store.h"

namespace drover::bench {

// The admin API's view of a StatusBoard (no writes, an empty in-memory store).
class BoardBackend : public AdminBackend {
 public:
  explicit BoardBackend(const StatusBoard* board) : board_(board) {}
  std::shared_ptr<const ClusterStatus> CurrentStatus() const override { return board_->Get(); }
  Store* AdminStore() const override { return &store_; }
  absl::StatusOr<AdminApplied> ApplyAdmin(AdminWrite) override { return absl::UnimplementedError("bench"); }

 private:
  const StatusBoard* board_;
  mutable MemoryStore store_;
};

inline std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// Runs `fn` `runs` times; prints "label p50 ... p99 ... bytes".
template <typename Fn>
void Time(const char* label, int runs, Fn fn) {
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < runs; ++i) {
    const double t0 = NowSec();
    bytes = fn();
    ms.push_back((NowSec() - t0) * 1e3);
  }
  std::printf("  %-34s p50 %7.2f ms  p99 %7.2f ms  %9zu bytes\n", label, Percentile(ms, 0.5), Percentile(ms, 0.99), bytes);
}

// Prints the cost of a scrape and of each JSON answer the page asks for, on `board`'s status.
inline void PrintObserveCost(const StatusBoard* board, const Metrics* metrics, int runs) {
  BoardBackend backend(board);
  AdminReads reads(&backend);
  const std::shared_ptr<const ClusterStatus> st = board->Get();
  std::printf("observe: %zu queues, %zu GPU types, %zu pending workloads\n", st->queues.size(), st->gpus.size(),
              st->pending->workloads.size());
  Time("/metrics scrape", runs, [&] { return metrics->Render().size(); });
  Time("page: queues JSON", runs, [&] { return ToJson(reads.ListQueues()).size(); });
  admin::v1::ListPendingRequest first;
  Time("page: pending JSON, first 100", runs, [&] { return ToJson(*reads.ListPending(first)).size(); });
  admin::v1::ListPendingRequest last;
  last.set_page_size(100);
  last.set_page_token(std::to_string(st->pending->workloads.size() > 100 ? st->pending->workloads.size() - 100 : 0));
  Time("page: pending JSON, last 100", runs, [&] { return ToJson(*reads.ListPending(last)).size(); });
  Time("page: inventory JSON", runs, [&] { return ToJson(reads.GetInventory({})).size(); });
}

}  // namespace drover::bench
