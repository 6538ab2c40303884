// Topology-aware gangs: the cluster's nodes grouped into the domains of the quota
// document's topology levels (`topology.levels`: zone, rack, NVLink domain, widest
// first), for gangs that ask to run inside one domain of a level
// (drover.io/topology-required) or prefer to (drover.io/topology-preferred).
//
//   TopologyDomains domains;
//   domains.Refresh(config.topology_levels, snapshot);   // O(1) while nothing changed
//   int d = domains.DomainOf(level, node);               // -1: the node lacks a label
//
// A node belongs to a domain of level i when it carries the label of level i and of
// every wider level (0..i-1); the domain is the tuple of those values, so domains
// nest even when a narrow label's values repeat across wide domains (Kueue's
// topology levels behave the same). The engine's side (placing a gang in the
// smallest domain that fits, the explanation, preemption inside one domain) is in
// topology_gang.cc; placement/README.md describes the rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/snapshot.h"
#include "queues/config.h"

namespace drover {

// Nodes by topology domain, per level. Derived from node labels alone: rebuilt
// only when the snapshot's node specs or the levels change.
class TopologyDomains {
 public:
  // Brings the grouping up to date; O(nodes x levels) when something changed, else O(levels).
  void Refresh(const std::vector<TopologyLevel>& levels, const Snapshot& snapshot);
  // Forces the next Refresh to rebuild (the snapshot was replaced).
  void Invalidate() { generation_ = ~uint64_t{0}; }

  int levels() const { return static_cast<int>(levels_.size()); }
  const TopologyLevel& level(int i) const { return levels_[i]; }
  // The node's domain at `level`, or -1 (not a present node, or a label missing).
  int DomainOf(int level, NodeId id) const {
    const std::vector<int>& of = by_level_[level].of_node;
    return id >= 0 && id < static_cast<NodeId>(of.size()) ? of[id] : -1;
  }
  int domains(int level) const { return static_cast<int>(by_level_[level].names.size()); }
  // The domain's value of its own level's label ("rack-3").
  const std::string& Name(int level, int domain) const { return by_level_[level].names[domain]; }
  const std::vector<NodeId>& NodesOf(int level, int domain) const { return by_level_[level].nodes[domain]; }

 private:
  struct Level {
    std::vector<int> of_node;                  // by NodeId
    std::vector<std::string> names;            // by domain
    std::vector<std::vector<NodeId>> nodes;    // by domain
  };
  std::vector<TopologyLevel> levels_;
  uint64_t generation_ = ~uint64_t{0};
  std::vector<Level> by_level_;
};

}  // namespace drover
