// End-to-end: droverd in cluster mode authenticates admin API callers with
// Kubernetes TokenReview (no --admin-tokens), against the test API server's token
// table. A reviewed user token of a subtree admin may change its subtree and is
// PERMISSION_DENIED, naming the missing permission, outside it; an unknown token
// is UNAUTHENTICATED; answers are cached (one review per token).
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "k8s/http_client.h"
#include "tests/k8s/droverd_harness.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

namespace pb = ::drover::admin::v1;

constexpr const char* kQueues = R"(admins: {users: [ops]}
queues:
  children:
    - name: prod
      guaranteed: {gpu: {A100: 8}}
    - name: research
      admins: {groups: [research-admins]}
      children:
        - name: llm
)";

std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

// "create tokenreviews" requests the API server answered.
int64_t TokenReviews(FakeApiServer& server) {
  absl::StatusOr<std::string> stats = server.ControlGet("/_control/stats");
  REQUIRE(stats.ok());
  const std::string key = "\"create tokenreviews\":";
  const size_t at = stats->find(key);
  return at == std::string::npos ? 0 : std::atoll(stats->c_str() + at + key.size());
}

TEST_CASE("droverd_authenticates_admin_tokens_with_tokenreview", "[k8s][e2e][admin]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  REQUIRE(server.Control("/_control/tokens", R"({"tokens":{
      "alice-t":{"username":"alice","uid":"u-alice","groups":["research-admins"]},
      "bob-t":{"username":"bob"}}})").ok());
  const std::string dir = MakeTempDir("droverd-admin");
  // A long TTL: the test counts reviews, whatever the machine's speed.
  std::vector<std::string> args = DroverdArgs(server, dir, "replica-a", {"--admin-token-review-ttl", "10m"});
  REQUIRE(WriteFile(dir + "/queues.yaml", kQueues).ok());
  DroverdProcess d(dir + "/droverd.log");
  REQUIRE(d.Start(args).ok());
  REQUIRE(WaitUntil([&] { return d.AdminPort() > 0; }, absl::Seconds(60)));
  // Revisions exist once the replica leads and has imported the mirrored ones (issue 16).
  REQUIRE(WaitUntil([&] { return d.Log().find("configuration: leading with revision") != std::string::npos; },
                    absl::Seconds(60)));
  INFO(d.Log());
  auto stub = pb::Admin::NewStub(
      grpc::CreateChannel(StrCat("127.0.0.1:", d.AdminPort()), grpc::InsecureChannelCredentials()));

  pb::ConfigRevision active;
  // UNAVAILABLE while the channel first connects or the new leader imports (slow machines, sanitizers).
  grpc::Status got;
  REQUIRE(WaitUntil([&] {
    got = stub->GetConfig(As("alice-t").get(), pb::GetConfigRequest(), &active);
    return got.error_code() != grpc::StatusCode::UNAVAILABLE;
  }, absl::Seconds(60)));
  INFO(got.error_message());
  REQUIRE(got.ok());
  REQUIRE(active.revision() > 0);

  SECTION("a subtree admin writes inside the subtree, not outside") {
    pb::ApplyConfigRequest inside;
    inside.set_document(StrCat(kQueues, "        - name: eval\n"));  // a new queue under root.research
    inside.set_expected_revision(active.revision());
    inside.set_comment("add research.eval");
    pb::ApplyConfigResponse applied;
    grpc::Status s = stub->ApplyConfig(As("alice-t").get(), inside, &applied);
    REQUIRE(s.ok());
    CHECK(applied.applied());
    CHECK(applied.revision() == active.revision() + 1);

    pb::ApplyConfigRequest outside;
    std::string doc = StrCat(kQueues, "        - name: eval\n");
    doc.replace(doc.find("A100: 8"), 7, "A100: 16");  // root.prod's own entry
    outside.set_document(doc);
    outside.set_expected_revision(applied.revision());
    pb::ApplyConfigResponse refused;
    s = stub->ApplyConfig(As("alice-t").get(), outside, &refused);
    CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_THAT(s.error_message(), Catch::Contains("\"alice\"") && Catch::Contains("root.prod") &&
                                      Catch::Contains("an admin of root"));

    // A viewer (authenticated, admin of nothing) reads but may not write.
    pb::ListQueuesResponse queues;
    REQUIRE(stub->ListQueues(As("bob-t").get(), pb::ListQueuesRequest(), &queues).ok());
    s = stub->ApplyConfig(As("bob-t").get(), outside, &refused);
    CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    // The audit trail names the reviewed user.
    pb::ListAuditRequest audit_req;
    pb::ListAuditResponse audit;
    REQUIRE(stub->ListAudit(As("alice-t").get(), audit_req, &audit).ok());
    bool alice_applied = false;
    for (const auto& r : audit.records()) alice_applied |= r.actor() == "alice" && r.action() == "config.apply";
    CHECK(alice_applied);
  }

  SECTION("an unknown token is unauthenticated; answers are cached") {
    pb::ListQueuesResponse queues;
    grpc::Status s = stub->ListQueues(As("nobody-t").get(), pb::ListQueuesRequest(), &queues);
    CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK_THAT(s.error_message(), Catch::Contains("TokenReview") && Catch::Contains("invalid bearer token"));
    s = stub->ListQueues(As("nobody-t").get(), pb::ListQueuesRequest(), &queues);
    CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    for (int i = 0; i < 3; ++i) {
      // Cached: no review. UNAVAILABLE (a channel reconnecting on a loaded machine) is tried again.
      WaitUntil([&] {
        s = stub->ListQueues(As("alice-t").get(), pb::ListQueuesRequest(), &queues);
        return s.error_code() != grpc::StatusCode::UNAVAILABLE;
      }, absl::Seconds(30));
      INFO(s.error_code() << ": " << s.error_message());
      REQUIRE(s.ok());
    }
    // The server counts a request after answering it: wait for both, then check no more came.
    WaitUntil([&] { return TokenReviews(server) >= 2; }, absl::Seconds(10));
    CHECK(TokenReviews(server) == 2);  // alice-t once, nobody-t once
  }
}

}  // namespace
}  // namespace drover::k8s::testing
