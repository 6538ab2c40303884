// Mutual TLS on the admin API: certificates made at test time (server/webhook_tls.h),
// a client certificate's CN is the user and each O a group; bearer tokens still
// work over TLS; an untrusted client certificate or a plaintext client is refused;
// droverctl --cacert/--cert/--key.
#include <catch2/catch.hpp>

#include "server/admin_tls.h"
#include "server/webhook_tls.h"
#include "tests/admin/admin_daemon.h"

namespace drover {
namespace {

namespace pb = admin::v1;
using namespace admin_testing;  // NOLINT: the tests share the daemon and its helpers

std::unique_ptr<pb::Admin::Stub> TlsStub(int port, const TlsPair& server, const TlsPair* client) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = server.ca_pem;
  if (client != nullptr) {
    o.pem_cert_chain = client->cert_pem;
    o.pem_private_key = client->key_pem;
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return pb::Admin::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(o), args));
}

TEST_CASE("admin_tls_client_certificate_names_user_and_groups", "[admin][tls]") {
  absl::StatusOr<TlsPair> c = MakeClientPair("alice", {"research", "ml-platform"}, absl::Now(), 1);
  REQUIRE(c.ok());
  absl::StatusOr<Principal> p = PrincipalFromCertificate(c->cert_pem);
  REQUIRE(p.ok());
  CHECK(p->user == "alice");
  CHECK(p->groups == std::vector<std::string>{"research", "ml-platform"});
  CHECK_FALSE(PrincipalFromCertificate("not a certificate").ok());
  CHECK_FALSE(AdminServerCredentials({.cert = "x.pem"}).ok());  // a cert without its key
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> missing =
      AdminServerCredentials({.cert = "/nonexistent.pem", .key = "/nonexistent.key"});
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(std::string(missing.status().message()), Catch::Contains("--admin-tls-cert"));
}

TEST_CASE("admin_api_over_mutual_tls", "[admin][tls][e2e]") {
  absl::StatusOr<TlsPair> server = MakeServingPair({"localhost"}, absl::Now(), 1);
  absl::StatusOr<TlsPair> alice = MakeClientPair("alice", {"research"}, absl::Now(), 1);
  absl::StatusOr<TlsPair> stranger = MakeClientPair("ops", {}, absl::Now(), 1);  // a cluster admin's name, other CA
  REQUIRE((server.ok() && alice.ok() && stranger.ok()));
  const std::string cert = WriteTemp(server->cert_pem), key = WriteTemp(server->key_pem);
  const std::string client_ca = WriteTemp(alice->ca_pem), server_ca = WriteTemp(server->ca_pem);
  const std::string alice_cert = WriteTemp(alice->cert_pem), alice_key = WriteTemp(alice->key_pem);
  {
    AdminDaemon d([&](ProcessOptions* o) { o->admin_tls = {cert, key, client_ca}; });
    auto as_alice = TlsStub(d.port(), *server, &*alice);

    // alice by her certificate, no token: a write in her subtree, refused outside it.
    pb::ConfigRevision active;
    REQUIRE(as_alice->GetConfig(As("").get(), pb::GetConfigRequest(), &active).ok());
    pb::ApplyConfigRequest req;
    req.set_document(Replace(active.document(), "A100: 8}}\n    - name: safety", "A100: 16}}\n    - name: safety"));
    req.set_expected_revision(active.revision());
    pb::ApplyConfigResponse out;
    grpc::Status s = as_alice->ApplyConfig(As("").get(), req, &out);
    REQUIRE(s.ok());
    CHECK(out.applied());
    req.set_document(Replace(active.document(), "name: safety\n      max: {gpu: {A100: 8}}",
                             "name: safety\n      max: {gpu: {A100: 16}}"));
    req.set_expected_revision(out.revision());
    s = as_alice->ApplyConfig(As("").get(), req, &out);
    CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_THAT(s.error_message(), Catch::Contains("\"alice\""));

    // No client certificate: a bearer token over TLS; none at all: unauthenticated.
    auto tls_only = TlsStub(d.port(), *server, nullptr);
    pb::ListQueuesResponse queues;
    CHECK(tls_only->ListQueues(As("viewer-t").get(), pb::ListQueuesRequest(), &queues).ok());
    CHECK(tls_only->ListQueues(As("").get(), pb::ListQueuesRequest(), &queues).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    // A certificate from a CA droverd does not trust, and plaintext, never get a call through.
    auto untrusted = TlsStub(d.port(), *server, &*stranger);
    CHECK_FALSE(untrusted->ListQueues(As("").get(), pb::ListQueuesRequest(), &queues).ok());
    auto plain = pb::Admin::NewStub(grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials()));
    CHECK(plain->ListQueues(As("viewer-t").get(), pb::ListQueuesRequest(), &queues).error_code() ==
          grpc::StatusCode::UNAVAILABLE);

    // droverctl with the same files: the audit trail names alice, from her certificate.
    const std::string out_file = WriteTemp("");
    const std::string cmd = drover::StrCat(DROVERCTL_PATH, " --server localhost:", d.port(), " --cacert ", server_ca,
                                   " --cert ", alice_cert, " --key ", alice_key, " audit >", out_file, " 2>&1");
    const int status = std::system(cmd.c_str());
    std::ifstream f(out_file);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    INFO(text);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_THAT(text, Catch::Contains("alice") && Catch::Contains("config.apply"));
    std::remove(out_file.c_str());
  }
  for (const std::string& f : {cert, key, client_ca, server_ca, alice_cert, alice_key}) std::remove(f.c_str());
}

}  // namespace
}  // namespace drover
