// The admin API end to end: droverd's Process runs the simulator, then serves
// its end state with a real gRPC server on 127.0.0.1 (any free port); the tests
// call every RPC through a real channel, and run droverctl as a subprocess.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include "drover/admin/v1/admin.grpc.pb.h"
#include "tests/admin/admin_daemon.h"

namespace drover {
namespace {

namespace pb = admin::v1;
using namespace admin_testing;  // NOLINT: the tests share the daemon and its helpers

int64_t ActiveRevision(AdminDaemon& d) {
  pb::ConfigRevision r;
  REQUIRE(d.stub().GetConfig(As("viewer-t").get(), pb::GetConfigRequest(), &r).ok());
  return r.revision();
}

grpc::Status Apply(AdminDaemon& d, const std::string& token, const std::string& doc, int64_t expected,
                   pb::ApplyConfigResponse* out, bool dry_run = false) {
  pb::ApplyConfigRequest req;
  req.set_document(doc);
  req.set_expected_revision(expected);
  req.set_dry_run(dry_run);
  req.set_comment("test");
  return d.stub().ApplyConfig(As(token).get(), req, out);
}

TEST_CASE("admin_api_reads_queues_config_pending_inventory_and_audit", "[admin][e2e]") {
  AdminDaemon d;
  pb::ListQueuesResponse queues;
  REQUIRE(d.stub().ListQueues(As("viewer-t").get(), pb::ListQueuesRequest(), &queues).ok());
  REQUIRE(queues.queues_size() == 5);
  CHECK(queues.queues(0).path() == "root");
  CHECK(queues.config_revision() == 1);

  pb::GetQueueRequest gq;
  gq.set_path("root.research.llm");
  pb::Queue llm;
  REQUIRE(d.stub().GetQueue(As("viewer-t").get(), gq, &llm).ok());
  CHECK(llm.running_pods() == 2);
  CHECK(llm.pending_pods() == 2);
  gq.set_path("root.nope");
  grpc::Status s = d.stub().GetQueue(As("viewer-t").get(), gq, &llm);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().find("root.nope") != std::string::npos);

  pb::ConfigRevision active;
  REQUIRE(d.stub().GetConfig(As("viewer-t").get(), pb::GetConfigRequest(), &active).ok());
  CHECK(active.revision() == 1);
  CHECK(active.document() == kQueues);
  CHECK(active.source() == "file");

  pb::DiffConfigRequest diff_req;
  diff_req.set_document(Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 16}}\n    - name: safety"));
  pb::DiffConfigResponse diff;
  REQUIRE(d.stub().DiffConfig(As("viewer-t").get(), diff_req, &diff).ok());
  CHECK(diff.active_revision() == 1);
  CHECK(diff.diff().find("-          max: {gpu: {A100: 8}}") != std::string::npos);
  CHECK(diff.diff().find("+          max: {gpu: {A100: 16}}") != std::string::npos);
  CHECK(diff.errors_size() == 0);

  pb::ListRevisionsResponse revisions;
  REQUIRE(d.stub().ListRevisions(As("viewer-t").get(), pb::ListRevisionsRequest(), &revisions).ok());
  REQUIRE(revisions.revisions_size() == 1);
  CHECK(revisions.revisions(0).document().empty());  // the list leaves the text out

