#include "core/quantity.h"

#include <limits>

#include "core/strings.h"

namespace drover {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// 10^n for 0 <= n <= 18.
int64_t Pow10(int n) {
  int64_t r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

bool MulOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

// value * 10^exp10, rounding away from zero when exp10 < 0. False on overflow.
bool ScaleTo(int64_t value, int exp10, int64_t* out) {
  if (exp10 >= 0) {
    if (exp10 > 18) {
      if (value == 0) { *out = 0; return true; }
      return false;
    }
    return !MulOverflows(value, Pow10(exp10), out);
  }
  if (-exp10 > 18) {  // |value| < 10^19 always, so the result is 0 or +-1.
    *out = value == 0 ? 0 : (value > 0 ? 1 : -1);
    return true;
  }
  const int64_t div = Pow10(-exp10);
  int64_t q = value / div;
  if (value % div != 0) q += value > 0 ? 1 : -1;
  *out = q;
  return true;
}

struct Suffix {
  int base = 10;     // 10 or 2
  int exponent = 0;  // power of base
  Quantity::Format format = Quantity::Format::kDecimalSI;
};

bool ParseSuffix(std::string_view s, Suffix* out) {
  if (s.empty()) return true;
  if (s.size() == 2 && s[1] == 'i') {
    static constexpr std::string_view kBin = "KMGTPE";
    const auto pos = kBin.find(s[0]);
    if (pos == std::string_view::npos) return false;
    *out = {2, static_cast<int>(10 * (pos + 1)), Quantity::Format::kBinarySI};
    return true;
  }
  if (s.size() == 1) {
    switch (s[0]) {
      case 'n': *out = {10, -9}; return true;
      case 'u': *out = {10, -6}; return true;
      case 'm': *out = {10, -3}; return true;
      case 'k': *out = {10, 3}; return true;
      case 'M': *out = {10, 6}; return true;
      case 'G': *out = {10, 9}; return true;
      case 'T': *out = {10, 12}; return true;
      case 'P': *out = {10, 15}; return true;
      case 'E': *out = {10, 18}; return true;
      default: return false;
    }
  }
  if (s[0] != 'e' && s[0] != 'E') return false;
  std::string_view rest = s.substr(1);
  bool neg = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty() || rest.size() > 4) return false;
  int e = 0;
  for (char c : rest) {
    if (!IsDigit(c)) return false;
    e = e * 10 + (c - '0');
  }
  *out = {10, neg ? -e : e, Quantity::Format::kDecimalExponent};
  return true;
}

const char* DecimalSuffix(int e) {
  switch (e) {
    case -9: return "n";
    case -6: return "u";
    case -3: return "m";
    case 0: return "";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
    default: return nullptr;
  }
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("quantity \"", CutForMessage(text), "\": ", why));
  };
  if (text.empty()) return bad("empty");
  std::string_view s = text;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  std::string_view whole = s.substr(0, i);
  std::string_view frac;
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    frac = s.substr(start, i - start);
  }
  if (whole.empty() && frac.empty()) return bad("expected a number (digits, optionally with '.')");
  Suffix suffix;
  if (!ParseSuffix(s.substr(i), &suffix)) {
    return bad(StrCat("unknown suffix \"", CutForMessage(s.substr(i)),
                            "\" (want one of n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<exponent>)"));
  }
  // Drop trailing zeros of the fraction and leading zeros of the whole part: they
  // carry no value and would only make the digit string overflow needlessly.
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  std::string digits = StrCat(whole, frac);
  int32_t scale = -static_cast<int32_t>(frac.size());
  if (digits.empty()) digits = "0";
  // Digits past nano precision are rounded up (away from zero), like Kubernetes.
  const int32_t exp10 = suffix.base == 10 ? suffix.exponent : 0;
  int64_t value = 0;
  bool round_up = false;
  const int32_t drop = std::max(0, -9 - (scale + exp10));
  const int32_t keep = static_cast<int32_t>(digits.size()) - drop;
  for (int32_t k = 0; k < static_cast<int32_t>(digits.size()); ++k) {
    if (k >= keep) {
      if (digits[k] != '0') round_up = true;
      continue;
    }
    if (MulOverflows(value, 10, &value) || __builtin_add_overflow(value, digits[k] - '0', &value)) {
      return bad("overflows a 64-bit quantity");
    }
  }
  scale += drop;
  if (round_up && __builtin_add_overflow(value, 1, &value)) return bad("overflows a 64-bit quantity");
  scale += exp10;
  if (suffix.base == 2) {
    for (int k = 0; k < suffix.exponent; ++k) {
      if (MulOverflows(value, 2, &value)) return bad("overflows a 64-bit quantity");
    }
  }
  // The magnitude in whole units must fit too, so Units() and sums stay exact.
  int64_t units = 0;
  if (scale > 0 && !ScaleTo(value, scale, &units)) return bad("overflows a 64-bit quantity");
  if (negative) value = -value;
  return Quantity(value, scale, suffix.format);
}

absl::StatusOr<int64_t> Quantity::Milli() const {
  int64_t out = 0;
  if (!ScaleTo(value_, scale_ + 3, &out)) {
    return absl::OutOfRangeError(StrCat("quantity ", ToString(), " overflows in milli-units"));
  }
  return out;
}

absl::StatusOr<int64_t> Quantity::Units() const {
  int64_t out = 0;
  if (!ScaleTo(value_, scale_, &out)) {
    return absl::OutOfRangeError(StrCat("quantity ", ToString(), " overflows"));
  }
  return out;
}

std::string Quantity::ToString() const {
  if (value_ == 0) return "0";
  if (format_ == Format::kBinarySI) {
    int64_t units = 0;
    const bool integral = scale_ >= 0 ? ScaleTo(value_, scale_, &units)
                                      : (value_ % Pow10(std::min(-scale_, 18)) == 0 && -scale_ <= 18 &&
                                         ScaleTo(value_, scale_, &units));
    if (integral && (units >= 1024 || units <= -1024)) {
      int k = 0;
      while (k < 6 && units % 1024 == 0) {
        units /= 1024;
        ++k;
      }
      static constexpr const char* kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      return StrCat(units, kBin[k]);
    }
  }
  // Decimal: the exponent is the largest multiple of 3 that keeps the mantissa whole.
  int64_t v = value_;
  int32_t scale = scale_;
  while (v % 10 == 0) {
    v /= 10;
    ++scale;
  }
  int32_t e = scale >= 0 ? (scale / 3) * 3 : -(((-scale) + 2) / 3) * 3;
  if (format_ != Format::kDecimalExponent) e = std::max(-9, std::min(e, 18));
  __int128 mantissa = v;
  for (int32_t k = e; k < scale; ++k) mantissa *= 10;
  if (format_ == Format::kDecimalExponent) {
    return e == 0 ? Int128ToString(mantissa) : StrCat(Int128ToString(mantissa), "e", e);
  }
  return Int128ToString(mantissa) + DecimalSuffix(e);
}

absl::StatusOr<int64_t> ParseMilli(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status();
  return q->Milli();
}

absl::StatusOr<int64_t> ParseUnits(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status();
  return q->Units();
}

std::string FormatMilli(int64_t milli) { return Quantity::FromMilli(milli).ToString(); }

std::string FormatBytes(int64_t bytes) {
  return Quantity::FromInt(bytes, Quantity::Format::kBinarySI).ToString();
}

}  // namespace drover
