// A fanout x fanout queue tree for the server benches (status_bench,
// admin_bench): root.oN.tM leaves, each optionally guaranteed 1 GPU of the
// catalog's first `gpu_types` types (the metrics' cardinality), plus the class
// "a10+" the generator's inference pods ask for.
#pragma once

#include <string>
#include <vector>

#include "core/strings.h"
#include "queues/config.h"

namespace drover::bench {

// The tree; `leaves` receives the leaf paths (sim/generator.h's GenSpec::queues).
inline QueueConfig FanoutTree(int fanout, int gpu_types, std::vector<std::string>* leaves) {
  QueueConfig cfg = DefaultQueueConfig();
  (void)cfg.catalog.AddClass("a10+", {}, "A10");
  QuotaSpec leaf_quota;
  for (int t = 0; t < gpu_types && t < cfg.catalog.size(); ++t) leaf_quota.gpu_millis[cfg.catalog.type(t).name] = 1000;
  for (int o = 0; o < fanout; ++o) {
    QueueSpec org;
    org.name = StrCat("o", o);
    org.path = StrCat("root.", org.name);
    for (int t = 0; t < fanout; ++t) {
      QueueSpec team;
      team.name = StrCat("t", t);
      team.path = StrCat(org.path, ".", team.name);
      team.guaranteed = leaf_quota;
      leaves->push_back(team.path);
      org.children.push_back(std::move(team));
    }
    cfg.root.children.push_back(std::move(org));
  }
  return cfg;
}

}  // namespace drover::bench
