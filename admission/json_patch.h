// A JSON Patch (RFC 6902) built op by op, as an AdmissionReview response carries it.
//
//   JsonPatch p;
//   p.Add("/metadata/annotations/" + PointerToken("drover.io/queue"), JsonQuote("root.dev"));
//   p.ToJson();   // [{"op":"add","path":"/metadata/annotations/drover.io~1queue","value":"root.dev"}]
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace drover::admission {

// One reference token of a JSON Pointer (RFC 6901): "~" as "~0", "/" as "~1".
std::string PointerToken(std::string_view key);

class JsonPatch {
 public:
  // `value_json` is a JSON value, already encoded.
  void Add(std::string path, std::string value_json) { ops_.push_back({"add", std::move(path), std::move(value_json)}); }
  void Replace(std::string path, std::string value_json) {
    ops_.push_back({"replace", std::move(path), std::move(value_json)});
  }
  void Remove(std::string path) { ops_.push_back({"remove", std::move(path), ""}); }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // The patch document; "" when there is no op.
  std::string ToJson() const;

 private:
  struct Op {
    std::string op;
    std::string path;
    std::string value;
  };
  std::vector<Op> ops_;
};

}  // namespace drover::admission
