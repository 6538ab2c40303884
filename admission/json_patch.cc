#include "admission/json_patch.h"

#include "core/strings.h"
#include "k8s/json_util.h"

namespace drover::admission {

std::string PointerToken(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 2);
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string JsonPatch::ToJson() const {
  if (ops_.empty()) return "";
  std::string out = "[";
  for (size_t i = 0; i < ops_.size(); ++i) {
    StrAppend(&out, i ? "," : "", "{\"op\":\"", ops_[i].op, "\",\"path\":", k8s::JsonQuote(ops_[i].path));
    StrAppend(&out, ops_[i].op == "remove" ? "" : StrCat(",\"value\":", ops_[i].value), "}");
  }
  return out + "]";
}

}  // namespace drover::admission
