#include "server/text_diff.h"

#include <algorithm>
#include <vector>

#include "core/strings.h"

namespace drover {
namespace {

constexpr int kContext = 3;
constexpr size_t kMaxLcsCells = 4'000'000;

struct Op {
  char kind;  // ' ', '-', '+'
  std::string_view line;
  int a;  // 0-based line in before (for ' ' and '-')
  int b;  // 0-based line in after (for ' ' and '+')
};

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// Edit script of a[lo_a, hi_a) against b[lo_b, hi_b).
void DiffMiddle(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b, int lo_a, int hi_a,
                int lo_b, int hi_b, std::vector<Op>& ops) {
  const int n = hi_a - lo_a, m = hi_b - lo_b;
  if (static_cast<size_t>(n + 1) * static_cast<size_t>(m + 1) > kMaxLcsCells) {
    for (int i = lo_a; i < hi_a; ++i) ops.push_back({'-', a[i], i, lo_b});
    for (int j = lo_b; j < hi_b; ++j) ops.push_back({'+', b[j], hi_a, j});
    return;
  }
  std::vector<int> lcs(static_cast<size_t>(n + 1) * (m + 1), 0);  // lcs[i][j] of the suffixes
  auto at = [&](int i, int j) -> int& { return lcs[static_cast<size_t>(i) * (m + 1) + j]; };
  for (int i = n - 1; i >= 0; --i) {
    for (int j = m - 1; j >= 0; --j) {
      at(i, j) = a[lo_a + i] == b[lo_b + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  int i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[lo_a + i] == b[lo_b + j]) {
      ops.push_back({' ', a[lo_a + i], lo_a + i, lo_b + j});
      ++i, ++j;
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {  // removals first, like diff -u
      ops.push_back({'-', a[lo_a + i], lo_a + i, lo_b + j});
      ++i;
    } else {
      ops.push_back({'+', b[lo_b + j], lo_a + i, lo_b + j});
      ++j;
    }
  }
}

}  // namespace

std::string UnifiedDiff(std::string_view before, std::string_view after, std::string_view before_name,
                        std::string_view after_name) {
  if (before == after) return "";
  const std::vector<std::string_view> a = Lines(before), b = Lines(after);
  int head = 0;
  while (head < static_cast<int>(std::min(a.size(), b.size())) && a[head] == b[head]) ++head;
  int tail = 0;
  while (tail < static_cast<int>(std::min(a.size(), b.size())) - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) ++tail;
  std::vector<Op> ops;
  for (int i = 0; i < head; ++i) ops.push_back({' ', a[i], i, i});
  DiffMiddle(a, b, head, static_cast<int>(a.size()) - tail, head, static_cast<int>(b.size()) - tail, ops);
  for (int k = tail; k > 0; --k) {
    ops.push_back({' ', a[a.size() - k], static_cast<int>(a.size()) - k, static_cast<int>(b.size()) - k});
  }
  std::string out = StrCat("--- ", before_name, "\n+++ ", after_name, "\n");
  const int total = static_cast<int>(ops.size());
  std::vector<int> changes;
  for (int x = 0; x < total; ++x) {
    if (ops[x].kind != ' ') changes.push_back(x);
  }
  // Changes closer than 2 x kContext lines share a hunk.
  for (size_t i = 0; i < changes.size();) {
    size_t j = i;
    while (j + 1 < changes.size() && changes[j + 1] - changes[j] <= 2 * kContext + 1) ++j;
    const int start = std::max(0, changes[i] - kContext);
    const int end = std::min(total, changes[j] + kContext + 1);
    int a_count = 0, b_count = 0;
    for (int x = start; x < end; ++x) {
      a_count += ops[x].kind != '+';
      b_count += ops[x].kind != '-';
    }
    StrAppend(&out, "@@ -", ops[start].a + (a_count > 0 ? 1 : 0), ",", a_count, " +",
              ops[start].b + (b_count > 0 ? 1 : 0), ",", b_count, " @@\n");
    for (int x = start; x < end; ++x) StrAppend(&out, std::string(1, ops[x].kind), ops[x].line, "\n");
    i = j + 1;
  }
  return out;
}

}  // namespace drover
