#include "k8s/decode.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <mutex>

#include "core/strings.h"
#include "k8s/text.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/quantity.h"
#include "k8s/decode_internal.h"
#include "k8s/json_util.h"

namespace drover::k8s {
namespace internal {

absl::Status FieldError(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(field, ": ", problem));
}

bool IsFatal(simdjson::error_code e) {
  switch (e) {
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
    case simdjson::NO_SUCH_FIELD:
    case simdjson::STRING_ERROR:
      return false;
    default:
      return true;
  }
}

absl::Status JsonError(std::string_view field, simdjson::error_code e) {
  std::string_view what = e == simdjson::INCORRECT_TYPE ? "has the wrong JSON type" : simdjson::error_message(e);
  if (IsFatal(e)) return absl::DataLossError(StrCat(field, ": ", what));
  return FieldError(field, what);
}

absl::Status WithPrefix(std::string_view prefix, absl::Status s) {
  if (s.ok()) return s;
  // An error about the value itself (empty field name) joins as "spec.containers[0]: ...".
  std::string_view msg = Msg(s);
  if (msg.starts_with(": ")) {
    if (prefix.ends_with(".")) prefix.remove_suffix(1);
    if (prefix.ends_with(": ")) msg.remove_prefix(2);
  }
  return absl::Status(s.code(), StrCat(prefix, msg));
}

absl::Status ReadString(od::value v, std::string_view field, std::string* out) {
  if (IsNull(v)) {
    out->clear();
    return absl::OkStatus();
  }
  std::string_view s;
  if (auto e = v.get_string().get(s)) return IsFatal(e) ? JsonError(field, e) : FieldError(field, "must be a string");
  out->assign(s);
  return absl::OkStatus();
}

absl::Status ReadBool(od::value v, std::string_view field, bool* out) {
  if (IsNull(v)) {
    *out = false;
    return absl::OkStatus();
  }
  if (auto e = v.get_bool().get(*out)) return IsFatal(e) ? JsonError(field, e) : FieldError(field, "must be a boolean");
  return absl::OkStatus();
}

absl::Status ReadInt(od::value v, std::string_view field, int64_t* out) {
  if (IsNull(v)) {
    *out = 0;
    return absl::OkStatus();
  }
  if (auto e = v.get_int64().get(*out)) return IsFatal(e) ? JsonError(field, e) : FieldError(field, "must be an integer");
  return absl::OkStatus();
}

absl::Status ReadTimeMillis(od::value v, std::string_view field, int64_t* ms) {
  if (IsNull(v)) return absl::OkStatus();
  std::string_view s;
  if (auto e = v.get_string().get(s)) {
    return IsFatal(e) ? JsonError(field, e) : FieldError(field, "must be an RFC 3339 time string");
  }
  absl::StatusOr<absl::Time> t = ParseRfc3339(s);
  if (!t.ok()) return FieldError(field, Msg(t.status()));
  *ms = absl::ToUnixMillis(*t);
  return absl::OkStatus();
}

absl::Status ReadStringMap(od::value v, std::string_view field, Labels* out) {
  return ForEachField(v, field, [&](std::string_view key, od::value val) -> absl::Status {
    std::string s;
    if (absl::Status st = ReadString(val, StrCat(field, "[", key, "]"), &s); !st.ok()) return st;
    out->Set(std::string(key), std::move(s));
    return absl::OkStatus();
  });
}

absl::Status ReadStringList(od::value v, std::string_view field, std::vector<std::string>* out) {
  return ForEachElement(v, field, [&](size_t i, od::value val) -> absl::Status {
    std::string s;
    if (absl::Status st = ReadString(val, StrCat(field, "[", i, "]"), &s); !st.ok()) return st;
    out->push_back(std::move(s));
    return absl::OkStatus();
  });
}

ResourceId ResourceNames::Find(std::string_view name) {
  for (const auto& [n, id] : cache_) {
    if (n == name) return id;
  }
  absl::StatusOr<ResourceId> id = InternResource(name);
  if (!id.ok()) {
    static std::mutex mu;
    static absl::flat_hash_set<std::string>* warned = new absl::flat_hash_set<std::string>();
    std::lock_guard<std::mutex> lock(mu);
    if (warned->insert(std::string(name)).second) spdlog::warn("ignoring resource: {}", Msg(id.status()));
  }
  cache_.emplace_back(std::string(name), id.ok() ? *id : -1);
  return cache_.back().second;
}

absl::Status ReadResourceList(od::value v, ResourceNames* names, ResourceVec* out, uint32_t* present) {
  return ForEachField(v, "", [&](std::string_view name, od::value q) -> absl::Status {
    std::string_view text;
    od::json_type type;
    if (auto e = q.type().get(type)) return JsonError(name, e);
    if (type == od::json_type::string) {
      if (auto e = q.get_string().get(text)) return JsonError(name, e);
    } else if (type == od::json_type::number) {
      text = Trim(q.raw_json_token());
    } else {
      return FieldError(name, "must be a quantity string");
    }
    const ResourceId id = names->Find(name);
    if (id < 0) return absl::OkStatus();
    absl::StatusOr<Quantity> qty = Quantity::Parse(text);
    if (!qty.ok()) return FieldError(name, Msg(qty.status()));
    if (qty->IsNegative()) return FieldError(name, StrCat("\"", CutForMessage(text), "\" is negative"));
    absl::StatusOr<int64_t> amount = (id == Res::kCpu || id == Res::kGpu) ? qty->Milli() : qty->Units();
    if (!amount.ok()) return FieldError(name, Msg(amount.status()));
    // Two GPU resource names count into one dimension: their sum must fit too.
    if (__builtin_add_overflow((*out)[id], *amount, &(*out)[id])) {
      return FieldError(name, StrCat(CutForMessage(text), " added to the other ", ResourceName(id),
                                     " resources passes the largest quantity"));
    }
    *present |= uint32_t{1} << id;
    return absl::OkStatus();
  });
}

simdjson::simdjson_result<od::document> Iterate(od::parser& parser, std::string_view json, size_t capacity,
                                                std::string* scratch) {
  if (capacity >= json.size() + simdjson::SIMDJSON_PADDING) {
    return parser.iterate(json.data(), json.size(), capacity);
  }
  scratch->reserve(json.size() + simdjson::SIMDJSON_PADDING);
  scratch->assign(json.data(), json.size());
  return parser.iterate(scratch->data(), scratch->size(), scratch->capacity());
}

absl::Status ParseRootObject(od::parser& parser, std::string_view json, std::string_view what, std::string* scratch,
                             od::document* doc, od::object* root) {
  if (auto e = Iterate(parser, json, 0, scratch).get(*doc)) return JsonError(what, e);
  if (auto e = doc->get_object().get(*root)) return JsonError(what, e);
  return absl::OkStatus();
}

}  // namespace internal