  pb::ListPendingRequest pending_req;
  pb::ListPendingResponse pending;
  REQUIRE(d.stub().ListPending(As("viewer-t").get(), pending_req, &pending).ok());
  CHECK(pending.total() == 2);
  REQUIRE(pending.workloads_size() == 2);
  CHECK(pending.next_page_token().empty());
  {  // Unfiltered pages (read without scanning the backlog) give the same workloads in the same order.
    pb::ListPendingRequest paged;
    paged.set_page_size(1);
    pb::ListPendingResponse p1, p2, past;
    REQUIRE(d.stub().ListPending(As("viewer-t").get(), paged, &p1).ok());
    REQUIRE(p1.workloads_size() == 1);
    CHECK(p1.total() == 2);
    CHECK(p1.workloads(0).workload() == pending.workloads(0).workload());
    REQUIRE(p1.next_page_token() == "1");
    paged.set_page_token(p1.next_page_token());
    REQUIRE(d.stub().ListPending(As("viewer-t").get(), paged, &p2).ok());
    REQUIRE(p2.workloads_size() == 1);
    CHECK(p2.workloads(0).workload() == pending.workloads(1).workload());
    CHECK(p2.next_page_token().empty());
    paged.set_page_token("9223372036854775807");
    REQUIRE(d.stub().ListPending(As("viewer-t").get(), paged, &past).ok());
    CHECK(past.workloads_size() == 0);
    CHECK(past.total() == 2);
    CHECK(past.next_page_token().empty());
  }
  pending_req.set_queue("root.research");
  pending_req.set_page_size(1);
  REQUIRE(d.stub().ListPending(As("viewer-t").get(), pending_req, &pending).ok());
  REQUIRE(pending.workloads_size() == 1);
  CHECK(pending.workloads(0).position() == 1);
  CHECK(pending.workloads(0).queue() == "root.research.llm");
  CHECK_FALSE(pending.next_page_token().empty());
  pending_req.set_page_token(pending.next_page_token());
  pb::ListPendingResponse second;
  REQUIRE(d.stub().ListPending(As("viewer-t").get(), pending_req, &second).ok());
  REQUIRE(second.workloads_size() == 1);
  CHECK(second.workloads(0).position() == 2);
  CHECK(second.next_page_token().empty());
  pending_req.set_queue("root.safety");
  pending_req.clear_page_token();
  REQUIRE(d.stub().ListPending(As("viewer-t").get(), pending_req, &pending).ok());
  CHECK(pending.total() == 0);

  pb::ExplainRequest ex;
  ex.set_namespace_("ns");
  ex.set_name(second.workloads(0).workload().substr(3));
  pb::Explanation why;
  REQUIRE(d.stub().Explain(As("viewer-t").get(), ex, &why).ok());
  CHECK(why.pending());
  CHECK(why.workload().position() == 2);
  CHECK(why.queue_pending() == 2);
  REQUIRE(why.ahead_size() == 1);
  CHECK_FALSE(why.workload().reason().empty());
  REQUIRE(why.timeline_size() >= 1);
  CHECK(why.timeline(0).kind() == "submitted");
  ex.set_name("no-such-pod");
  CHECK(d.stub().Explain(As("viewer-t").get(), ex, &why).error_code() == grpc::StatusCode::NOT_FOUND);

  pb::GetInventoryRequest inv_req;
  inv_req.set_nodes(true);
  pb::Inventory inv;
  REQUIRE(d.stub().GetInventory(As("viewer-t").get(), inv_req, &inv).ok());
  REQUIRE(inv.types_size() >= 1);
  CHECK(inv.nodes_size() == 2);
  int64_t total = 0;
  for (const auto& t : inv.types()) total += t.total();
  CHECK(total == 16);

  pb::ListAuditResponse audit;
  REQUIRE(d.stub().ListAudit(As("viewer-t").get(), pb::ListAuditRequest(), &audit).ok());
  CHECK(audit.records_size() >= 1);
}

TEST_CASE("admin_api_refuses_bad_requests_naming_the_field", "[admin][e2e]") {
  AdminDaemon d;
  pb::ListPendingRequest req;
  pb::ListPendingResponse resp;
  req.set_page_size(-1);
  grpc::Status s = d.stub().ListPending(As("viewer-t").get(), req, &resp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("page_size") == 0);
  req.set_page_size(0);
  req.set_queue("root.nope");
  s = d.stub().ListPending(As("viewer-t").get(), req, &resp);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("queue: \"root.nope\"") == 0);
  req.set_queue("");
  req.set_page_token("xyz");
  s = d.stub().ListPending(As("viewer-t").get(), req, &resp);
  CHECK(s.error_message().find("page_token") == 0);

  pb::ApplyConfigResponse out;
  s = Apply(d, "admin-t", std::string("queues: {}\n\xff\xfe", 14), 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("document: not valid UTF-8 at byte 11") == 0);
  s = Apply(d, "admin-t", std::string(kMaxDocumentBytes + 1, '#'), 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("document: ") == 0);
  CHECK(s.error_message().find("limit") != std::string::npos);
  s = Apply(d, "admin-t", kQueues, -4, &out);
  CHECK(s.error_message().find("expected_revision: -4") == 0);

  // A document that does not validate: every error, with its position; nothing applied.
  s = Apply(d, "admin-t", "queues:\n  children:\n    - name: a\n      max: {gpu: {A100: -3}}\n      weigth: 2\n", 1, &out);
  REQUIRE(s.ok());
  CHECK_FALSE(out.applied());
  REQUIRE(out.errors_size() == 2);
  CHECK(out.errors(0).path() == "root.a.max.gpu.A100");
  CHECK(out.errors(0).line() == 4);
  CHECK(out.errors(1).path() == "root.a.weigth");
  CHECK(out.errors(1).line() == 5);
  CHECK(out.errors(1).column() == 7);
  CHECK(ActiveRevision(d) == 1);

  pb::RollbackRequest rb;
  rb.set_to_revision(99);
  rb.set_expected_revision(1);
  s = d.stub().Rollback(As("admin-t").get(), rb, &out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("to_revision: 99") == 0);
}

