// droverctl: Drover's admin CLI, a client of droverd's admin API
// (proto/drover/admin/v1/admin.proto), like kubectl for queues:
//
//   droverctl get queues [-o wide|json|yaml]      droverctl describe queue root.research
//   droverctl get pending [--queue Q]              droverctl explain pod NS/NAME
//   droverctl get running [--queue Q] [--gpu-type T]
//   droverctl diff -f queues.yaml                  droverctl apply -f queues.yaml [--dry-run] [--yes]
//   droverctl history                              droverctl rollback --to 3
//   droverctl top gpus [--nodes]                   droverctl audit [--actor alice] [--since 2h]
//   droverctl validate -f queues.yaml              (offline: no server needed)
//
// Server and credentials: --server HOST:PORT (env DROVER_SERVER, default
// localhost:10252), --token TOKEN or --token-file FILE (env DROVER_TOKEN); over
// TLS with --cacert, and a client certificate with --cert/--key.
// Exit codes: 0 ok, 1 error, 2 bad usage, 3 conflict (the document changed
// since it was read), 4 not authenticated or not permitted.
// Verbs on workloads (get pending/running, explain) are in droverctl_workloads.cc.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/strings.h"
#include "drover/admin/v1/admin.grpc.pb.h"
#include "queues/config.h"
#include "server/droverctl_client.h"
#include "server/droverctl_completion.h"
#include "server/droverctl_workloads.h"

namespace {

using namespace drover::ctl;  // NOLINT: the verbs' client, exit codes and output helpers
using drover::StrCat;

// Reads a document from a file or standard input ("-"), refusing more than the document limit.
absl::StatusOr<std::string> ReadDocument(const std::string& file) {
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (file != "-") {
    in_file.open(file, std::ios::binary);
    if (!in_file) return absl::NotFoundError(StrCat(file, ": cannot open"));
    in = &in_file;
  }
  std::string text;
  char buf[65536];
  while (in->read(buf, sizeof buf) || in->gcount() > 0) {
    text.append(buf, static_cast<size_t>(in->gcount()));
    if (text.size() > drover::kMaxDocumentBytes) {
      return absl::InvalidArgumentError(StrCat(file == "-" ? "standard input" : file, " is over the document limit of 16 MiB"));
    }
  }
  return text;
}

int Validate(const std::string& file) {
  absl::StatusOr<std::string> text = ReadDocument(file);
  absl::StatusOr<drover::QueueConfig> cfg =
      text.ok() ? drover::ParseQueueConfig(*text, file == "-" ? "<stdin>" : file) : text.status();
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return kError;
  }
  std::printf("%s: valid\n", file == "-" ? "<stdin>" : file.c_str());
  return kOk;
}

// --- Output ---

std::string Bytes(int64_t v) {
  constexpr std::pair<int64_t, const char*> kUnits[] = {{int64_t{1} << 40, "Ti"}, {int64_t{1} << 30, "Gi"}, {int64_t{1} << 20, "Mi"}};
  for (const auto& [unit, name] : kUnits) {
    if (v >= unit) return StrCat(v / unit, name);
  }
  return StrCat(v);
}

std::string Amount(const pb::ResourceUsage& r, int64_t v) {
  if (r.resource() == "memory") return Bytes(v);
  return Milli(v);
}

