#include "server/revision_mirror.h"

#include <google/protobuf/util/json_util.h>
#include <simdjson.h>

#include <algorithm>

#include "core/status_macros.h"
#include "core/strings.h"
#include "k8s/http_client.h"
#include "k8s/json_util.h"
#include "queues/config.h"
#include "spdlog/spdlog.h"

namespace drover {
namespace {

using k8s::JsonQuote;

constexpr std::string_view kLabelSelector =
    "app.kubernetes.io/name=drover,drover.io/kind=config-revision";

std::string Collection(const MirrorOptions& o) {
  return StrCat("/apis/apps/v1/namespaces/", o.namespace_, "/controllerrevisions");
}

std::string Str(std::string_view v) { return std::string(v); }

// The record in one item of a list (or a GET): the checks DecodeControllerRevision promises.
absl::StatusOr<Revision> DecodeItem(simdjson::dom::element item) {
  std::string_view name;
  if (item["metadata"]["name"].get(name) != simdjson::SUCCESS) name = "(no name)";
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(StrCat("ControllerRevision \"", CutForMessage(Str(name)), "\": ", why));
  };
  int64_t number = 0;
  if (item["revision"].get(number) != simdjson::SUCCESS) return bad("revision: missing or not an integer");
  simdjson::dom::object data;
  if (item["data"].get(data) != simdjson::SUCCESS) return bad("data: missing or not an object");
  const std::string json = simdjson::minify(data);
  if (json.size() > kMaxDocumentBytes + (64u << 10)) {
    return bad(StrCat("data: ", json.size(), " bytes; a document is at most ", kMaxDocumentBytes));
  }
  Revision r;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;  // a newer droverd may add fields
  if (!google::protobuf::util::JsonStringToMessage(json, &r, parse).ok()) {
    return bad("data: not a Drover revision record");
  }
  if (r.revision() != number) return bad(StrCat("data.revision ", r.revision(), " is not revision ", number));
  if (number < 1) return bad(StrCat("revision: ", number, " is not >= 1"));
  if (r.document().size() > kMaxDocumentBytes) {
    return bad(StrCat("data.document: ", r.document().size(), " bytes; the limit is ", kMaxDocumentBytes));
  }
  if (r.sha256() != Sha256Hex(r.document())) return bad("data.sha256 does not match data.document");
  return r;
}

}  // namespace

std::string ControllerRevisionName(const MirrorOptions& o, int64_t n) { return StrCat(o.name_prefix, "-config-", n); }

std::string ControllerRevisionJson(const Revision& r, const MirrorOptions& o) {
  std::string data;
  google::protobuf::util::JsonPrintOptions print;
  (void)google::protobuf::util::MessageToJsonString(r, &data, print);
  return StrCat(R"({"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":)",
                JsonQuote(ControllerRevisionName(o, r.revision())), R"(,"namespace":)", JsonQuote(o.namespace_),
                R"(,"labels":{"app.kubernetes.io/name":"drover","drover.io/kind":"config-revision"}},"data":)", data,
                R"(,"revision":)", r.revision(), "}");
}

absl::StatusOr<Revision> DecodeControllerRevision(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("ControllerRevision: not JSON");
  }
  return DecodeItem(doc);
}

std::string KubeRevisionMirror::Where() const {
  return StrCat("ControllerRevisions ", options_.name_prefix, "-config-* in namespace ", options_.namespace_);
}

