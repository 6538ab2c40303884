#include "k8s/api_status.h"

#include "core/strings.h"
#include "absl/strings/str_cat.h"
#include "k8s/decode_internal.h"

namespace drover::k8s {

namespace od = simdjson::ondemand;

ApiStatus ParseApiStatus(std::string_view body) {
  ApiStatus st;
  od::parser parser;
  std::string scratch;
  od::document doc;
  if (internal::Iterate(parser, body, 0, &scratch).get(doc)) return st;
  od::object root;
  if (doc.get_object().get(root)) return st;
  absl::Status ignored = internal::ForEachFieldOf(root, "status", [&](std::string_view key, od::value v) -> absl::Status {
    if (key == "reason") return internal::ReadString(v, "reason", &st.reason);
    if (key == "message") return internal::ReadString(v, "message", &st.message);
    if (key == "code") {
      int64_t code = 0;
      absl::Status s = internal::ReadInt(v, "code", &code);
      st.code = static_cast<int>(code);
      return s;
    }
    return absl::OkStatus();
  });
  (void)ignored;
  return st;
}

absl::Status ApiError(const HttpResponse& resp, std::string_view what) {
  ApiStatus st = ParseApiStatus(resp.body);
  std::string msg = StrCat(what, ": HTTP ", resp.status);
  // The server's words, cut: a Status message may quote a huge value back.
  if (!st.reason.empty()) StrAppend(&msg, " ", CutForMessage(st.reason));
  if (!st.message.empty()) {
    StrAppend(&msg, ": ", CutForMessage(st.message, 4 * kMaxQuotedBytes));
  } else if (!resp.body.empty() && st.code == 0) {
    StrAppend(&msg, ": ", std::string_view(resp.body).substr(0, 200));
  }
  absl::StatusCode code = absl::StatusCode::kUnknown;
  switch (resp.status) {
    case 400: code = absl::StatusCode::kInvalidArgument; break;
    case 401: code = absl::StatusCode::kUnauthenticated; break;
    case 403: code = absl::StatusCode::kPermissionDenied; break;
    case 404: code = absl::StatusCode::kNotFound; break;
    case 409: code = absl::StatusCode::kAborted; break;
    case 410: code = absl::StatusCode::kOutOfRange; break;
    case 422: code = absl::StatusCode::kInvalidArgument; break;
    case 429: code = absl::StatusCode::kResourceExhausted; break;
    default:
      if (resp.status >= 500) code = absl::StatusCode::kUnavailable;
  }
  return absl::Status(code, msg);
}

}  // namespace drover::k8s