TEST_CASE("admin_api_authenticates_and_authorizes_by_the_documents_admins", "[admin][e2e]") {
  AdminDaemon d;
  pb::ListQueuesResponse queues;
  grpc::Status s = d.stub().ListQueues(As("").get(), pb::ListQueuesRequest(), &queues);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  s = d.stub().ListQueues(As("wrong").get(), pb::ListQueuesRequest(), &queues);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  const std::string scratch_16 = Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 16}}\n    - name: safety");
  const std::string safety_16 = Replace(kQueues, "name: safety\n      max: {gpu: {A100: 8}}", "name: safety\n      max: {gpu: {A100: 16}}");
  const std::string research_admin = Replace(kQueues, "users: [alice]", "users: [alice, bob]");
  const std::string new_llm_queue = Replace(kQueues, "        - name: llm\n", "        - name: llm\n        - name: vision\n");
  pb::ApplyConfigResponse out;
  s = Apply(d, "", scratch_16, 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // A viewer may not write.
  s = Apply(d, "viewer-t", scratch_16, 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message().find("\"bob\"") != std::string::npos);
  // alice administers root.research's subtree: not root.safety, not research's own entry.
  s = Apply(d, "research-t", safety_16, 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message().find("root.safety") != std::string::npos);
  CHECK(s.error_message().find("an admin of root") != std::string::npos);
  s = Apply(d, "research-t", research_admin, 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message().find("root.research") != std::string::npos);
  s = Apply(d, "research-t", "admins: {users: [alice]}\n" + std::string(kQueues).substr(kQueues[0] == 'a' ? 23 : 0), 1, &out);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(ActiveRevision(d) == 1);
  // Inside the subtree: a dry run changes nothing, then the write is a revision authored by alice.
  s = Apply(d, "research-t", scratch_16, 1, &out, /*dry_run=*/true);
  REQUIRE(s.ok());
  CHECK_FALSE(out.applied());
  CHECK(ActiveRevision(d) == 1);
  s = Apply(d, "research-t", scratch_16, 1, &out);
  REQUIRE(s.ok());
  CHECK(out.applied());
  CHECK(out.revision() == 2);
  s = Apply(d, "research-t", Replace(scratch_16, "        - name: llm\n", "        - name: llm\n        - name: vision\n"), 2, &out);
  REQUIRE(s.ok());
  CHECK(out.revision() == 3);
  (void)new_llm_queue;
  pb::ConfigRevision active;
  REQUIRE(d.stub().GetConfig(As("viewer-t").get(), pb::GetConfigRequest(), &active).ok());
  CHECK(active.author() == "alice");
  CHECK(active.source() == "admin-api");
  CHECK(active.comment() == "test");
  // The engine took it: the new queue is in the published status.
  pb::GetQueueRequest gq;
  gq.set_path("root.research.vision");
  pb::Queue vision;
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = d.stub().GetQueue(As("viewer-t").get(), gq, &vision).ok();
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(seen);
  // Every write, refused or not, is audited with its principal.
  pb::ListAuditRequest ar;
  ar.set_actor("alice");
  pb::ListAuditResponse audit;
  REQUIRE(d.stub().ListAudit(As("viewer-t").get(), ar, &audit).ok());
  CHECK(audit.records_size() == 5);  // 3 denied, 2 applied (the dry run is not a write)
  // A time window: newest first, so the first record is the latest.
  const int64_t latest = audit.records(0).unix_ms(), earliest = audit.records(4).unix_ms();
  ar.set_since_unix_ms(latest);
  REQUIRE(d.stub().ListAudit(As("viewer-t").get(), ar, &audit).ok());
  REQUIRE(audit.records_size() >= 1);
  for (const auto& r : audit.records()) CHECK(r.unix_ms() >= latest);
  ar.set_since_unix_ms(0);
  ar.set_until_unix_ms(earliest);
  REQUIRE(d.stub().ListAudit(As("viewer-t").get(), ar, &audit).ok());
  CHECK(audit.records_size() == 0);
  ar.set_since_unix_ms(earliest);
  ar.set_until_unix_ms(earliest);
  grpc::Status window = d.stub().ListAudit(As("viewer-t").get(), ar, &audit);
  CHECK(window.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(window.error_message().find("until_unix_ms") != std::string::npos);
  ar = pb::ListAuditRequest();
  ar.set_actor("bob");
  REQUIRE(d.stub().ListAudit(As("viewer-t").get(), ar, &audit).ok());
  CHECK(audit.records_size() == 1);
}

TEST_CASE("concurrent_applies_with_the_same_expected_revision_exactly_one_wins", "[admin][e2e]") {
  AdminDaemon d;
  const std::string a = Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 12}}\n    - name: safety");
  const std::string b = Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 14}}\n    - name: safety");
  grpc::Status sa, sb;
  pb::ApplyConfigResponse ra, rb;
  std::thread ta([&] { sa = Apply(d, "admin-t", a, 1, &ra); });
  std::thread tb([&] { sb = Apply(d, "research-t", b, 1, &rb); });
  ta.join();
  tb.join();
  CHECK(sa.ok() + sb.ok() == 1);
  const grpc::Status& lost = sa.ok() ? sb : sa;
  CHECK(lost.error_code() == grpc::StatusCode::ABORTED);
  CHECK(lost.error_message().find("expected_revision 1 is not the active revision 2") != std::string::npos);
  CHECK(ActiveRevision(d) == 2);

  // Rollback is a new revision with revision 1's document, under the same compare-and-set.
  pb::RollbackRequest req;
  req.set_to_revision(1);
  req.set_expected_revision(1);
  pb::ApplyConfigResponse out;
  CHECK(d.stub().Rollback(As("admin-t").get(), req, &out).error_code() == grpc::StatusCode::ABORTED);
  req.set_expected_revision(2);
  REQUIRE(d.stub().Rollback(As("admin-t").get(), req, &out).ok());
  CHECK(out.revision() == 3);
  pb::ConfigRevision active;
  REQUIRE(d.stub().GetConfig(As("viewer-t").get(), pb::GetConfigRequest(), &active).ok());
  CHECK(active.document() == kQueues);
  CHECK(active.source() == "rollback");
  CHECK(active.rolled_back_from() == 1);
  CHECK(active.author() == "ops");
}