absl::Status KubeRevisionMirror::Create(const Revision& r) {
  const std::string name = ControllerRevisionName(options_, r.revision());
  const std::string what = StrCat("ControllerRevision ", options_.namespace_, "/", name);
  absl::StatusOr<k8s::HttpResponse> created = http_->Send(
      {.method = "POST", .path = Collection(options_), .body = ControllerRevisionJson(r, options_),
       .max_attempts = 2, .timeout = options_.timeout});
  if (!created.ok()) return absl::UnavailableError(StrCat("mirroring to ", what, ": ", created.status().message()));
  if (created->status == 201) return absl::OkStatus();
  if (created->status != 409) {
    return absl::UnavailableError(
        StrCat("mirroring to ", what, ": HTTP ", created->status, ": ", CutForMessage(created->body)));
  }
  // AlreadyExists: ours from a try whose answer was lost, or another leader's.
  absl::StatusOr<k8s::HttpResponse> got =
      http_->Send({.method = "GET", .path = StrCat(Collection(options_), "/", name), .timeout = options_.timeout});
  if (!got.ok() || got->status != 200) {
    return absl::UnavailableError(StrCat("mirroring to ", what, ": it exists and cannot be read: ",
                                         got.ok() ? StrCat("HTTP ", got->status) : std::string(got.status().message())));
  }
  absl::StatusOr<Revision> theirs = DecodeControllerRevision(got->body);
  if (theirs.ok() && theirs->sha256() == r.sha256()) return absl::OkStatus();
  return absl::AbortedError(StrCat(what, " already exists with another document: another replica recorded revision ",
                                   r.revision(), "; this one imports the mirror before it records again"));
}

absl::Status KubeRevisionMirror::Delete(int64_t n) {
  const std::string path = StrCat(Collection(options_), "/", ControllerRevisionName(options_, n));
  absl::StatusOr<k8s::HttpResponse> r = http_->Send({.method = "DELETE", .path = path, .timeout = options_.timeout});
  if (r.ok() && (r->status == 200 || r->status == 202 || r->status == 404)) return absl::OkStatus();
  return absl::UnavailableError(StrCat("DELETE ", path, ": ", r.ok() ? StrCat("HTTP ", r->status) : std::string(r.status().message())));
}

absl::StatusOr<std::vector<Revision>> KubeRevisionMirror::List() {
  std::vector<Revision> newest;  // trimmed to the newest max_revisions as it grows
  auto trim = [&] {
    std::sort(newest.begin(), newest.end(), [](const Revision& a, const Revision& b) { return a.revision() < b.revision(); });
    if (newest.size() > static_cast<size_t>(options_.max_revisions)) {
      newest.erase(newest.begin(), newest.end() - options_.max_revisions);
    }
  };
  std::string cont;
  int64_t listed = 0;
  simdjson::dom::parser parser;
  do {
    std::string path = StrCat(Collection(options_), "?labelSelector=", k8s::UrlEncode(kLabelSelector),
                              "&limit=", options_.page_size);
    if (!cont.empty()) StrAppend(&path, "&continue=", k8s::UrlEncode(cont));
    ASSIGN_OR_RETURN(k8s::HttpResponse r, http_->Send({.method = "GET", .path = path, .timeout = options_.timeout}));
    if (r.status != 200) {
      return absl::UnavailableError(StrCat("listing ", Where(), ": HTTP ", r.status, ": ", CutForMessage(r.body)));
    }
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser.parse(r.body).get(doc) != simdjson::SUCCESS || doc["items"].get(items) != simdjson::SUCCESS) {
      return absl::UnavailableError(StrCat("listing ", Where(), ": the answer is not a list"));
    }
    for (simdjson::dom::element item : items) {
      if (++listed > options_.max_objects_listed) {
        return absl::ResourceExhaustedError(
            StrCat("listing ", Where(), ": more than ", options_.max_objects_listed, " objects; delete old ones"));
      }
      absl::StatusOr<Revision> rev = DecodeItem(item);
      if (!rev.ok()) {
        spdlog::error("configuration mirror: skipped {}", std::string(rev.status().message()));
        continue;
      }
      newest.push_back(*std::move(rev));
    }
    if (newest.size() > 2 * static_cast<size_t>(options_.max_revisions)) trim();
    std::string_view next;
    cont = doc["metadata"]["continue"].get(next) == simdjson::SUCCESS ? Str(next) : "";
  } while (!cont.empty());
  trim();
  for (size_t i = 1; i < newest.size(); ++i) {
    if (newest[i].revision() == newest[i - 1].revision()) {
      return absl::UnavailableError(StrCat("listing ", Where(), ": revision ", newest[i].revision(), " appears twice"));
    }
  }
  return newest;
}

}  // namespace drover
