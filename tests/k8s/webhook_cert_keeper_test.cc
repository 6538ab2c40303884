// WebhookCertKeeper against the test API server: the caBundle of a configuration
// re-created from the manifest is set again; a pair near expiry is renewed into the Secret
// with the old CA kept in the bundle; a second replica adopts the renewed pair
// instead of writing its own.
#include "server/webhook_cert_keeper.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include <simdjson.h>

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "k8s/http_client.h"
#include "tests/k8s/fake_apiserver.h"

namespace drover::k8s::testing {
namespace {

constexpr const char* kMutating = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/drover";
constexpr const char* kSecret = "/api/v1/namespaces/drover-system/secrets/drover-webhook-tls";

// The decoded caBundle of the mutating configuration's first webhook ("" when unset).
std::string CaBundle(HttpClient* http) {
  absl::StatusOr<HttpResponse> r = http->Send({.method = "GET", .path = kMutating});
  if (!r.ok() || r->status != 200) return "<" + std::to_string(r.ok() ? r->status : 0) + ">";
  simdjson::dom::parser parser;
  std::string_view b64;
  if (parser.parse(r->body)["webhooks"].at(0)["clientConfig"]["caBundle"].get(b64) != simdjson::SUCCESS) return "";
  std::string pem;
  absl::Base64Unescape(absl::string_view(b64.data(), b64.size()), &pem);
  return pem;
}

std::string ResourceVersion(HttpClient* http, const std::string& path) {
  absl::StatusOr<HttpResponse> r = http->Send({.method = "GET", .path = path});
  simdjson::dom::parser parser;
  std::string_view rv;
  if (!r.ok() || parser.parse(r->body)["metadata"]["resourceVersion"].get(rv) != simdjson::SUCCESS) return "";
  return std::string(rv);
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("webhook_cert_keeper_repairs_the_ca_bundle_and_renews_before_expiry", "[k8s][webhook]") {
  FakeApiServer server;
  REQUIRE(server.Start().ok());
  std::unique_ptr<HttpClient> http = server.Client();
  const char* src = std::getenv("DROVER_SOURCE_DIR");
  const std::string manifest = StrCat(src != nullptr ? src : ".", "/deploy/40-webhook.yaml");
  REQUIRE(server.Control("/_control/manifest", StrCat(R"({"path":")", manifest, "\"}")).ok());

  WebhookCertOptions opts;
  const absl::Time start = absl::Now();
  absl::StatusOr<TlsPair> pair = EnsureWebhookSecret(http.get(), opts, start);
  REQUIRE(pair.ok());
  absl::StatusOr<std::unique_ptr<ServingCert>> cert = ServingCert::FromPem(*pair);
  REQUIRE(cert.ok());
  WebhookCertKeeper keeper(http.get(), opts, cert->get(), *pair, absl::Minutes(1));

  // The first check sets every webhook's caBundle (the manifest ships none).
  absl::StatusOr<int> first = keeper.CheckOnce(start);
  REQUIRE(first.ok());
  CHECK(*first >= 2);  // one mutating and at least one validating webhook
  CHECK(CaBundle(http.get()) == pair->ca_pem);
  absl::StatusOr<int> again = keeper.CheckOnce(start);
  REQUIRE(again.ok());
  CHECK(*again == 0);  // nothing differs: no write

  SECTION("a configuration re-created from the manifest (no caBundle) gets it again") {
    absl::StatusOr<HttpResponse> deleted = http->Send({.method = "DELETE", .path = kMutating});
    REQUIRE(deleted.ok());
    REQUIRE(deleted->status == 200);
    REQUIRE(server.Control("/_control/manifest", StrCat(R"({"path":")", manifest, "\"}")).ok());
    REQUIRE(CaBundle(http.get()).empty());
    absl::StatusOr<int> repaired = keeper.CheckOnce(start + absl::Minutes(1));
    REQUIRE(repaired.ok());
    CHECK(*repaired >= 1);
    CHECK(CaBundle(http.get()) == pair->ca_pem);
    CHECK(keeper.renewals() == 0);
  }

  SECTION("a pair within 30 days of expiry is renewed; the bundle keeps the old CA; a second replica adopts it") {
    const std::string rv_before = ResourceVersion(http.get(), kSecret);
    const absl::Time late = start + absl::Hours(24 * 340);
    REQUIRE(keeper.CheckOnce(late).ok());
    CHECK(keeper.renewals() == 1);
    CHECK((*cert)->loads() == 2);  // the new pair serves from the next handshake
    const std::string bundle = CaBundle(http.get());
    CHECK(Count(bundle, "-----BEGIN CERTIFICATE-----") == 2);
    CHECK(bundle.find(pair->ca_pem) != std::string::npos);  // the old CA still trusted
    const std::string rv_renewed = ResourceVersion(http.get(), kSecret);
    CHECK(rv_renewed != rv_before);

    // Another replica still serving the old pair adopts the renewed one: no second write.
    absl::StatusOr<std::unique_ptr<ServingCert>> other_cert = ServingCert::FromPem(*pair);
    REQUIRE(other_cert.ok());
    WebhookCertKeeper other(http.get(), opts, other_cert->get(), *pair, absl::Minutes(1));
    absl::StatusOr<int> adopted = other.CheckOnce(late + absl::Minutes(1));
    REQUIRE(adopted.ok());
    CHECK(*adopted == 0);
    CHECK(other.renewals() == 1);
    CHECK(ResourceVersion(http.get(), kSecret) == rv_renewed);
  }
}

TEST_CASE("webhook_cert_keeper_reports_an_unreachable_api_server_and_keeps_its_pair", "[k8s][webhook]") {
  absl::StatusOr<TlsPair> pair = MakeServingPair({"drover-webhook.drover-system.svc"}, absl::Now(), 365);
  REQUIRE(pair.ok());
  absl::StatusOr<std::unique_ptr<ServingCert>> cert = ServingCert::FromPem(*pair);
  REQUIRE(cert.ok());
  HttpOptions o = FakeApiServer::FastOptions();
  o.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<HttpClient>> http = HttpClient::Create(RestConfig{.server = "http://127.0.0.1:1"}, o);
  REQUIRE(http.ok());
  WebhookCertKeeper keeper(http->get(), WebhookCertOptions{}, cert->get(), *pair, absl::Minutes(1));
  absl::StatusOr<int> r = keeper.CheckOnce(absl::Now());
  CHECK(!r.ok());
  CHECK(keeper.renewals() == 0);
  CHECK((*cert)->loads() == 1);
}

}  // namespace
}  // namespace drover::k8s::testing
