// Kubernetes resource quantities ("500m", "64Gi", "1e3", "1.5"), parsed and printed
// the way k8s.io/apimachinery/pkg/api/resource does.
//
//   ASSIGN_OR_RETURN(Quantity q, Quantity::Parse("1.5Gi"));
//   q.ToString();      // "1536Mi" (canonical form)
//   q.MilliValue();    // 1610612736000, rounded up like Quantity.MilliValue()
//
// A quantity is held exactly as value * 10^scale with a 64-bit value (the fast path
// of the Kubernetes type). Fractions finer than a nano-unit are rounded up, as
// Kubernetes does. Where Kubernetes would fall back to arbitrary precision and cap
// at 2^63-1, we return an error instead: a request that large is a mistake, and a
// silent cap would corrupt quota accounting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drover {

class Quantity {
 public:
  // How the quantity was written; printing keeps the family, as Kubernetes does.
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  static Quantity FromMilli(int64_t milli) { return Quantity(milli, -3, Format::kDecimalSI); }
  static Quantity FromInt(int64_t units, Format f = Format::kDecimalSI) { return Quantity(units, 0, f); }

  // Parses the Kubernetes quantity grammar. Errors name the input text.
  [[nodiscard]] static absl::StatusOr<Quantity> Parse(std::string_view text);

  // Value in thousandths of a unit, rounded up (CPU cores -> millicores).
  // Error if the result does not fit in int64.
  [[nodiscard]] absl::StatusOr<int64_t> Milli() const;
  // Value in whole units, rounded up (memory -> bytes).
  [[nodiscard]] absl::StatusOr<int64_t> Units() const;

  // Canonical text form: no precision lost, no fractional digits, largest suffix.
  std::string ToString() const;

  bool IsNegative() const { return value_ < 0; }
  bool IsZero() const { return value_ == 0; }
  Format format() const { return format_; }

 private:
  Quantity(int64_t value, int32_t scale, Format f) : value_(value), scale_(scale), format_(f) {}

  int64_t value_ = 0;
  int32_t scale_ = 0;  // value_ * 10^scale_
  Format format_ = Format::kDecimalSI;
};

// Convenience for callers that know the unit: parse and convert in one step.
[[nodiscard]] absl::StatusOr<int64_t> ParseMilli(std::string_view text);
[[nodiscard]] absl::StatusOr<int64_t> ParseUnits(std::string_view text);

// Sums of amounts that never wrap: a total that would pass the int64 range is held
// at its end (INT64_MAX, about 9.2e18 bytes or 9.2e15 cores), which is more than any
// cluster has. Used for capacity totals, where a wrapped (negative) total would
// stop all scheduling.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

// Prints integer amounts compactly for humans and YAML: 1500 milli -> "1500m",
// 2000 -> "2"; bytes -> "64Gi" when exact.
std::string FormatMilli(int64_t milli);
std::string FormatBytes(int64_t bytes);

}  // namespace drover