// grpc.health.v1.Health/Check for the whole server (service ""), through a generic
// stub (Debian ships no health.proto): the response's bytes.
std::string HealthCheck(AdminDaemon& d, grpc::Status* status) {
  grpc::GenericStub generic(grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials()));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(s); });
  *status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (status->ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  return bytes;
}

TEST_CASE("the_standard_health_service_says_serving", "[admin][e2e]") {
  AdminDaemon d;
  grpc::Status s;
  CHECK(HealthCheck(d, &s) == std::string("\x08\x01", 2));  // HealthCheckResponse{status: SERVING}
  CHECK(s.ok());
}

TEST_CASE("droverctl_verbs_against_a_served_droverd", "[admin][e2e][droverctl]") {
  AdminDaemon d;
  std::string out;
  CHECK(Droverctl(d, "get queues", &out) == 4);
  CHECK(out.find("DROVER_TOKEN") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get queues", &out) == 0);
  CHECK(out.find("QUEUE") == 0);
  CHECK(out.find("root.research.llm") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get queues -o json", &out) == 0);
  CHECK(out.find("\"config_revision\": \"1\"") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get queues -o yaml", &out) == 0);
  CHECK(out.find("config_revision: 1") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t describe queue root.research.llm", &out) == 0);
  CHECK(out.find("Pending pods: 2") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get pending --queue root.research", &out) == 0);
  CHECK(out.find("2 of 2 pending workloads") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t get pending --queue root.nope", &out) == 1);
  CHECK(Droverctl(d, "--token viewer-t explain pod ns/train-3", &out) == 0);
  CHECK(out.find("is pending") != std::string::npos);
  CHECK(out.find("Timeline") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t explain pod nonsense", &out) == 2);
  CHECK(Droverctl(d, "--token viewer-t top gpus --nodes", &out) == 0);
  CHECK(out.find("a-1") != std::string::npos);
  CHECK(Droverctl(d, "get", &out) == 2);
  CHECK(Droverctl(d, "--token viewer-t audit --since 1h --until 2030-01-01T00:00:00Z", &out) == 0);
  CHECK(out.find("config.apply") != std::string::npos);  // the start's revision 1
  CHECK(Droverctl(d, "--token viewer-t audit --since 2030-01-01T00:00:00Z", &out) == 0);
  CHECK(out.find("config.apply") == std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t audit --since yesterday", &out) == 2);
  CHECK(out.find("--since \"yesterday\"") != std::string::npos);
  // A client config file: its token is used; --server (a flag) wins over its server.
  const std::string config = WriteTemp("server: 127.0.0.1:1\ntoken: viewer-t\n");
  CHECK(Droverctl(d, "--config " + config + " get queues", &out) == 0);
  CHECK(out.find("root.research") != std::string::npos);
  CHECK(Droverctl(d, "--config " + config + " --token nobody get queues", &out) == 4);  // the flag's token wins
  const std::string typo = WriteTemp("server: x\ntokn: viewer-t\n");
  CHECK(Droverctl(d, "--config " + typo + " get queues", &out) == 2);
  CHECK(out.find(typo + ":2: unknown key \"tokn\"") != std::string::npos);
  CHECK(Droverctl(d, "--config /nonexistent.yaml get queues", &out) == 2);
  std::remove(config.c_str());
  std::remove(typo.c_str());
  // The completion script, generated from the command tree, completes verbs and their flags in bash.
  REQUIRE(Droverctl(d, "completion bash", &out) == 0);
  const std::string script = WriteTemp(out);
  const std::string probe = WriteTemp(StrCat("source ", script, "\n",
                                             "COMP_WORDS=(droverctl --server h:1 get p); COMP_CWORD=4; _droverctl; echo \"${COMPREPLY[*]}\"\n",
                                             "COMP_WORDS=(droverctl audit --s); COMP_CWORD=2; _droverctl; echo \"${COMPREPLY[*]}\"\n"));
  const std::string probe_out = WriteTemp("");
  REQUIRE(std::system(StrCat("bash ", probe, " >", probe_out, " 2>&1").c_str()) == 0);
  std::ifstream pf(probe_out);
  const std::string completed((std::istreambuf_iterator<char>(pf)), std::istreambuf_iterator<char>());
  CHECK(completed == "pending\n--since --server\n");
  for (const std::string& f : {script, probe, probe_out}) std::remove(f.c_str());

  const std::string doc = WriteTemp(Replace(kQueues, "A100: 8}}\n    - name: safety", "A100: 16}}\n    - name: safety"));
  const std::string safety = WriteTemp(Replace(kQueues, "name: safety\n      max: {gpu: {A100: 8}}", "name: safety\n      max: {gpu: {A100: 16}}"));
  const std::string bad = WriteTemp("queues:\n  children:\n    - name: a\n      weigth: 2\n");
  CHECK(Droverctl(d, "--token viewer-t diff -f " + doc, &out) == 0);
  CHECK(out.find("+          max: {gpu: {A100: 16}}") != std::string::npos);
  CHECK(Droverctl(d, "--token research-t apply -f " + bad + " --yes", &out) == 1);
  CHECK(out.find(bad + ":4:7: root.a.weigth: unknown key") != std::string::npos);
  CHECK(Droverctl(d, "--token research-t apply -f " + safety + " --yes", &out) == 4);
  CHECK(out.find("root.safety") != std::string::npos);
  CHECK(Droverctl(d, "--token research-t apply -f " + doc + " --dry-run", &out) == 0);
  CHECK(out.find("dry run") != std::string::npos);
  CHECK(Droverctl(d, "--token research-t apply -f " + doc, &out, "n\n") == 1);  // asked, answered no
  CHECK(ActiveRevision(d) == 1);
  CHECK(Droverctl(d, "--token research-t apply -f " + doc + " -m widen", &out, "y\n") == 0);
  CHECK(out.find("revision 2 is in force") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t history", &out) == 0);
  CHECK(out.find("admin-api") != std::string::npos);
  CHECK(out.find("widen") != std::string::npos);
  CHECK(Droverctl(d, "--token admin-t rollback --to 1 --yes", &out) == 0);
  CHECK(out.find("revision 3 is in force") != std::string::npos);
  CHECK(Droverctl(d, "--token viewer-t audit --actor ops", &out) == 0);
  CHECK(out.find("config.rollback") != std::string::npos);
  CHECK(Droverctl(d, "validate -f " + doc, &out) == 0);  // offline: needs no server
  for (const std::string& f : {doc, safety, bad}) std::remove(f.c_str());
}

}  // namespace
}  // namespace drover
