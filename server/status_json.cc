#include "server/status_json.h"

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace drover {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void Int(Writer& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}
void Num(Writer& w, const char* key, double v) {
  w.Key(key);
  w.Double(v);
}
void Bool(Writer& w, const char* key, bool v) {
  w.Key(key);
  w.Bool(v);
}

void WriteConfig(Writer& w, const ConfigStatus& c) {
  w.Key("config");
  w.StartObject();
  Int(w, "revision", c.revision);
  Str(w, "hash", c.hash);
  Str(w, "source", c.source);
  Int(w, "appliedUnixMs", c.applied_unix_ms);
  Str(w, "lastError", c.last_error);
  w.EndObject();
}

void WriteCycle(Writer& w, const CycleStatus& c) {
  w.Key("cycle");
  w.StartObject();
  Int(w, "cycles", c.cycles);
  Num(w, "lastSeconds", c.last_seconds);
  Num(w, "p50Seconds", c.p50_seconds);
  Num(w, "p99Seconds", c.p99_seconds);
  Num(w, "publishSeconds", c.publish_seconds);
  Int(w, "binds", c.engine.binds);
  Int(w, "bindFailures", c.engine.bind_failures);
  Int(w, "preemptions", c.engine.preemptions);
  Int(w, "rejected", c.engine.rejected);
  w.EndObject();
}

void WriteQueue(Writer& w, const QueueStatus& q) {
  w.StartObject();
  Str(w, "path", q.path);
  Str(w, "parent", q.parent);
  Bool(w, "leaf", q.leaf);
  Bool(w, "draining", q.draining);
  Bool(w, "overMaxByConfig", q.over_max_by_config);
  Num(w, "weight", q.weight);
  Num(w, "share", q.share);
  Int(w, "runningPods", q.running_pods);
  Int(w, "pendingPods", q.pending_pods);
  Int(w, "runningApps", q.running_apps);
  Int(w, "pendingApps", q.pending_apps);
  w.Key("resources");
  w.StartArray();
  for (const QueueDimStatus& d : q.dims) {
    w.StartObject();
    Str(w, "resource", d.resource);
    Int(w, "guaranteed", d.guaranteed);
    Int(w, "max", d.max);
    Int(w, "usage", d.usage);
    Int(w, "borrowed", d.borrowed);
    Int(w, "pendingDemand", d.pending_demand);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteGpus(Writer& w, const std::vector<GpuInventory>& gpus) {
  w.Key("gpus");
  w.StartArray();
  for (const GpuInventory& g : gpus) {
    w.StartObject();
    Str(w, "type", g.type);
    Int(w, "nodes", g.nodes);
    Int(w, "total", g.total);
    Int(w, "allocatedMilli", g.allocated_milli);
    Int(w, "free", g.free);
    Int(w, "wholeNodesFree", g.whole_nodes_free);
    Int(w, "stranded", g.stranded);
    w.EndObject();
  }
  w.EndArray();
}

void WriteNodes(Writer& w, const std::vector<NodeGpuStatus>& nodes) {
  w.Key("nodes");
  w.StartArray();
  for (const NodeGpuStatus& n : nodes) {
    w.StartObject();
    Str(w, "name", n.name);
    Str(w, "type", n.type);
    Bool(w, "schedulable", n.schedulable);
    Int(w, "gpus", n.gpus);
    Int(w, "freeGpus", n.free_gpus);
    Int(w, "allocatedMilli", n.allocated_milli);
    w.EndObject();
  }
  w.EndArray();
}

bool InSubtree(const std::string& queue, const std::string& root) {
  return root.empty() || queue == root || (queue.size() > root.size() && queue.compare(0, root.size(), root) == 0 &&
                                           queue[root.size()] == '.');
}

void WritePending(Writer& w, const PendingSection& p, const StatusJsonOptions& o) {
  Int(w, "pendingAsOfMs", p.as_of_ms);
  w.Key("pending");
  w.StartArray();
  int64_t total = 0;
  for (const PendingWorkload& pw : p.workloads) {
    if (!InSubtree(pw.queue, o.pending_queue)) continue;
    if (static_cast<size_t>(total++) >= o.pending_limit) continue;
    w.StartObject();
    w.Key("pods");
    w.StartArray();
    for (const std::string& k : pw.pod_keys) w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.EndArray();
    Str(w, "queue", pw.queue);
    Int(w, "tier", pw.tier);
    Str(w, "code", std::string(PendingCodeName(pw.code)));
    Str(w, "message", pw.message);
    Int(w, "position", pw.position);
    Int(w, "waitingSinceMs", pw.waiting_since_ms);
    w.EndObject();
  }
  w.EndArray();
  Int(w, "pendingTotal", total);
}

}  // namespace

std::string FormatStatusJson(const ClusterStatus& s, const StatusJsonOptions& o) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Int(w, "generation", static_cast<int64_t>(s.generation));
  Int(w, "nowMs", s.now_ms);
  Bool(w, "synced", s.synced);
  Bool(w, "leader", s.leader);
  Int(w, "liveNodes", s.live_nodes);
  Int(w, "livePods", s.live_pods);
  Int(w, "pendingPods", s.pending_pods);
  WriteConfig(w, s.config);
  WriteCycle(w, s.cycle);
  w.Key("queues");
  w.StartArray();
  for (const QueueStatus& q : s.queues) WriteQueue(w, q);
  w.EndArray();
  WriteGpus(w, s.gpus);
  if (o.nodes) WriteNodes(w, s.nodes);
  WritePending(w, *s.pending, o);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace drover
