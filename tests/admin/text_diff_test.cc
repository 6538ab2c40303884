// UnifiedDiff: what droverctl diff and apply show.
#include "server/text_diff.h"

#include <catch2/catch.hpp>

namespace drover {
namespace {

TEST_CASE("unified_diff_of_equal_texts_is_empty", "[admin][diff]") {
  CHECK(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y").empty());
}

TEST_CASE("unified_diff_shows_removals_then_additions_with_three_lines_of_context", "[admin][diff]") {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
  const std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
  CHECK(UnifiedDiff(before, after, "revision 1", "proposed") ==
        "--- revision 1\n+++ proposed\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST_CASE("unified_diff_keeps_far_apart_changes_in_separate_hunks", "[admin][diff]") {
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  const std::string d = UnifiedDiff(before, after, "a", "b");
  CHECK(d.find("@@ -1,5 +1,5 @@") != std::string::npos);
  CHECK(d.find("@@ -15,6 +15,6 @@") != std::string::npos);
  CHECK(UnifiedDiff("", "new\n", "a", "b") == "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
}

}  // namespace
}  // namespace drover