// "A100 24/16/40" per GPU type: usage / guaranteed / max.
std::string GpuSummary(const pb::Queue& q) {
  std::vector<std::string> parts;
  for (const pb::ResourceUsage& r : q.resources()) {
    if (r.resource() == "cpu" || r.resource() == "memory") continue;
    parts.push_back(StrCat(r.resource(), " ", Milli(r.usage()), "/", Milli(r.guaranteed()), "/", Milli(r.max())));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

// --- Verbs ---

int GetQueues(Client& c) {
  pb::ListQueuesResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::ListQueues, pb::ListQueuesRequest(), &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  const bool wide = c.globals().output == "wide";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"QUEUE", "WEIGHT", "RUNNING", "PENDING", "GPUS (USED/GUARANTEED/MAX)"});
  if (wide) rows.back().insert(rows.back().end(), {"SHARE", "CPU (USED/GUAR/MAX)", "MEMORY (USED/GUAR/MAX)", "STATE"});
  for (const pb::Queue& q : resp.queues()) {
    std::vector<std::string> row = {q.path(), Milli(static_cast<int64_t>(q.weight() * 1000)), StrCat(q.running_pods()),
                                    StrCat(q.pending_pods()), GpuSummary(q)};
    if (wide) {
      std::string cpu = "-", mem = "-";
      for (const pb::ResourceUsage& r : q.resources()) {
        const std::string v = StrCat(Amount(r, r.usage()), "/", Amount(r, r.guaranteed()), "/", Amount(r, r.max()));
        if (r.resource() == "cpu") cpu = v;
        if (r.resource() == "memory") mem = v;
      }
      char share[32];
      std::snprintf(share, sizeof share, "%.3f", q.fair_share());
      const std::string state = q.draining() ? "Draining" : q.over_max_by_config() ? "OverMax" : "Active";
      row.insert(row.end(), {share, cpu, mem, state});
    }
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
  std::printf("\nconfiguration revision %lld\n", static_cast<long long>(resp.config_revision()));
  return kOk;
}

int DescribeQueue(Client& c, const std::string& path) {
  pb::GetQueueRequest req;
  req.set_path(path);
  pb::Queue q;
  if (int rc = c.Call(&pb::Admin::Stub::GetQueue, req, &q); rc != kOk) return rc;
  if (PrintStructured(c.globals(), q)) return kOk;
  std::printf("Name:         %s\nParent:       %s\nLeaf:         %s\nWeight:       %g\nFair share:   %.4f\n",
              q.path().c_str(), q.parent().empty() ? "-" : q.parent().c_str(), q.leaf() ? "yes" : "no", q.weight(),
              q.fair_share());
  std::printf("State:        %s\nRunning pods: %lld (tiers 0/1/2: %s)\nPending pods: %lld (workloads by tier 0/1/2: %s)\n\n",
              q.draining() ? "Draining" : q.over_max_by_config() ? "above its max after a configuration change" : "Active",
              static_cast<long long>(q.running_pods()), absl::StrJoin(q.running_by_tier(), "/").c_str(),
              static_cast<long long>(q.pending_pods()), absl::StrJoin(q.pending_by_tier(), "/").c_str());
  std::vector<std::vector<std::string>> rows = {{"RESOURCE", "USED", "GUARANTEED", "MAX", "BORROWED", "PENDING DEMAND"}};
  for (const pb::ResourceUsage& r : q.resources()) {
    rows.push_back({r.resource(), Amount(r, r.usage()), Amount(r, r.guaranteed()), Amount(r, r.max()),
                    Amount(r, r.borrowed()), Amount(r, r.pending_demand())});
  }
  PrintTable(rows);
  return kOk;
}

void PrintErrors(const std::string& file, const google::protobuf::RepeatedPtrField<pb::ValidationError>& errors) {
  for (const pb::ValidationError& v : errors) {
    std::fprintf(stderr, "%s:%d:%d: %s%s%s\n", file.c_str(), v.line(), v.column(), v.path().c_str(),
                 v.path().empty() ? "" : ": ", v.message().c_str());
  }
}

int Diff(Client& c, const std::string& file) {
  absl::StatusOr<std::string> text = ReadDocument(file);
  if (!text.ok()) {
    std::fprintf(stderr, "droverctl: %s\n", std::string(text.status().message()).c_str());
    return kError;
  }
  pb::DiffConfigRequest req;
  req.set_document(*text);
  pb::DiffConfigResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::DiffConfig, req, &resp); rc != kOk) return rc;
  std::fputs(resp.diff().empty() ? "no changes against the active revision\n" : resp.diff().c_str(), stdout);
  PrintErrors(file, resp.errors());
  return resp.errors_size() > 0 ? kError : kOk;
}

