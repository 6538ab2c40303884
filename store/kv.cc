#include "store/kv.h"

#include "absl/strings/str_format.h"

namespace drover {

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kMeta: return "meta";
    case Family::kRevisions: return "revisions";
    case Family::kAudit: return "audit";
    case Family::kUsageMinute: return "usage_minute";
    case Family::kUsageHour: return "usage_hour";
    case Family::kTimeline: return "timeline";
    case Family::kTimelineIndex: return "timeline_index";
    case Family::kTimers: return "timers";
  }
  return "unknown";
}

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t DecodeU64(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < b.size(); ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

std::string PrintableKey(std::string_view key) {
  constexpr size_t kMax = 120;
  std::string out;
  for (size_t i = 0; i < key.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("\\x%02x", c);
    }
  }
  if (key.size() > kMax) out += absl::StrFormat("...(%d bytes)", key.size());
  return out;
}

}  // namespace drover