namespace od = simdjson::ondemand;

struct Decoder::Impl {
  od::parser parser;
  od::parser side_parser;  // for a watch object that came before its "type"
  std::string scratch;
  std::string side_scratch;
  internal::DecodeContext ctx;
};

namespace {

// What differs between Pods and Nodes, for the shared list/event code.
struct PodTraits {
  using Type = Pod;
  static absl::Status Decode(od::object o, internal::DecodeContext* ctx, Pod* p, std::string* rv) {
    return internal::DecodePodObject(o, ctx, p, rv);
  }
  static std::string Key(const Pod& p) { return p.name.empty() ? std::string() : p.Key(); }
};

struct NodeTraits {
  using Type = Node;
  static absl::Status Decode(od::object o, internal::DecodeContext* ctx, Node* n, std::string* rv) {
    return internal::DecodeNodeObject(o, ctx, n, rv);
  }
  static std::string Key(const Node& n) { return n.name; }
};

struct NamespaceTraits {
  using Type = Namespace;
  static absl::Status Decode(od::object o, internal::DecodeContext*, Namespace* ns, std::string* rv) {
    return internal::DecodeNamespaceObject(o, ns, rv);
  }
  static std::string Key(const Namespace& ns) { return ns.name; }
};

template <typename Traits>
absl::StatusOr<typename Traits::Type> DecodeOne(Decoder::Impl* impl, std::string_view json) {
  od::document doc;
  if (auto e = internal::Iterate(impl->parser, json, 0, &impl->scratch).get(doc)) {
    return internal::JsonError("(document)", e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) return internal::JsonError("(document)", e);
  typename Traits::Type obj;
  std::string rv;
  absl::Status s = Traits::Decode(root, &impl->ctx, &obj, &rv);
  if (!s.ok()) return s;
  return obj;
}

absl::Status ReadListMeta(od::value v, ListMeta* meta) {
  return internal::ForEachField(v, "metadata", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "resourceVersion") return internal::ReadString(val, "metadata.resourceVersion", &meta->resource_version);
    if (key == "continue") return internal::ReadString(val, "metadata.continue", &meta->continue_token);
    return absl::OkStatus();
  });
}

