// store_bench's apply and mirror: the latency of a configuration apply.
//   local   Store::Apply (the revision and the active pointer, one synced batch),
//           and ConfigHistory::RecordAdmin without a mirror (the revision, then
//           its audit record, each synced): an admin apply outside a cluster
//   mirror  ConfigHistory::RecordAdmin as the cluster leader does it: the
//           ControllerRevision created through the API server (a POST over
//           HTTP, KubeRevisionMirror), then the same two synced writes. The API
//           server is the project's Python test server (tests/k8s_api_server),
//           which keeps objects in memory: a real kube-apiserver adds its own
//           admission and etcd's replicated, synced write to each create.
#include <cstdio>
#include <vector>

#include "bench/bench_util.h"
#include "bench/store_bench.h"
#include "k8s/http_client.h"
#include "server/config_history.h"
#include "server/revision_mirror.h"
#include "server/store_health.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::store_bench {
namespace {

std::string Document(int i) {  // examples/queues.yaml's size, a different text each time
  std::string doc(2090, 'q');
  doc[static_cast<size_t>(i) % doc.size()] = static_cast<char>('a' + i % 26);
  doc += std::to_string(i);
  return doc;
}

Latency Percentiles(const std::vector<double>& ms) {
  return {bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99)};
}

// `n` admin applies through `history`, each timed.
std::vector<double> AdminApplies(ConfigHistory& history, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const double t0 = bench::NowSec();
    absl::StatusOr<int64_t> r = history.RecordAdmin(Document(i), "bench", "store_bench", 0, kEpoch + i);
    ms.push_back(MsSince(t0));
    Check(r.status(), "admin apply");
  }
  return ms;
}

}  // namespace

ApplyFigures ApplyRun(const Args& a) {
  ApplyFigures f;
  {
    TempStore t(a.dir);
    std::vector<double> ms;
    for (int i = 0; i < a.applies; ++i) {
      Revision r;
      r.set_document(Document(i));
      r.set_author("bench");
      const double t0 = bench::NowSec();
      Check(t.store().Apply(i, r).status(), "apply");
      ms.push_back(MsSince(t0));
    }
    f.store = Percentiles(ms);
  }
  TempStore t(a.dir);
  StoreHealth health(t.path());
  ConfigHistory history(&t.store(), &health);
  f.history = Percentiles(AdminApplies(history, a.applies));
  return f;
}

Latency MirroredApplyRun(const Args& a) {
  k8s::testing::FakeApiServer server;
  Check(server.Start(), "start the test API server (python3 tests/k8s_api_server/fake_apiserver.py)");
  k8s::HttpOptions http_options;  // droverd's client (MakeClient), without the rate limiter: an apply is rare
  http_options.qps = 0;
  std::unique_ptr<k8s::HttpClient> http = server.Client(http_options);
  if (http == nullptr) Check(absl::InternalError("no HTTP client"), "connect to the test API server");
  KubeRevisionMirror mirror(http.get(), MirrorOptions{});
  TempStore t(a.dir);
  StoreHealth health(t.path());
  ConfigHistory history(&t.store(), &health);
  history.SetMirror(&mirror);
  (void)history.TakeOver(SourceDocument{}, kEpoch);  // leads; nothing to import
  if (!history.leading()) Check(absl::InternalError("did not take the lead"), "take over");
  return Percentiles(AdminApplies(history, a.applies));
}

}  // namespace drover::store_bench
