// A unified diff of two texts, line by line, for `droverctl diff` and apply's
// preview.
//
//   std::string d = UnifiedDiff(active, proposed, "revision 4", "proposed");
//   // "--- revision 4\n+++ proposed\n@@ -3,7 +3,7 @@\n ...\n-old\n+new\n ..."
#pragma once

#include <string>
#include <string_view>

namespace drover {

// "" when the texts are equal. Hunks carry 3 lines of context. The middle part
// that differs (after the common head and tail) is diffed by longest common
// subsequence when it is under 4M line pairs, else shown as removed then added.
std::string UnifiedDiff(std::string_view before, std::string_view after, std::string_view before_name,
                        std::string_view after_name);

}  // namespace drover
