// Kubernetes JSON (Nodes, Pods, Namespaces, their lists and watch events) into
// drover::Node, drover::Pod and drover::Namespace, with simdjson's on-demand parser.
//
//   Decoder dec(catalog.product_labels());
//   ASSIGN_OR_RETURN(ListMeta meta, dec.DecodePodList(page_body,
//       [&](Pod&& p) { queue.push(std::move(p)); },
//       [&](std::string_view key, const absl::Status& why) { LOG(why); }));
//   // next page: ?limit=500&continue=<meta.continue_token>
//
// Pods get their requests the way the scheduler computes them: per container the
// requests, defaulting each resource to its limit when only a limit is given (as
// the API server's defaulting does); init containers with restartPolicy Always are
// sidecars; spec.overhead is added (drover::EffectiveRequests); then the GPU shape
// (drover::ResolveGpuShape) and the drover.io/gpu-devices annotation.
// Nodes: allocatable, labels, taints, unschedulable, Ready, GPU count from the
// allocatable of any GPU resource name, and the product label (catalog
// product_labels order); gpu_type is left for the snapshot to resolve.
// Namespaces: metadata.name and metadata.labels only (namespaceSelector); labels
// are read as for pods and nodes (no bound of ours: the API server validates
// their keys and values, and one object's size).
//
// A bad object (wrong type, unparsable quantity or time, unknown operator) gives an
// error naming the object and the field, "pod ns/p: spec.containers[0].resources.
// requests.cpu: \"abc\" is not a quantity", and list decoding goes on with the next
// item. A list page is decoded in one pass without copying it when the buffer has
// simdjson's padding (HttpClient's bodies do).
//
// Not thread-safe: one Decoder per thread (it reuses its parser's buffers).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/model.h"

namespace drover::k8s {

struct ListMeta {
  std::string resource_version;
  std::string continue_token;  // "" on the last page
};

enum class WatchType { kAdded, kModified, kDeleted, kBookmark, kError };

// One line of a watch stream.
template <typename T>
struct WatchEvent {
  WatchType type = WatchType::kAdded;
  std::optional<T> object;       // Added/Modified/Deleted whose object decoded
  absl::Status object_error;     // why `object` is empty
  std::string key;               // "ns/name" or the node name, when readable
  std::string resource_version;  // of the object, or of the bookmark
  int error_code = 0;            // kError: the Status code (410 = Gone)
  std::string error_message;     // kError: the Status message
};

class Decoder {
 public:
  using BadItem = absl::FunctionRef<void(std::string_view key, const absl::Status& why)>;

  explicit Decoder(std::vector<std::string> product_labels = {"nvidia.com/gpu.product",
                                                              "alibabacloud.com/gpu-card-model"});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  absl::StatusOr<Pod> DecodePod(std::string_view json);
  absl::StatusOr<Node> DecodeNode(std::string_view json);
  absl::StatusOr<Namespace> DecodeNamespace(std::string_view json);

  // Decodes a PodList/NodeList page, calling on_item for each good item and
  // on_bad for each bad one. Error only when the page itself is not valid JSON
  // of a list. The string overloads avoid a copy when the string has padding.
  absl::StatusOr<ListMeta> DecodePodList(const std::string& json, absl::FunctionRef<void(Pod&&)> on_item,
                                         BadItem on_bad);
  absl::StatusOr<ListMeta> DecodeNodeList(const std::string& json, absl::FunctionRef<void(Node&&)> on_item,
                                          BadItem on_bad);
  absl::StatusOr<ListMeta> DecodeNamespaceList(const std::string& json, absl::FunctionRef<void(Namespace&&)> on_item,
                                               BadItem on_bad);

  // Decodes one watch event line. Error only when the line is not a watch event;
  // a bad object is reported in WatchEvent::object_error.
  absl::StatusOr<WatchEvent<Pod>> DecodePodEvent(std::string_view line);
  absl::StatusOr<WatchEvent<Node>> DecodeNodeEvent(std::string_view line);
  absl::StatusOr<WatchEvent<Namespace>> DecodeNamespaceEvent(std::string_view line);

  // The simdjson kernel compiled into the decoders ("westmere", "haswell", "fallback").
  static std::string_view SimdKernel();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace drover::k8s