bool Confirm(const std::string& question) {
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int PrintApplied(const pb::ApplyConfigResponse& r, bool dry_run) {
  for (const std::string& n : r.notes()) std::printf("note: %s\n", n.c_str());
  if (dry_run) {
    std::printf("dry run: valid and permitted; would become revision %lld\n", static_cast<long long>(r.revision() + 1));
  } else {
    std::printf("applied: revision %lld is in force\n", static_cast<long long>(r.revision()));
  }
  return kOk;
}

int Apply(Client& c, const std::string& file, bool yes, bool dry_run, const std::string& comment) {
  absl::StatusOr<std::string> text = ReadDocument(file);
  if (!text.ok()) {
    std::fprintf(stderr, "droverctl: %s\n", std::string(text.status().message()).c_str());
    return kError;
  }
  pb::ApplyConfigRequest req;
  req.set_document(*text);
  req.set_comment(comment);
  req.set_dry_run(true);
  pb::GetConfigRequest get;
  pb::ConfigRevision active;
  if (int rc = c.Call(&pb::Admin::Stub::GetConfig, get, &active); rc != kOk) return rc;
  req.set_expected_revision(active.revision());
  pb::ApplyConfigResponse preview;
  if (int rc = c.Call(&pb::Admin::Stub::ApplyConfig, req, &preview); rc != kOk) return rc;
  std::fputs(preview.diff().empty() ? "no changes against the active revision\n" : preview.diff().c_str(), stdout);
  if (preview.errors_size() > 0) {
    PrintErrors(file, preview.errors());
    std::fprintf(stderr, "droverctl: %d errors; nothing applied\n", preview.errors_size());
    return kError;
  }
  if (preview.diff().empty()) return kOk;
  if (dry_run) return PrintApplied(preview, true);
  if (!yes && !Confirm(StrCat("Apply these changes on top of revision ", active.revision(), "?"))) {
    std::fprintf(stderr, "droverctl: not applied (answer y, or pass --yes)\n");
    return kError;
  }
  req.set_dry_run(false);
  pb::ApplyConfigResponse applied;
  if (int rc = c.Call(&pb::Admin::Stub::ApplyConfig, req, &applied); rc != kOk) return rc;
  return PrintApplied(applied, false);
}

int History(Client& c, int limit) {
  pb::ListRevisionsRequest req;
  req.set_page_size(limit);
  pb::ListRevisionsResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::ListRevisions, req, &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  std::vector<std::vector<std::string>> rows = {{"REVISION", "APPLIED (UNIX MS)", "SOURCE", "AUTHOR", "SHA256", "COMMENT"}};
  for (const pb::ConfigRevision& r : resp.revisions()) {
    std::string comment = r.comment();
    if (r.rolled_back_from() > 0 && comment.empty()) comment = StrCat("rollback to ", r.rolled_back_from());
    rows.push_back({StrCat(r.revision()), StrCat(r.applied_unix_ms()), r.source(), r.author(), r.sha256().substr(0, 12),
                    comment.empty() ? "-" : comment});
  }
  PrintTable(rows);
  return kOk;
}

int Rollback(Client& c, int64_t to, bool yes, bool dry_run, const std::string& comment) {
  pb::ConfigRevision active;
  if (int rc = c.Call(&pb::Admin::Stub::GetConfig, pb::GetConfigRequest(), &active); rc != kOk) return rc;
  pb::RollbackRequest req;
  req.set_to_revision(to);
  req.set_expected_revision(active.revision());
  req.set_comment(comment);
  req.set_dry_run(true);
  pb::ApplyConfigResponse preview;
  if (int rc = c.Call(&pb::Admin::Stub::Rollback, req, &preview); rc != kOk) return rc;
  std::fputs(preview.diff().empty() ? "revision's document equals the active one\n" : preview.diff().c_str(), stdout);
  if (dry_run) return PrintApplied(preview, true);
  if (!yes && !Confirm(StrCat("Roll back to revision ", to, "'s document (as a new revision)?"))) {
    std::fprintf(stderr, "droverctl: not rolled back (answer y, or pass --yes)\n");
    return kError;
  }
  req.set_dry_run(false);
  pb::ApplyConfigResponse applied;
  if (int rc = c.Call(&pb::Admin::Stub::Rollback, req, &applied); rc != kOk) return rc;
  return PrintApplied(applied, false);
}

int TopGpus(Client& c, bool nodes) {
  pb::GetInventoryRequest req;
  req.set_nodes(nodes);
  pb::Inventory inv;
  if (int rc = c.Call(&pb::Admin::Stub::GetInventory, req, &inv); rc != kOk) return rc;
  if (PrintStructured(c.globals(), inv)) return kOk;
  std::vector<std::vector<std::string>> rows = {{"GPU TYPE", "NODES", "TOTAL", "ALLOCATED", "FREE", "WHOLE NODES FREE", "STRANDED"}};
  for (const pb::GpuTypeInventory& t : inv.types()) {
    rows.push_back({t.type(), StrCat(t.nodes()), StrCat(t.total()), Milli(t.allocated_milli()), StrCat(t.free()),
                    StrCat(t.whole_nodes_free()), StrCat(t.stranded())});
  }
  PrintTable(rows);
  if (!nodes) return kOk;
  std::printf("\n");
  rows = {{"NODE", "GPU TYPE", "GPUS", "FREE", "ALLOCATED", "SCHEDULABLE"}};
  for (const pb::NodeInventory& n : inv.nodes()) {
    rows.push_back({n.name(), n.type().empty() ? "-" : n.type(), StrCat(n.gpus()), StrCat(n.free_gpus()),
                    Milli(n.allocated_milli()), n.schedulable() ? "yes" : "no"});
  }
  PrintTable(rows);
  return kOk;
}

absl::StatusOr<int64_t> DurationSeconds(const std::string& flag, std::string text);

// A point in time for --since/--until: RFC 3339 ("2026-12-06T10:00:00Z") or a
// duration before now ("2h", "3d"). Error names the flag and the text.
absl::StatusOr<int64_t> TimeFlagMillis(const std::string& flag, const std::string& text) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return absl::ToUnixMillis(t);
  absl::StatusOr<int64_t> ago = DurationSeconds(flag, text);
  if (!ago.ok()) {
    return absl::InvalidArgumentError(StrCat(flag, " \"", drover::CutForMessage(text, 40),
                                             "\" is neither RFC 3339 (2026-12-06T10:00:00Z) nor a duration ago (90m, 6h, 14d)"));
  }
  return absl::ToUnixMillis(absl::Now() - absl::Seconds(*ago));
}

