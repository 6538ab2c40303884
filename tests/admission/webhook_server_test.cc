// droverd's webhook server over HTTPS: reviews answered, the certificate verified
// against its CA and re-read when its files change.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "review_fixture.h"
#include "server/webhook_server.h"
#include "server/webhook_tls.h"

namespace drover {
namespace {

using admission::testing::MakePolicy;
using admission::testing::PodJson;
using admission::testing::PodSpec;
using admission::testing::ReviewJson;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/drover-webhook-test-" +
         std::to_string(::getpid()) + "-" + name;
}

TEST_CASE("webhook_server_answers_reviews_over_verified_https", "[webhook]") {
  absl::StatusOr<TlsPair> pair = MakeServingPair({"localhost"}, absl::Now(), 1);
  REQUIRE(pair.ok());
  const std::string ca = TempPath("ca.pem");
  WriteFile(ca, pair->ca_pem);
  WebhookPolicy policy;
  absl::StatusOr<std::unique_ptr<ServingCert>> cert = ServingCert::FromPem(*pair);
  REQUIRE(cert.ok());
  WebhookServer server(WebhookServerOptions{.host = "127.0.0.1", .port = 0}, &policy, std::move(*cert));
  absl::StatusOr<int> port = server.Start();
  REQUIRE(port.ok());
  httplib::SSLClient cli("localhost", *port);
  cli.set_ca_cert_path(ca.c_str());
  cli.enable_server_certificate_verification(true);
  PodSpec p;
  p.scheduler = "drover";
  p.cpu = "90";
  p.annotations_json = R"({"drover.io/gpu-type":"A100"})";
  const std::string review = ReviewJson(PodJson(p), p.ns);

  auto before = cli.Post("/validate", review, "application/json");
  REQUIRE(before);
  CHECK(before->status == 503);  // no policy until the informers synced

  policy.Set(MakePolicy());
  auto res = cli.Post("/validate", review, "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.find("\"allowed\":false") != std::string::npos);
  CHECK(res->body.find("is above the limit of 15") != std::string::npos);
  auto mutate = cli.Post("/mutate", ReviewJson(PodJson(PodSpec{}), "team-a"), "application/json");
  REQUIRE(mutate);
  CHECK(mutate->body.find("\"patchType\":\"JSONPatch\"") != std::string::npos);
  auto bad = cli.Post("/validate", "{", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);

  SECTION("a client that does not trust the CA is refused the handshake") {
    absl::StatusOr<TlsPair> other = MakeServingPair({"localhost"}, absl::Now(), 1);
    REQUIRE(other.ok());
    const std::string other_ca = TempPath("other-ca.pem");
    WriteFile(other_ca, other->ca_pem);
    httplib::SSLClient untrusting("localhost", *port);
    untrusting.set_ca_cert_path(other_ca.c_str());
    untrusting.enable_server_certificate_verification(true);
    CHECK_FALSE(untrusting.Get("/healthz"));
    std::remove(other_ca.c_str());
  }
  server.Stop();
  std::remove(ca.c_str());
}

TEST_CASE("webhook_certificate_files_are_re_read_when_they_change", "[webhook]") {
  absl::StatusOr<TlsPair> first = MakeServingPair({"localhost"}, absl::Now(), 1);
  absl::StatusOr<TlsPair> second = MakeServingPair({"localhost"}, absl::Now(), 1);
  REQUIRE((first.ok() && second.ok()));
  const std::string crt = TempPath("tls.crt"), key = TempPath("tls.key"), ca1 = TempPath("ca1"), ca2 = TempPath("ca2");
  WriteFile(crt, first->cert_pem);
  WriteFile(key, first->key_pem);
  WriteFile(ca1, first->ca_pem);
  WriteFile(ca2, second->ca_pem);
  absl::StatusOr<std::unique_ptr<ServingCert>> cert = ServingCert::FromFiles(crt, key);
  REQUIRE(cert.ok());
  ServingCert* certs = cert->get();
  WebhookPolicy policy;
  WebhookServer server(WebhookServerOptions{.host = "127.0.0.1", .port = 0}, &policy, std::move(*cert));
  absl::StatusOr<int> port = server.Start();
  REQUIRE(port.ok());
  auto get = [&](const std::string& ca) {
    httplib::SSLClient cli("localhost", *port);
    cli.set_ca_cert_path(ca.c_str());
    cli.enable_server_certificate_verification(true);
    return static_cast<bool>(cli.Get("/healthz"));
  };
  CHECK(get(ca1));
  CHECK_FALSE(get(ca2));
  // cert-manager renews in place; files are looked at on a handshake at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  WriteFile(crt, second->cert_pem);
  WriteFile(key, second->key_pem);
  CHECK(get(ca2));
  CHECK(certs->loads() == 2);
  SECTION("a broken pair keeps the last good one") {
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    WriteFile(key, "not a key");
    CHECK(get(ca2));
    CHECK(certs->loads() == 2);
  }
  server.Stop();
  for (const std::string& f : {crt, key, ca1, ca2}) std::remove(f.c_str());
}

TEST_CASE("a_bad_certificate_file_is_an_error_naming_it", "[webhook]") {
  const std::string crt = TempPath("bad.crt");
  WriteFile(crt, "garbage");
  absl::StatusOr<std::unique_ptr<ServingCert>> cert = ServingCert::FromFiles(crt, crt);
  REQUIRE_FALSE(cert.ok());
  CHECK(std::string(cert.status().message()).find(crt + ": no PEM certificate") != std::string::npos);
  CHECK_FALSE(ServingCert::FromFiles(TempPath("missing.crt"), crt).ok());
  std::remove(crt.c_str());
}

}  // namespace
}  // namespace drover
