#include <catch2/catch.hpp>

#include "core/quantity.h"
#include "core/strings.h"

using drover::CutForMessage;
using drover::Quantity;

namespace {
std::string Canon(const char* s) {
  auto q = Quantity::Parse(s);
  REQUIRE(q.ok());
  return q->ToString();
}
int64_t Milli(const char* s) {
  auto q = Quantity::Parse(s);
  REQUIRE(q.ok());
  auto m = q->Milli();
  REQUIRE(m.ok());
  return *m;
}
int64_t Units(const char* s) {
  auto q = Quantity::Parse(s);
  REQUIRE(q.ok());
  auto m = q->Units();
  REQUIRE(m.ok());
  return *m;
}
}  // namespace

TEST_CASE("quantity_parses_cpu_in_milli_units", "[quantity]") {
  CHECK(Milli("500m") == 500);
  CHECK(Milli("2") == 2000);
  CHECK(Milli("1.5") == 1500);
  CHECK(Milli("0.1") == 100);
  CHECK(Milli(".5") == 500);
  CHECK(Milli("5.") == 5000);
  CHECK(Milli("+3") == 3000);
  CHECK(Milli("-3") == -3000);
  CHECK(Milli("1e3") == 1000000);
  CHECK(Milli("1E3") == 1000000);  // "E" then digits is an exponent
}

TEST_CASE("quantity_parses_memory_in_bytes", "[quantity]") {
  CHECK(Units("64Gi") == 64LL << 30);
  CHECK(Units("100M") == 100000000);
  CHECK(Units("1Ki") == 1024);
  CHECK(Units("1.5Gi") == 1610612736);
  CHECK(Units("1k") == 1000);
  CHECK(Units("12e6") == 12000000);
  CHECK(Units("1e-3") == 1);  // rounded up, like Quantity.Value()
  CHECK(Units("1Ei") == 1LL << 60);
  CHECK(Units("8E") == 8000000000000000000LL);
}

TEST_CASE("quantity_rounds_sub_nano_up", "[quantity]") {
  CHECK(Milli("0.1m") == 1);
  CHECK(Milli("1n") == 1);
  CHECK(Canon("0.0000000001") == "1n");
  CHECK(Canon("1.0000000001") == "1000000001n");
}

TEST_CASE("quantity_prints_canonical_form_like_kubernetes", "[quantity]") {
  CHECK(Canon("1.5") == "1500m");
  CHECK(Canon("1.5Gi") == "1536Mi");
  CHECK(Canon("0.5Gi") == "512Mi");
  CHECK(Canon("64Gi") == "64Gi");
  CHECK(Canon("100M") == "100M");
  CHECK(Canon("1e3") == "1e3");
  CHECK(Canon("1000") == "1k");
  CHECK(Canon("2000m") == "2");
  CHECK(Canon("500m") == "500m");
  CHECK(Canon("0") == "0");
  CHECK(Canon("0Gi") == "0");
  CHECK(Canon("1024") == "1024");
  CHECK(Canon("1Ki") == "1Ki");
  CHECK(Canon("1000Ki") == "1000Ki");
  CHECK(Canon("1024Ki") == "1Mi");
  CHECK(Canon("512") == "512");
  CHECK(Canon("0.9Gi") == "966367641600m");
  CHECK(Canon("-1.5") == "-1500m");
  CHECK(Canon("12e6") == "12e6");
  CHECK(Canon("1.5e3") == "1500");
  CHECK(Canon("100Mi") == "100Mi");
}

TEST_CASE("quantity_rejects_malformed_input_naming_it", "[quantity]") {
  const char* bad[] = {"",      " ",    "1 ",    " 1",    "abc",   "1.2.3", "--1",  "+-1",   "1Gii", "1gi",
                       "1K",    "1KiB", "1e",    "1e3.5", "0x10",  "1,000", "NaN",  "inf",   "1m5",  ".",
                       "Gi",    "1e+",  "1ee3",  "1 Gi",  "1i",    "e3",    "1.5.", "1..5",  "m",    "1mm",
                       "1e99999"};
  for (const char* s : bad) {
    INFO("input: \"" << s << "\"");
    auto q = Quantity::Parse(s);
    REQUIRE_FALSE(q.ok());
    CHECK(std::string(q.status().message()).find(std::string("\"") + s + "\"") != std::string::npos);
  }
}

TEST_CASE("quantity_overflow_is_an_error_not_a_wrap", "[quantity]") {
  CHECK_FALSE(Quantity::Parse("99999999999999999999").ok());
  CHECK_FALSE(Quantity::Parse("9Ei").ok());
  CHECK_FALSE(Quantity::Parse("10E").ok());
  CHECK_FALSE(Quantity::Parse("1e19").ok());
  auto q = Quantity::Parse("9E");  // fits in units, not in milli-units
  REQUIRE(q.ok());
  CHECK(q->Units().ok());
  CHECK_FALSE(q->Milli().ok());
  CHECK(Quantity::Parse("9223372036854775807").ok());
  CHECK_FALSE(Quantity::Parse("9223372036854775808").ok());
}

TEST_CASE("quantity_errors_quote_huge_input_cut", "[quantity]") {
  // A 1 MiB value must not become a 1 MiB error line (issue 21 item 5).
  for (const std::string& text : {std::string(1 << 20, '7') + "x", "5" + std::string(1 << 20, 'Q')}) {
    absl::StatusOr<Quantity> q = Quantity::Parse(text);
    REQUIRE_FALSE(q.ok());
    const std::string message(q.status().message());
    CHECK(message.size() < 1000);
    CHECK_THAT(message, Catch::Contains("bytes)"));
  }
  CHECK(CutForMessage("short") == "short");
  CHECK(CutForMessage(std::string(300, 'a')) == std::string(200, 'a') + "\u2026(300 bytes)");
  // Never inside a UTF-8 sequence: 199 ASCII bytes, then a 2-byte letter across the cut.
  const std::string utf8 = std::string(199, 'a') + "\u00e9" + std::string(100, 'b');
  CHECK(CutForMessage(utf8) == std::string(199, 'a') + "\u2026(301 bytes)");
}
