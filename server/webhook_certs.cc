#include "server/webhook_certs.h"

#include <simdjson.h>

#include "absl/strings/escaping.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "k8s/http_client.h"
#include "k8s/json_util.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

using k8s::JsonQuote;

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

struct SecretRead {
  bool exists = false;
  std::string resource_version;
  TlsPair pair;
};

absl::StatusOr<SecretRead> ReadSecret(k8s::HttpClient* http, const std::string& path) {
  ASSIGN_OR_RETURN(k8s::HttpResponse r, http->Send({.method = "GET", .path = path}));
  SecretRead out;
  if (r.status == 404) return out;
  if (r.status != 200) return absl::UnavailableError(StrCat("GET ", path, ": HTTP ", r.status));
  out.exists = true;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return out;
  std::string_view rv, crt, key, ca;
  if (doc["metadata"]["resourceVersion"].get(rv) == simdjson::SUCCESS) out.resource_version = std::string(rv);
  std::string dcrt, dkey, dca;
  if (doc["data"]["tls.crt"].get(crt) == simdjson::SUCCESS && doc["data"]["tls.key"].get(key) == simdjson::SUCCESS &&
      doc["data"]["ca.crt"].get(ca) == simdjson::SUCCESS &&
      absl::Base64Unescape(absl::string_view(crt.data(), crt.size()), &dcrt) &&
      absl::Base64Unescape(absl::string_view(key.data(), key.size()), &dkey) &&
      absl::Base64Unescape(absl::string_view(ca.data(), ca.size()), &dca)) {
    out.pair = TlsPair{dcrt, dkey, dca};
  }
  return out;
}

std::string SecretBody(const WebhookCertOptions& o, const TlsPair& p, const std::string& rv) {
  return StrCat(R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls","metadata":{"name":)",
                JsonQuote(o.secret_name), ",\"namespace\":", JsonQuote(o.service_namespace),
                rv.empty() ? "" : StrCat(",\"resourceVersion\":", JsonQuote(rv)),
                R"(,"labels":{"app.kubernetes.io/name":"drover"}},"data":{"tls.crt":")", B64(p.cert_pem),
                R"(","tls.key":")", B64(p.key_pem), R"(","ca.crt":")", B64(p.ca_pem), "\"}}");
}

bool Fresh(const TlsPair& p, const WebhookCertOptions& o, absl::Time now) {
  if (p.cert_pem.empty()) return false;
  absl::StatusOr<absl::Time> expiry = CertificateExpiry(p.cert_pem);
  return expiry.ok() && *expiry - now > o.renew_before && ServingCert::FromPem(p).ok();
}

bool StillValid(const TlsPair& p, absl::Time now) {
  absl::StatusOr<absl::Time> expiry = CertificateExpiry(p.cert_pem);
  return expiry.ok() && *expiry > now;
}

// The first PEM block of `bundle` (the CA that signed the pair; older ones are dropped).
std::string FirstPem(const std::string& bundle) {
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const size_t end = bundle.find(kEnd);
  if (end == std::string::npos) return "";
  return StrCat(bundle.substr(0, end + kEnd.size()), "\n");
}

}  // namespace

std::vector<std::string> ServiceDnsNames(const WebhookCertOptions& o) {
  const std::string& n = o.service_name;
  const std::string& ns = o.service_namespace;
  return {StrCat(n, ".", ns, ".svc"), n, StrCat(n, ".", ns), StrCat(n, ".", ns, ".svc.cluster.local")};
}

absl::StatusOr<TlsPair> EnsureWebhookSecret(k8s::HttpClient* http, const WebhookCertOptions& o, absl::Time now) {
  const std::string collection = StrCat("/api/v1/namespaces/", o.service_namespace, "/secrets");
  const std::string path = StrCat(collection, "/", o.secret_name);
  ASSIGN_OR_RETURN(SecretRead read, ReadSecret(http, path));
  if (read.exists && Fresh(read.pair, o, now)) return read.pair;
  ASSIGN_OR_RETURN(TlsPair made, MakeServingPair(ServiceDnsNames(o), now, o.validity_days));
  // Renewing a pair still in use: the caBundle keeps the old CA beside the new
  // one, so a replica that has not yet picked up the new pair is still trusted.
  if (read.exists && StillValid(read.pair, now)) StrAppend(&made.ca_pem, FirstPem(read.pair.ca_pem));
  k8s::HttpRequest req{.method = read.exists ? "PUT" : "POST", .path = read.exists ? path : collection,
                       .body = SecretBody(o, made, read.resource_version)};
  ASSIGN_OR_RETURN(k8s::HttpResponse r, http->Send(req));
  if (r.status == 200 || r.status == 201) {
    spdlog::info("webhook: wrote a new serving certificate for {} to Secret {}/{}", ServiceDnsNames(o)[0],
                 o.service_namespace, o.secret_name);
    return made;
  }
  if (r.status == 409) {  // another replica wrote first: use theirs
    ASSIGN_OR_RETURN(SecretRead theirs, ReadSecret(http, path));
    if (theirs.exists && ServingCert::FromPem(theirs.pair).ok()) return theirs.pair;
  }
  return absl::UnavailableError(StrCat(req.method, " ", req.path, ": HTTP ", r.status, ": ", CutForMessage(r.body)));
}

absl::StatusOr<int> InjectCaBundle(k8s::HttpClient* http, const std::string& configuration, const std::string& ca_pem) {
  const std::string bundle = B64(ca_pem);
  int patched = 0;
  for (const char* kind : {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}) {
    const std::string path = StrCat("/apis/admissionregistration.k8s.io/v1/", kind, "/", configuration);
    ASSIGN_OR_RETURN(k8s::HttpResponse r, http->Send({.method = "GET", .path = path}));
    if (r.status == 404) {
      spdlog::warn("webhook: {} {} does not exist (apply deploy/); its caBundle is not set", kind, configuration);
      continue;
    }
    if (r.status != 200) return absl::UnavailableError(StrCat("GET ", path, ": HTTP ", r.status));
    simdjson::dom::parser parser;
    simdjson::dom::array hooks;
    if (parser.parse(r.body)["webhooks"].get(hooks) != simdjson::SUCCESS) continue;
    std::string ops;
    size_t i = 0;
    for (simdjson::dom::element h : hooks) {
      std::string_view current;
      if (h["clientConfig"]["caBundle"].get(current) != simdjson::SUCCESS || current != bundle) {
        StrAppend(&ops, ops.empty() ? "" : ",", R"({"op":"add","path":"/webhooks/)", i,
                  R"(/clientConfig/caBundle","value":")", bundle, "\"}");
        ++patched;
      }
      ++i;
    }
    if (ops.empty()) continue;
    ASSIGN_OR_RETURN(k8s::HttpResponse p, http->Send({.method = "PATCH", .path = path, .body = StrCat("[", ops, "]"),
                                                       .content_type = "application/json-patch+json"}));
    if (p.status != 200) return absl::UnavailableError(StrCat("PATCH ", path, ": HTTP ", p.status, ": ", CutForMessage(p.body)));
    spdlog::info("webhook: set the caBundle of {} {}", kind, configuration);
  }
  return patched;
}

}  // namespace drover
