// The page's files and JSON endpoints: query parameters to drover.admin.v1
// requests (400 naming the parameter), authentication, Protobuf's JSON mapping out.
#include "server/page_routes.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <initializer_list>
#include <string_view>

#include "core/strings.h"
#include "server/page_assets.h"

namespace drover {
namespace {

namespace pb = ::drover::admin::v1;

constexpr std::string_view kJson = "application/json";
// Only this origin's files; no inline script or style, no framing.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      StrAppend(&out, "\\", std::string(1, c));
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int HttpCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

HttpResponse Error(const absl::Status& s) {
  HttpResponse r{HttpCode(s.code()),
                 StrCat("{\"code\":", JsonString(absl::StatusCodeToString(s.code())), ",\"message\":",
                        JsonString(std::string(s.message())), "}\n"),
                 std::string(kJson)};
  r.headers.emplace_back("Cache-Control", "no-store");
  if (s.code() == absl::StatusCode::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"drover\"");
  return r;
}

HttpResponse Json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string body;
  if (auto s = google::protobuf::util::MessageToJsonString(m, &body, o); !s.ok()) {
    return Error(absl::InternalError(StrCat("encoding the answer as JSON: ", s.ToString())));
  }
  HttpResponse r{200, std::move(body), std::string(kJson)};
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

template <typename Message>
HttpResponse Json(const absl::StatusOr<Message>& m) {
  return m.ok() ? Json(*m) : Error(m.status());
}

// InvalidArgument naming the first query parameter not in `known`.
absl::Status OnlyParams(const HttpRequest& req, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : req.params) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) StrAppend(&list, list.empty() ? "" : ", ", k);
    return absl::InvalidArgumentError(StrCat("query parameter \"", CutForMessage(name), "\" is not known here",
                                             known.size() == 0 ? std::string("; this endpoint takes none")
                                                               : StrCat("; this endpoint takes ", list)));
  }
  return absl::OkStatus();
}

// Query parameter `name` as an integer in [lo, hi]; `*out` untouched when absent.
absl::Status IntParam(const HttpRequest& req, const std::string& name, int64_t lo, int64_t hi, int64_t* out) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return absl::OkStatus();
  const std::string& v = it->second;
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi) {
    return absl::InvalidArgumentError(
        StrCat("query parameter ", name, ": \"", CutForMessage(v), "\" is not an integer in ", lo, "..", hi));
  }
  *out = n;
  return absl::OkStatus();
}

absl::Status BoolParam(const HttpRequest& req, const std::string& name, bool* out) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return absl::OkStatus();
  if (it->second != "true" && it->second != "false") {
    return absl::InvalidArgumentError(
        StrCat("query parameter ", name, ": \"", CutForMessage(it->second), "\" is not true or false"));
  }
  *out = it->second == "true";
  return absl::OkStatus();
}

absl::StatusOr<pb::ListPendingRequest> PendingRequest(const HttpRequest& req) {
  if (absl::Status s = OnlyParams(req, {"queue", "tier", "reason", "page_size", "page_token"}); !s.ok()) return s;
  pb::ListPendingRequest out;
  out.set_queue(req.Param("queue"));
  out.set_reason(req.Param("reason"));
  out.set_page_token(req.Param("page_token"));
  int64_t tier = -1;
  int64_t size = 0;
  if (absl::Status s = IntParam(req, "tier", 0, 2, &tier); !s.ok()) return s;
  if (absl::Status s = IntParam(req, "page_size", 1, kMaxPage, &size); !s.ok()) return s;
  if (tier >= 0) {
    out.set_tier(static_cast<int32_t>(tier));
    out.set_has_tier(true);
  }
  out.set_page_size(static_cast<int32_t>(size));
  return out;
}