template <typename Traits>
absl::StatusOr<ListMeta> DecodeList(Decoder::Impl* impl, const std::string& json,
                                    absl::FunctionRef<void(typename Traits::Type&&)> on_item,
                                    Decoder::BadItem on_bad) {
  od::document doc;
  if (auto e = internal::Iterate(impl->parser, json, json.capacity(), &impl->scratch).get(doc)) {
    return internal::JsonError("list", e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) return internal::JsonError("list", e);
  ListMeta meta;
  absl::Status s = internal::ForEachFieldOf(root, "list", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "metadata") return ReadListMeta(val, &meta);
    if (key != "items") return absl::OkStatus();
    return internal::ForEachElement(val, "items", [&](size_t i, od::value item) -> absl::Status {
      typename Traits::Type obj;
      std::string rv;
      od::object item_obj;
      absl::Status item_status;
      if (auto e = item.get_object().get(item_obj)) {
        item_status = internal::JsonError(StrCat("items[", i, "]"), e);
      } else {
        item_status = Traits::Decode(item_obj, &impl->ctx, &obj, &rv);
      }
      if (item_status.ok()) {
        on_item(std::move(obj));
      } else if (absl::IsDataLoss(item_status)) {
        return item_status;  // the JSON itself is broken: no later item can be trusted
      } else {
        on_bad(Traits::Key(obj), item_status);
      }
      return absl::OkStatus();
    });
  });
  if (!s.ok()) return internal::WithPrefix("list: ", s);
  // A truncated page can end the iteration early without an error on the way.
  if (doc.current_depth() != 0) return absl::DataLossError("list: the JSON ends before the list does");
  return meta;
}

absl::Status ReadBookmark(od::object o, std::string* rv) {
  return internal::ForEachFieldOf(o, "object", [&](std::string_view key, od::value val) -> absl::Status {
    if (key != "metadata") return absl::OkStatus();
    return internal::ForEachField(val, "object.metadata", [&](std::string_view k, od::value m) -> absl::Status {
      if (k == "resourceVersion") return internal::ReadString(m, "object.metadata.resourceVersion", rv);
      return absl::OkStatus();
    });
  });
}

template <typename T>
absl::Status ReadErrorStatus(od::object o, WatchEvent<T>* ev) {
  return internal::ForEachFieldOf(o, "object", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "code") {
      int64_t code = 0;
      absl::Status s = internal::ReadInt(val, "object.code", &code);
      ev->error_code = static_cast<int>(code);
      return s;
    }
    if (key == "message") return internal::ReadString(val, "object.message", &ev->error_message);
    return absl::OkStatus();
  });
}

absl::StatusOr<WatchType> ParseWatchType(std::string_view t) {
  if (t == "ADDED") return WatchType::kAdded;
  if (t == "MODIFIED") return WatchType::kModified;
  if (t == "DELETED") return WatchType::kDeleted;
  if (t == "BOOKMARK") return WatchType::kBookmark;
  if (t == "ERROR") return WatchType::kError;
  return internal::FieldError("type", StrCat("unknown watch event type \"", CutForMessage(t), "\""));
}

template <typename Traits>
absl::Status DecodeEventObject(od::object v, internal::DecodeContext* ctx, WatchEvent<typename Traits::Type>* ev) {
  switch (ev->type) {
    case WatchType::kBookmark:
      return ReadBookmark(v, &ev->resource_version);
    case WatchType::kError:
      return ReadErrorStatus(v, ev);
    default: {
      typename Traits::Type obj;
      ev->object_error = Traits::Decode(v, ctx, &obj, &ev->resource_version);
      ev->key = Traits::Key(obj);
      if (ev->object_error.ok()) ev->object = std::move(obj);
      return absl::OkStatus();
    }
  }
}

