// Application counting for a leaf queue's max_running_apps and max_pending_apps
// (queues/README.md, Limits). An application is the value of the configured
// application_label, else a gang, else the pod's controller, else the pod itself;
// it is counted per leaf queue and namespace.
//
//   AppCounter apps(config.application_label);
//   const std::string app = apps.KeyOf(leaf, pod);
//   apps.Count(&tree, leaf, app, /*running=*/1, /*pending=*/0);   // a pod of it binds
//   if (apps.IsRunning(app)) ...                                   // max_running_apps does not hold it
//
// Invariant: for every leaf, the tree's running_apps is the number of its
// applications with a pod running, and its pending_apps the number with pods
// waiting but none running (CheckAgainst). An application with no pod left is
// forgotten, so the counter holds one entry per live application.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/cluster.h"
#include "queues/queue_tree.h"

namespace drover {

class AppCounter {
 public:
  explicit AppCounter(std::string application_label = "") : label_(std::move(application_label)) {}

  // The application `pod` belongs to in `leaf`: "<leaf>|<namespace>/label/<value>",
  // ".../gang/<gang>", ".../<owner kind>/<owner name>" or ".../Pod/<name>", in that
  // order of preference. A label with an empty value counts as absent.
  std::string KeyOf(QueueId leaf, const Pod& pod) const;

  // Adds `running` and `pending` pods (either may be negative) to application
  // `app` of `leaf`, and tells `tree` when the application starts or stops
  // running, or waiting with nothing running. Counts must not go below zero.
  void Count(QueueTree* tree, QueueId leaf, const std::string& app, int running, int pending);

  // True if `app` has a pod running or waiting (it is not a new application).
  bool Known(const std::string& app) const { return apps_.contains(app); }
  // True if `app` has a pod running.
  bool IsRunning(const std::string& app) const;
  // Applications with a pod running or waiting.
  size_t size() const { return apps_.size(); }
  // Forgets every application (the tree is rebuilt by the caller).
  void Clear() { apps_.clear(); }

  // Every leaf of `tree` whose running_apps / pending_apps disagree with the
  // applications counted here, one message each; empty if all agree.
  std::vector<std::string> CheckAgainst(const QueueTree& tree) const;

 private:
  struct AppCount {
    QueueId leaf = kNoQueue;
    int running = 0;  // pods charged (running or assumed)
    int pending = 0;  // pods waiting (not rejected)
  };
  std::string label_;
  absl::flat_hash_map<std::string, AppCount> apps_;
};

}  // namespace drover