absl::StatusOr<pb::ExplainRequest> ExplainRequest(const HttpRequest& req) {
  if (absl::Status s = OnlyParams(req, {"pod"}); !s.ok()) return s;
  const std::string pod = req.Param("pod");
  const size_t slash = pod.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == pod.size()) {
    return absl::InvalidArgumentError(StrCat("query parameter pod: \"", CutForMessage(pod), "\" is not NAMESPACE/NAME"));
  }
  pb::ExplainRequest out;
  out.set_namespace_(pod.substr(0, slash));
  out.set_name(pod.substr(slash + 1));
  return out;
}

absl::StatusOr<pb::QueryUsageRequest> UsageRequest(const HttpRequest& req) {
  if (absl::Status s = OnlyParams(req, {"queue", "gpu_type", "window_seconds", "step_seconds"}); !s.ok()) return s;
  pb::QueryUsageRequest out;
  out.set_queue(req.Param("queue"));
  out.set_gpu_type(req.Param("gpu_type"));
  int64_t window = 0;
  int64_t step = 0;
  if (absl::Status s = IntParam(req, "window_seconds", 60, 400LL * 24 * 3600, &window); !s.ok()) return s;
  if (absl::Status s = IntParam(req, "step_seconds", 60, 400LL * 24 * 3600, &step); !s.ok()) return s;
  out.set_window_seconds(window);
  out.set_step_seconds(step);
  return out;
}

// `answer` for a caller who may read; else 401.
HttpHandler Authenticated(PageAccess access, std::function<HttpResponse(const HttpRequest&)> answer) {
  return [access = std::move(access), answer = std::move(answer)](const HttpRequest& req) {
    absl::StatusOr<Principal> who = AuthenticateBearer(req.Header("authorization"), access.authn.get(), access.anonymous_read);
    if (!who.ok()) return Error(who.status());
    return answer(req);
  };
}

void ServeFile(HttpServer* http, const std::string& path, const PageAsset& file) {
  http->Get(path, [&file](const HttpRequest&) {
    HttpResponse r{200, std::string(file.body), std::string(file.content_type)};
    r.headers = {{"Content-Security-Policy", std::string(kPagePolicy)},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Cache-Control", "no-cache"}};
    return r;
  });
}

}  // namespace

void AddPageRoutes(HttpServer* http, const AdminReads* reads, PageAccess access) {
  for (const PageAsset& file : PageAssets()) {
    ServeFile(http, StrCat("/ui/", file.name), file);
    if (file.name == "index.html") ServeFile(http, "/", file);
  }
  http->Get("/api/v1/admin/queues", Authenticated(access, [reads](const HttpRequest& req) {
              if (absl::Status s = OnlyParams(req, {}); !s.ok()) return Error(s);
              return Json(reads->ListQueues());
            }));
  http->Get("/api/v1/admin/pending", Authenticated(access, [reads](const HttpRequest& req) {
              absl::StatusOr<pb::ListPendingRequest> r = PendingRequest(req);
              return r.ok() ? Json(reads->ListPending(*r)) : Error(r.status());
            }));
  http->Get("/api/v1/admin/explain", Authenticated(access, [reads](const HttpRequest& req) {
              absl::StatusOr<pb::ExplainRequest> r = ExplainRequest(req);
              return r.ok() ? Json(reads->Explain(*r)) : Error(r.status());
            }));
  http->Get("/api/v1/admin/inventory", Authenticated(access, [reads](const HttpRequest& req) {
              pb::GetInventoryRequest r;
              bool nodes = false;
              absl::Status s = OnlyParams(req, {"nodes"});
              if (s.ok()) s = BoolParam(req, "nodes", &nodes);
              if (!s.ok()) return Error(s);
              r.set_nodes(nodes);
              return Json(reads->GetInventory(r));
            }));
  http->Get("/api/v1/admin/usage", Authenticated(access, [reads](const HttpRequest& req) {
              absl::StatusOr<pb::QueryUsageRequest> r = UsageRequest(req);
              return r.ok() ? Json(reads->QueryUsage(*r)) : Error(r.status());
            }));
}

}  // namespace drover