int Audit(Client& c, const std::string& actor, const std::string& target, int limit, const std::string& since,
          const std::string& until) {
  absl::StatusOr<int64_t> since_ms = TimeFlagMillis("--since", since);
  absl::StatusOr<int64_t> until_ms = since_ms.ok() ? TimeFlagMillis("--until", until) : since_ms;
  if (!until_ms.ok()) {
    std::fprintf(stderr, "droverctl: %s\n", std::string(until_ms.status().message()).c_str());
    return kUsage;
  }
  pb::ListAuditRequest req;
  req.set_since_unix_ms(*since_ms);
  req.set_until_unix_ms(*until_ms);
  req.set_actor(actor);
  req.set_target_prefix(target);
  req.set_limit(limit);
  pb::ListAuditResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::ListAudit, req, &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  std::vector<std::vector<std::string>> rows = {{"SEQ", "TIME (UNIX MS)", "ACTOR", "ACTION", "TARGET", "RESULT", "REASON"}};
  for (const pb::AuditRecord& a : resp.records()) {
    rows.push_back({StrCat(a.sequence()), StrCat(a.unix_ms()), a.actor(), a.action(), a.target(),
                    std::string(drover::CutForMessage(a.result(), 80)), std::string(drover::CutForMessage(a.reason(), 80))});
  }
  PrintTable(rows);
  return kOk;
}

// "6h", "90m", "2d" (days are 24 h) as seconds; 0 for "" (the server's default).
absl::StatusOr<int64_t> DurationSeconds(const std::string& flag, std::string text) {
  if (text.empty()) return 0;
  int64_t days = 0;
  if (text.size() > 1 && text.back() == 'd' && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days > 0 &&
      days <= 400) {
    return days * 86'400;
  }
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat(flag, " \"", drover::CutForMessage(text, 40),
                                             "\" is not a positive duration (e.g. 90m, 6h, 14d)"));
  }
  return absl::ToInt64Seconds(d);
}

