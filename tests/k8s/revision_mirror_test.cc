// KubeRevisionMirror against the test API server: ControllerRevisions created
// once (a lost answer's retry is fine, another document is refused), listed by
// label selector across pages, bounded, and skipped by name when they are not ours.
#include <catch2/catch.hpp>

#include "core/strings.h"
#include "k8s/http_client.h"
#include "server/revision_mirror.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

Revision Rev(int64_t n, const std::string& doc, const std::string& author = "alice") {
  Revision r;
  r.set_schema_version(kSchemaVersion);
  r.set_revision(n);
  r.set_document(doc);
  r.set_sha256(Sha256Hex(doc));
  r.set_author(author);
  r.set_comment("why");
  r.set_source(store::v1::REVISION_SOURCE_ADMIN_API);
  r.set_applied_unix_ms(1'700'000'000'000 + n);
  return r;
}

const std::string kCollection = "/apis/apps/v1/namespaces/drover-system/controllerrevisions";

TEST_CASE("revisions_are_mirrored_as_controller_revisions_and_listed_back", "[k8s][mirror]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  MirrorOptions o;
  o.page_size = 2;  // several pages
  KubeRevisionMirror mirror(http.get(), o);
  for (int n = 1; n <= 5; ++n) REQUIRE(mirror.Create(Rev(n, StrCat("queues: v", n, "\n"))).ok());

  absl::StatusOr<HttpResponse> got = http->Send({.path = kCollection + "/drover-config-3"});
  REQUIRE(got.ok());
  REQUIRE(got->status == 200);
  CHECK_THAT(got->body, Catch::Contains(R"("revision":3)") && Catch::Contains(R"("app.kubernetes.io/name":"drover")") &&
                            Catch::Contains(R"("author":"alice")") && Catch::Contains(R"("comment":"why")"));

  absl::StatusOr<std::vector<Revision>> all = mirror.List();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 5);
  for (int n = 1; n <= 5; ++n) {
    const Revision& r = (*all)[n - 1];
    CHECK(r.revision() == n);
    CHECK(r.document() == StrCat("queues: v", n, "\n"));
    CHECK(r.author() == "alice");
    CHECK(r.applied_unix_ms() == 1'700'000'000'000 + n);
    CHECK(r.source() == store::v1::REVISION_SOURCE_ADMIN_API);
  }

  SECTION("creating the same revision again is fine (a retry); another document is Aborted") {
    CHECK(mirror.Create(Rev(3, "queues: v3\n")).ok());
    absl::Status other = mirror.Create(Rev(3, "queues: theirs\n"));
    REQUIRE(absl::IsAborted(other));
    CHECK_THAT(std::string(other.message()), Catch::Contains("drover-system/drover-config-3 already exists"));
  }
  SECTION("only the newest max_revisions are imported") {
    MirrorOptions few = o;
    few.max_revisions = 2;
    absl::StatusOr<std::vector<Revision>> newest = KubeRevisionMirror(http.get(), few).List();
    REQUIRE(newest.ok());
    REQUIRE(newest->size() == 2);
    CHECK(newest->front().revision() == 4);
    CHECK(newest->back().revision() == 5);
  }
  SECTION("objects that are not ours or do not check out are skipped; unlabelled ones are not listed") {
    const std::string bad_sha = StrCat(
        R"({"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"drover-config-9","labels":)",
        R"({"app.kubernetes.io/name":"drover","drover.io/kind":"config-revision"}},"revision":9,)",
        R"("data":{"revision":"9","document":"x","sha256":"00"}})");
    const std::string wrong_number = StrCat(
        R"({"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"drover-config-8","labels":)",
        R"({"app.kubernetes.io/name":"drover","drover.io/kind":"config-revision"}},"revision":8,)",
        R"("data":{"revision":"7","document":"x","sha256":")", Sha256Hex("x"), R"("}})");
    const std::string other_app =
        R"({"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"web-7d9f"},"revision":1,"data":{}})";
    for (const std::string& body : {bad_sha, wrong_number, other_app}) {
      absl::StatusOr<HttpResponse> r = http->Send({.method = "POST", .path = kCollection, .body = body});
      REQUIRE(r.ok());
      REQUIRE(r->status == 201);
    }
    absl::StatusOr<std::vector<Revision>> listed = mirror.List();
    REQUIRE(listed.ok());
    CHECK(listed->size() == 5);
    CHECK(listed->back().revision() == 5);
  }
  SECTION("delete removes one; deleting a missing one is fine") {
    REQUIRE(mirror.Delete(5).ok());
    CHECK(mirror.Delete(5).ok());
    CHECK(mirror.List()->size() == 4);
  }
  SECTION("an API server that fails is Unavailable, naming the objects") {
    REQUIRE(server.Control("/_control/faults",
                           R"({"fail_next":{"path_regex":"controllerrevisions","code":500,"count":20}})").ok());
    absl::StatusOr<std::vector<Revision>> failed = mirror.List();
    REQUIRE(absl::IsUnavailable(failed.status()));
    CHECK_THAT(std::string(failed.status().message()), Catch::Contains("ControllerRevisions drover-config-*"));
    absl::Status create = mirror.Create(Rev(6, "queues: v6\n"));
    REQUIRE(absl::IsUnavailable(create));
    CHECK_THAT(std::string(create.message()), Catch::Contains("ControllerRevision drover-system/drover-config-6"));
  }
}

TEST_CASE("decode_controller_revision_names_the_object_and_field", "[k8s][mirror]") {
  MirrorOptions o;
  const Revision r = Rev(4, "queues: {}\n");
  absl::StatusOr<Revision> back = DecodeControllerRevision(ControllerRevisionJson(r, o));
  REQUIRE(back.ok());
  CHECK(back->SerializeAsString() == r.SerializeAsString());
  absl::StatusOr<Revision> no_data =
      DecodeControllerRevision(R"({"metadata":{"name":"drover-config-4"},"revision":4})");
  REQUIRE(absl::IsInvalidArgument(no_data.status()));
  CHECK(std::string(no_data.status().message()) == "ControllerRevision \"drover-config-4\": data: missing or not an object");
  absl::StatusOr<Revision> not_json = DecodeControllerRevision("{");
  CHECK(absl::IsInvalidArgument(not_json.status()));
  absl::StatusOr<Revision> wrong_type =
      DecodeControllerRevision(R"({"metadata":{"name":"drover-config-4"},"revision":4,"data":{"document":7}})");
  REQUIRE(absl::IsInvalidArgument(wrong_type.status()));
  CHECK_THAT(std::string(wrong_type.status().message()), Catch::Contains("not a Drover revision record"));
}

}  // namespace
}  // namespace drover::k8s::testing
