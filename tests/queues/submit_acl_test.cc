// Who may submit: a queue named by the drover.io/queue annotation must grant the
// pod's namespace (issue 21, item 7); the namespace mapping and the default queue
// need no grant; a document without any `submit` keeps every queue open.
#include <catch2/catch.hpp>

#include "queues/config.h"
#include "queues/queue_tree.h"

using namespace drover;

namespace {

constexpr const char* kAcl = R"(
placement:
  namespaces: {vision: root.research.vision}
  default_queue: root.scratch
queues:
  children:
    - name: research
      submit: {namespaces: [ml-train]}
      children:
        - name: vision
        - name: llm
          submit: {namespaces: [llm-team], users: [alice], groups: ["system:serviceaccounts:ci"]}
    - name: prod
      submit: {namespaces: ["*"]}
    - name: scratch
    - name: locked
)";

Pod PodIn(const std::string& ns, const std::string& queue) {
  Pod p;
  p.namespace_ = ns;
  p.name = ns + "-pod";
  if (!queue.empty()) p.intent.queue = queue;
  return p;
}

std::string Refusal(const QueueTree& t, const Pod& p) {
  absl::StatusOr<QueueId> leaf = t.LeafFor(p);
  return leaf.ok() ? "" : std::string(leaf.status().message());
}

}  // namespace

TEST_CASE("submit_sections_are_parsed_and_checked", "[queues_config][submit]") {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kAcl, "q.yaml");
  INFO(cfg.status().message());
  REQUIRE(cfg.ok());
  CHECK(cfg->submit_enforced);
  const QueueSpec& research = cfg->root.children[0];
  CHECK(research.submit.set);
  CHECK(research.submit.namespaces == std::vector<std::string>{"ml-train"});
  CHECK(research.children[1].submit.users == std::vector<std::string>{"alice"});

  absl::StatusOr<QueueConfig> bad = ParseQueueConfig(R"(
queues:
  children:
    - name: a
      submit: {namespaces: ["Bad_NS", 3], user: [x], groups: [""]}
)", "q.yaml");
  REQUIRE_FALSE(bad.ok());
  const std::string msg(bad.status().message());
  INFO(msg);
  CHECK(msg.find("root.a.submit.namespaces[0]: \"Bad_NS\" is not a namespace name") != std::string::npos);
  CHECK(msg.find("root.a.submit.user: unknown key") != std::string::npos);
  CHECK(msg.find("root.a.submit.groups[0]") != std::string::npos);

  absl::StatusOr<QueueConfig> open = ParseQueueConfig("queues: {children: [{name: a}]}", "q.yaml");
  REQUIRE(open.ok());
  CHECK_FALSE(open->submit_enforced);
}

TEST_CASE("a_queue_named_by_annotation_must_grant_the_namespace", "[queues][submit]") {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kAcl, "q.yaml");
  REQUIRE(cfg.ok());
  QueueTree t(*cfg);
  // Granted on the queue itself, on an ancestor, or to every namespace.
  CHECK(Refusal(t, PodIn("llm-team", "root.research.llm")).empty());
  CHECK(Refusal(t, PodIn("ml-train", "root.research.llm")).empty());
  CHECK(Refusal(t, PodIn("anyone", "prod")).empty());
  // The namespace mapping and the default queue need no grant.
  CHECK(Refusal(t, PodIn("vision", "root.research.vision")).empty());
  CHECK(Refusal(t, PodIn("vision", "")).empty());
  CHECK(Refusal(t, PodIn("stranger", "root.scratch")).empty());
  CHECK(Refusal(t, PodIn("stranger", "")).empty());
  // Everyone else is refused with who may.
  const std::string why = Refusal(t, PodIn("stranger", "root.research.llm"));
  INFO(why);
  CHECK(why.find("namespace \"stranger\" may not submit to queue \"root.research.llm\"") != std::string::npos);
  CHECK(why.find("root.research.llm.submit.namespaces [llm-team]") != std::string::npos);
  CHECK(why.find("root.research.submit.namespaces [ml-train]") != std::string::npos);
  CHECK(t.LeafFor(PodIn("stranger", "root.research.llm")).status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(Refusal(t, PodIn("vision", "root.research.llm")).find("may not submit") != std::string::npos);
  CHECK(Refusal(t, PodIn("llm-team", "root.locked")).find("no queue on its path has a submit section") !=
        std::string::npos);
}

TEST_CASE("a_running_pod_in_a_queue_it_may_no_longer_use_stays_accounted", "[queues][submit]") {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kAcl, "q.yaml");
  REQUIRE(cfg.ok());
  QueueTree t(*cfg);
  Pod p = PodIn("stranger", "root.research.llm");
  CHECK(t.LeafForRunning(p) == t.Find("root.research.llm"));
}

TEST_CASE("the_scheduler_honours_a_creators_grant_the_webhook_vouched_for", "[queues][submit]") {
  absl::StatusOr<QueueConfig> cfg = ParseQueueConfig(kAcl, "q.yaml");
  REQUIRE(cfg.ok());
  QueueTree t(*cfg);
  // As the decoder reads a pod: the queue and the grant from annotations.
  auto annotated = [](const std::string& ns, const std::string& queue) {
    Pod p = PodIn(ns, "");
    p.annotations.Set(std::string(annotations::kQueue), queue);
    DecodePodIntent(&p);
    return p;
  };
  Pod p = annotated("stranger", "root.research.llm");
  REQUIRE(p.intent.queue == "root.research.llm");
  REQUIRE_FALSE(Refusal(t, p).empty());
  // drover.io/submit-grant as the mutating webhook writes it (decoded by core's DecodePodIntent).
  p.annotations.Set(std::string(annotations::kSubmitGrant), "user:alice");
  DecodePodIntent(&p);
  CHECK(Refusal(t, p).empty());
  p.annotations.Set(std::string(annotations::kSubmitGrant), "group:system:serviceaccounts:ci");
  DecodePodIntent(&p);
  CHECK(p.intent.submit_grant_kind == "group");
  CHECK(Refusal(t, p).empty());
  // A principal with no grant on the path is refused, and the message names what it claimed.
  p.annotations.Set(std::string(annotations::kSubmitGrant), "user:bob");
  DecodePodIntent(&p);
  const std::string why = Refusal(t, p);
  INFO(why);
  CHECK(why.find("namespace \"stranger\" and drover.io/submit-grant \"user:bob\" may not submit") != std::string::npos);
  // Users and groups of a queue elsewhere grant nothing here.
  Pod other = annotated("stranger", "root.locked");
  other.annotations.Set(std::string(annotations::kSubmitGrant), "user:alice");
  DecodePodIntent(&other);
  CHECK_FALSE(Refusal(t, other).empty());
  // Which principal grants a requester, as the webhook asks.
  const QueueId llm = t.Find("root.research.llm");
  CHECK(t.RequesterGrant(llm, Requester{"alice", {"x"}}) == "user:alice");
  CHECK(t.RequesterGrant(llm, Requester{"carol", {"x", "system:serviceaccounts:ci"}}) == "group:system:serviceaccounts:ci");
  CHECK(t.RequesterGrant(llm, Requester{"carol", {"x"}}).empty());
}