int Usage(Client& c, const std::string& queue, const std::string& gpu_type, const std::string& window,
          const std::string& step) {
  absl::StatusOr<int64_t> window_s = DurationSeconds("--window", window);
  absl::StatusOr<int64_t> step_s = window_s.ok() ? DurationSeconds("--step", step) : window_s;
  if (!step_s.ok()) {
    std::fprintf(stderr, "droverctl: %s\n", std::string(step_s.status().message()).c_str());
    return kUsage;
  }
  pb::QueryUsageRequest req;
  req.set_queue(queue);
  req.set_gpu_type(gpu_type);
  req.set_window_seconds(*window_s);
  req.set_step_seconds(*step_s);
  pb::QueryUsageResponse resp;
  if (int rc = c.Call(&pb::Admin::Stub::QueryUsage, req, &resp); rc != kOk) return rc;
  if (PrintStructured(c.globals(), resp)) return kOk;
  std::vector<std::vector<std::string>> rows = {
      {"TIME (UTC)", "GPU TYPE", "ALLOCATED", "GUARANTEED", "MAX", "BORROWED", "PENDING DEMAND"}};
  for (const pb::UsageSeries& series : resp.series()) {
    for (const pb::UsagePoint& p : series.points()) {
      rows.push_back({absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixMillis(p.unix_ms()), absl::UTCTimeZone()),
                      series.gpu_type(), Milli(p.allocated()), Milli(p.guaranteed()), Milli(p.effective_max()),
                      Milli(p.borrowed()), Milli(p.pending_demand())});
    }
  }
  if (rows.size() == 1) {
    std::printf("no usage samples of %s in this window (samples are taken every --usage-interval)\n", queue.c_str());
    return kOk;
  }
  std::printf("%s, steps of %llds (the mean of the samples in each; GPUs)\n", resp.queue().c_str(),
              static_cast<long long>(resp.step_seconds()));
  PrintTable(rows);
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"droverctl: administer Drover's queues through droverd's admin API"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (-o, --server, --token) after the verb too; subcommands inherit it
  Globals g;
  app.add_option("--server", g.server, "droverd's admin API, HOST:PORT (env DROVER_SERVER; default localhost:10252)");
  app.add_option("--token", g.token, "bearer token (env DROVER_TOKEN)");
  app.add_option("--token-file", g.token_file, "file whose first line is the bearer token");
  app.add_option("--config", g.config,
                 "client config file: server, token or token-file, cacert, cert, key (default "
                 "$XDG_CONFIG_HOME/drover/config.yaml or ~/.config/drover/config.yaml); flags and DROVER_* win");
  app.add_option("--cacert", g.tls.cacert, "talk TLS, verifying droverd's certificate with this CA bundle (PEM)");
  app.add_option("--cert", g.tls.cert, "client certificate (PEM) for droverd's --admin-client-ca: CN is the user, O the groups");
  app.add_option("--key", g.tls.key, "private key of --cert (PEM)");
  app.add_option("-o,--output", g.output, "table, wide, json or yaml")
      ->check(CLI::IsMember({"table", "wide", "json", "yaml"}));

  std::string file = "", queue, reason, actor, target, comment;
  int tier = -1, limit = 0;
  int64_t to = 0;
  bool yes = false, dry_run = false, nodes = false;
  CLI::App* validate = app.add_subcommand("validate", "check a quota-as-code document offline and report every error");
  validate->add_option("-f,--filename", file, "the YAML document ('-' = standard input)")->required();

  CLI::App* get = app.add_subcommand("get", "list queues, pending or running workloads");
  get->require_subcommand(1);
  CLI::App* get_queues = get->add_subcommand("queues", "the queue tree with usage per GPU type");
  CLI::App* get_pending = get->add_subcommand("pending", "pending workloads, in queue order");
  get_pending->add_option("--queue", queue, "only this queue's subtree");
  get_pending->add_option("--tier", tier, "only this tier (0, 1, 2)");
  get_pending->add_option("--reason", reason, "only this reason code (Queued, Unschedulable, QueueAtMax, ...)");
  get_pending->add_option("--limit", limit, "at most this many (default 100, at most 1000)");
  RunningFilter running;
  CLI::App* get_running = get->add_subcommand("running", "running pods and gangs, queue by queue");
  get_running->add_option("--queue", running.queue, "only this queue's subtree");
  get_running->add_option("--tier", running.tier, "only this tier (0, 1, 2)");
  get_running->add_option("--gpu-type", running.gpu_type, "only workloads on this GPU type");
  get_running->add_option("--limit", running.limit, "at most this many (default 100, at most 1000)");
  std::string path, pod;
  CLI::App* describe = app.add_subcommand("describe", "one queue in detail");
  describe->require_subcommand(1);
  describe->add_subcommand("queue", "a queue: usage, guaranteed, max, borrowed per resource")
      ->add_option("PATH", path, "queue path, e.g. root.research")->required();
  CLI::App* explain = app.add_subcommand("explain", "why a pod waits");
  explain->require_subcommand(1);
  explain->add_subcommand("pod", "a pod: reason, position, who is ahead, its timeline")
      ->add_option("POD", pod, "NAMESPACE/NAME")->required();
  CLI::App* diff = app.add_subcommand("diff", "diff a document against the active revision");
  diff->add_option("-f,--filename", file, "the YAML document ('-' = standard input)")->required();
  CLI::App* apply = app.add_subcommand("apply", "apply a document (shows the diff, asks first)");
  apply->add_option("-f,--filename", file, "the YAML document ('-' = standard input)")->required();
  apply->add_flag("-y,--yes", yes, "do not ask");
  apply->add_flag("--dry-run", dry_run, "validate, authorize and diff only");
  apply->add_option("-m,--comment", comment, "why (kept with the revision)");
  CLI::App* history = app.add_subcommand("history", "configuration revisions, newest first");
  history->add_option("--limit", limit, "at most this many (default 50)");
  CLI::App* rollback = app.add_subcommand("rollback", "put an earlier revision's document in force, as a new revision");
  rollback->add_option("--to", to, "the revision")->required();
  rollback->add_flag("-y,--yes", yes, "do not ask");
  rollback->add_flag("--dry-run", dry_run, "check only");
  rollback->add_option("-m,--comment", comment, "why");
  CLI::App* top = app.add_subcommand("top", "GPU inventory");
  top->require_subcommand(1);
  top->add_subcommand("gpus", "GPUs by type: total, allocated, free, whole nodes free, stranded")
      ->add_flag("--nodes", nodes, "also every GPU node");
  CLI::App* audit = app.add_subcommand("audit", "the audit trail, newest first");
  audit->add_option("--actor", actor, "only this actor");
  audit->add_option("--target", target, "only targets starting with this");
  audit->add_option("--limit", limit, "at most this many (default 100)");
  std::string since, until;
  audit->add_option("--since", since, "only records from this time on: RFC 3339, or a duration ago (e.g. 2h, 7d)");
  audit->add_option("--until", until, "only records before this time: RFC 3339, or a duration ago");

  std::string gpu_type, window, step;
  CLI::App* usage = app.add_subcommand("usage", "a queue's GPU usage over time, from the store's samples");
  usage->add_option("QUEUE", queue, "queue path, e.g. root.research")->required();
  usage->add_option("--gpu-type", gpu_type, "one GPU type (default: every type the queue has)");
  usage->add_option("--window", window, "how far back, e.g. 6h, 14d (default 6h)");
  usage->add_option("--step", step, "one row per step, e.g. 10m (default window/120, at least 1m)");

  std::string shell;
  CLI::App* completion = app.add_subcommand("completion", "print a shell completion script: source <(droverctl completion bash)");
  completion->add_option("SHELL", shell, "bash")->required()->check(CLI::IsMember({"bash"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  if (validate->parsed()) return Validate(file);
  if (completion->parsed()) {
    std::fputs(drover::BashCompletion(app, "droverctl").c_str(), stdout);
    return kOk;
  }
  Client c(g);
  if (absl::Status s = c.Init(); !s.ok()) {
    std::fprintf(stderr, "droverctl: %s\n", std::string(s.message()).c_str());
    return kUsage;
  }
  if (get_queues->parsed()) return GetQueues(c);
  if (get_pending->parsed()) return GetPending(c, queue, tier, reason, limit);
  if (get_running->parsed()) return GetRunning(c, running);
  if (describe->parsed()) return DescribeQueue(c, path);
  if (explain->parsed()) return ExplainPod(c, pod);
  if (diff->parsed()) return Diff(c, file);
  if (apply->parsed()) return Apply(c, file, yes, dry_run, comment);
  if (history->parsed()) return History(c, limit);
  if (rollback->parsed()) return Rollback(c, to, yes, dry_run, comment);
  if (top->parsed()) return TopGpus(c, nodes);
  if (audit->parsed()) return Audit(c, actor, target, limit, since, until);
  if (usage->parsed()) return Usage(c, queue, gpu_type, window, step);
  return kUsage;
}