template <typename Traits>
absl::StatusOr<WatchEvent<typename Traits::Type>> DecodeEvent(Decoder::Impl* impl, std::string_view line) {
  WatchEvent<typename Traits::Type> ev;
  od::document doc;
  if (auto e = internal::Iterate(impl->parser, line, 0, &impl->scratch).get(doc)) {
    return internal::JsonError("watch event", e);
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) return internal::JsonError("watch event", e);
  bool have_type = false;
  std::string_view deferred;  // raw object text seen before "type"
  absl::Status s = internal::ForEachFieldOf(root, "watch event", [&](std::string_view key, od::value val) -> absl::Status {
    if (key == "type") {
      std::string t;
      if (absl::Status st = internal::ReadString(val, "type", &t); !st.ok()) return st;
      absl::StatusOr<WatchType> wt = ParseWatchType(t);
      if (!wt.ok()) return wt.status();
      ev.type = *wt;
      have_type = true;
      return absl::OkStatus();
    }
    if (key != "object") return absl::OkStatus();
    od::object obj;
    if (auto e = val.get_object().get(obj)) return internal::JsonError("object", e);
    if (have_type) return DecodeEventObject<Traits>(obj, &impl->ctx, &ev);
    if (auto e = obj.raw_json().get(deferred)) return internal::JsonError("object", e);
    return absl::OkStatus();
  });
  if (!s.ok()) return internal::WithPrefix("watch event: ", s);
  if (!have_type) return internal::FieldError("watch event", "has no \"type\"");
  if (!deferred.empty()) {
    // The main document is still alive, so `deferred` is valid; parse it on the side.
    od::document side;
    if (auto e = internal::Iterate(impl->side_parser, deferred, 0, &impl->side_scratch).get(side)) {
      return internal::JsonError("watch event object", e);
    }
    od::object obj;
    if (auto e = side.get_object().get(obj)) return internal::JsonError("watch event object", e);
    if (absl::Status st = DecodeEventObject<Traits>(obj, &impl->ctx, &ev); !st.ok()) return st;
  }
  return ev;
}

}  // namespace

Decoder::Decoder(std::vector<std::string> product_labels) : impl_(std::make_unique<Impl>()) {
  impl_->ctx.product_labels = std::move(product_labels);
}

Decoder::~Decoder() = default;

std::string_view Decoder::SimdKernel() { return SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION); }

absl::StatusOr<Pod> Decoder::DecodePod(std::string_view json) { return DecodeOne<PodTraits>(impl_.get(), json); }

absl::StatusOr<Node> Decoder::DecodeNode(std::string_view json) { return DecodeOne<NodeTraits>(impl_.get(), json); }

absl::StatusOr<Namespace> Decoder::DecodeNamespace(std::string_view json) {
  return DecodeOne<NamespaceTraits>(impl_.get(), json);
}

absl::StatusOr<ListMeta> Decoder::DecodeNamespaceList(const std::string& json,
                                                      absl::FunctionRef<void(Namespace&&)> on_item, BadItem on_bad) {
  return DecodeList<NamespaceTraits>(impl_.get(), json, on_item, on_bad);
}

absl::StatusOr<WatchEvent<Namespace>> Decoder::DecodeNamespaceEvent(std::string_view line) {
  return DecodeEvent<NamespaceTraits>(impl_.get(), line);
}

absl::StatusOr<ListMeta> Decoder::DecodePodList(const std::string& json, absl::FunctionRef<void(Pod&&)> on_item,
                                                BadItem on_bad) {
  return DecodeList<PodTraits>(impl_.get(), json, on_item, on_bad);
}

absl::StatusOr<ListMeta> Decoder::DecodeNodeList(const std::string& json, absl::FunctionRef<void(Node&&)> on_item,
                                                 BadItem on_bad) {
  return DecodeList<NodeTraits>(impl_.get(), json, on_item, on_bad);
}

absl::StatusOr<WatchEvent<Pod>> Decoder::DecodePodEvent(std::string_view line) {
  return DecodeEvent<PodTraits>(impl_.get(), line);
}

absl::StatusOr<WatchEvent<Node>> Decoder::DecodeNodeEvent(std::string_view line) {
  return DecodeEvent<NodeTraits>(impl_.get(), line);
}

}  // namespace drover::k8s
