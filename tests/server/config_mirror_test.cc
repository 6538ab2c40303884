// ConfigHistory with a mirror (cluster mode): a revision is mirrored, then
// stored, both or neither; only a leader that has imported the mirror records;
// a new leader imports what it lacks, with its audit, and the newest mirrored
// revision is the one in force unless the live source changed since.
#include <catch2/catch.hpp>

#include <map>

#include "server/config_history.h"
#include "store/memory_store.h"

namespace drover {
namespace {

// The API server's ControllerRevisions, in memory, with failures on demand.
class FakeMirror : public RevisionMirror {
 public:
  absl::Status Create(const Revision& r) override {
    ++creates;
    if (!fail.ok()) return fail;
    auto [it, inserted] = objects.emplace(r.revision(), r);
    if (!inserted && it->second.sha256() != r.sha256()) return absl::AbortedError("exists with another document");
    return absl::OkStatus();
  }
  absl::Status Delete(int64_t n) override {
    objects.erase(n);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Revision>> List() override {
    if (!fail.ok()) return fail;
    std::vector<Revision> out;
    for (const auto& [n, r] : objects) out.push_back(r);
    return out;
  }
  std::string Where() const override { return "the fake mirror"; }

  std::map<int64_t, Revision> objects;
  absl::Status fail;
  int creates = 0;
};

// A MemoryStore whose revision writes can be made to fail (a full disk).
class FailingStore : public MemoryStore {
 public:
  absl::StatusOr<Revision> Apply(int64_t expected_active, Revision record) override {
    if (fail_applies) return absl::ResourceExhaustedError("store: cannot write: No space left on device");
    return MemoryStore::Apply(expected_active, std::move(record));
  }
  bool fail_applies = false;
};

Revision Mirrored(int64_t n, const std::string& doc, const std::string& author,
                  store::v1::RevisionSource source = store::v1::REVISION_SOURCE_ADMIN_API) {
  Revision r;
  r.set_revision(n);
  r.set_document(doc);
  r.set_sha256(Sha256Hex(doc));
  r.set_author(author);
  r.set_source(source);
  r.set_applied_unix_ms(1000 * n);
  return r;
}

const SourceDocument kConfigMap{"queues: cm", "configmap:drover-system/drover-queues",
                                store::v1::REVISION_SOURCE_CONFIGMAP};

// A replica's history over a store that can fail, mirrored to `mirror`.
struct Replica {
  FailingStore store;
  StoreHealth health;
  FakeMirror mirror;
  ConfigHistory history{&store, &health};
  Replica() { history.SetMirror(&mirror); }
  // The mirror holds revision 1 from the ConfigMap (`cm_doc`) and revision 2 from alice.
  void MirrorTwo(const std::string& cm_doc) {
    mirror.objects[1] = Mirrored(1, cm_doc, kConfigMap.author, kConfigMap.kind);
    mirror.objects[2] = Mirrored(2, "queues: admin", "alice");
  }
};

TEST_CASE("a_standby_records_nothing_and_says_why", "[server][mirror]") {
  Replica replica;
  auto& [store, health, mirror, history] = replica;
  CHECK_FALSE(history.leading());
  CHECK(history.RecordInitial("queues: cm", kConfigMap.author, kConfigMap.kind, 1) == 0);
  absl::StatusOr<int64_t> r = history.RecordApplied("queues: x", kConfigMap.author, kConfigMap.kind, 2);
  REQUIRE(absl::IsFailedPrecondition(r.status()));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("the leader records revisions"));
  CHECK(absl::IsFailedPrecondition(history.RecordAdmin("queues: y", "alice", "", 0, 3).status()));
  CHECK(mirror.creates == 0);
  CHECK(absl::IsNotFound(store.Active().status()));
}

TEST_CASE("a_new_leader_imports_the_mirror_with_its_audit_and_the_newest_revision_wins", "[server][mirror]") {
  Replica replica;
  replica.MirrorTwo("queues: cm");
  auto& [store, health, mirror, history] = replica;
  absl::StatusOr<Revision> in_force = history.TakeOver(kConfigMap, 5000);
  REQUIRE(in_force.ok());
  CHECK(in_force->revision() == 2);  // the ConfigMap did not change since revision 1: the admin's revision stays
  CHECK(in_force->document() == "queues: admin");
  CHECK(history.leading());
  CHECK(history.active() == 2);
  CHECK(store.GetRevision(1)->author() == kConfigMap.author);
  AuditFilter all;
  absl::StatusOr<std::vector<AuditRecord>> audit = store.ListAudit(all);
  REQUIRE(audit->size() == 2);
  CHECK(audit->front().actor() == "alice");
  CHECK(audit->front().action() == "config.apply");
  CHECK(audit->front().unix_ms() == 2000);
  CHECK_THAT(audit->front().result(), Catch::Contains("revision 2 (imported from the fake mirror)"));
  SECTION("the next apply is mirrored first, then stored, numbered after the mirror's") {
    absl::StatusOr<int64_t> n = history.RecordAdmin("queues: bob", "bob", "more", 0, 6000);
    REQUIRE(n.ok());
    CHECK(*n == 3);
    REQUIRE(mirror.objects.count(3) == 1);
    CHECK(mirror.objects[3].author() == "bob");
    CHECK(mirror.objects[3].sha256() == Sha256Hex("queues: bob"));
    CHECK(store.Active()->revision() == 3);
  }
  SECTION("a mirror that fails leaves nothing recorded") {
    mirror.fail = absl::UnavailableError("HTTP 503");
    absl::StatusOr<int64_t> n = history.RecordAdmin("queues: bob", "bob", "", 0, 6000);
    REQUIRE(absl::IsUnavailable(n.status()));
    CHECK_THAT(std::string(n.status().message()), Catch::Contains("HTTP 503"));
    CHECK(store.Active()->revision() == 2);
    CHECK(history.active() == 2);
    CHECK(store.ListAudit(all)->front().result() == "not recorded: HTTP 503");
  }
  SECTION("a local write that fails takes the mirrored copy back") {
    store.fail_applies = true;
    absl::StatusOr<int64_t> n = history.RecordAdmin("queues: bob", "bob", "", 0, 6000);
    REQUIRE(absl::IsUnavailable(n.status()));
    CHECK_THAT(std::string(n.status().message()),
               Catch::Contains("revision 3 was mirrored but not stored locally") &&
                   Catch::Contains("No space left") && Catch::Contains("the mirrored copy was deleted"));
    CHECK(mirror.objects.count(3) == 0);
    CHECK(history.active() == 2);
    store.fail_applies = false;
    CHECK(*history.RecordAdmin("queues: bob", "bob", "", 0, 7000) == 3);  // numbering did not move
  }
  SECTION("another leader's revision of the same number: refused, and the next one imports first") {
    mirror.objects[3] = Mirrored(3, "queues: theirs", "carol");
    absl::StatusOr<int64_t> n = history.RecordAdmin("queues: bob", "bob", "", 0, 6000);
    REQUIRE(absl::IsAborted(n.status()));
    CHECK_FALSE(history.leading());
    REQUIRE(history.TakeOver(kConfigMap, 7000).ok());
    CHECK(store.Active()->document() == "queues: theirs");
  }
  SECTION("after StepDown nothing is recorded") {
    history.StepDown();
    CHECK(absl::IsFailedPrecondition(history.RecordAdmin("queues: bob", "bob", "", 0, 6000).status()));
  }
}

TEST_CASE("a_new_leader_records_its_source_when_it_changed_since_its_last_revision", "[server][mirror]") {
  Replica replica;
  replica.MirrorTwo("queues: old cm");
  auto& [store, health, mirror, history] = replica;
  absl::StatusOr<Revision> in_force = history.TakeOver(kConfigMap, 5000);  // the ConfigMap now says "queues: cm"
  REQUIRE(in_force.ok());
  CHECK(in_force->revision() == 3);
  CHECK(in_force->document() == "queues: cm");
  CHECK(in_force->source() == store::v1::REVISION_SOURCE_CONFIGMAP);
  CHECK(mirror.objects.count(3) == 1);
}

TEST_CASE("an_empty_mirror_gets_the_first_revision_or_the_local_active_one", "[server][mirror]") {
  Replica replica;
  auto& [store, health, mirror, history] = replica;
  SECTION("nothing anywhere: the source's document is revision 1") {
    absl::StatusOr<Revision> in_force = history.TakeOver(kConfigMap, 5000);
    REQUIRE(in_force.ok());
    CHECK(in_force->revision() == 1);
    CHECK(mirror.objects.at(1).document() == "queues: cm");
  }
  SECTION("revisions kept from before mirroring: the active one is mirrored under its number") {
    Revision local = Mirrored(0, "queues: cm", kConfigMap.author, kConfigMap.kind);
    REQUIRE(store.Apply(0, local).ok());
    REQUIRE(store.Apply(1, Mirrored(0, "queues: admin", "alice")).ok());
    absl::StatusOr<Revision> in_force = history.TakeOver(kConfigMap, 5000);
    REQUIRE(in_force.ok());
    CHECK(in_force->revision() == 2);
    CHECK(mirror.objects.size() == 1);
    CHECK(mirror.objects.at(2).document() == "queues: admin");
  }
  SECTION("an unreadable mirror: no takeover, nothing changed") {
    mirror.fail = absl::UnavailableError("HTTP 500");
    CHECK(absl::IsUnavailable(history.TakeOver(kConfigMap, 5000).status()));
    CHECK_FALSE(history.leading());
    CHECK(absl::IsNotFound(store.Active().status()));
  }
}

}  // namespace
}  // namespace drover
