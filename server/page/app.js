// Drover's page: reads the admin API's JSON endpoints on this port
// (/api/v1/admin/...) every few seconds and draws queues, pending work, a
// workload's timeline, GPU inventory and usage over time. A 401 asks for a
// bearer token, kept in this tab's sessionStorage. Builders are in svg.js.
"use strict";

const TOKEN_KEY = "drover.token";
const REFRESH_MS = 5000;
const REASONS = ["Queued", "Rejected", "ApplicationLimit", "WaitingForGang", "QueueAtMax", "Unschedulable",
                 "ReservedElsewhere", "WaitingForPreemption", "WaitingForDrain"];

class AuthError extends Error {}

const $ = (id) => document.getElementById(id);
const state = {
  pageTokens: [""],  // page_token of each pending page seen; the last is the current one
  timer: 0,
  inFlight: null,    // AbortController of the refresh running
  filter: new URLSearchParams(),
  explainPod: "",
  expanded: new Set(["root"]),  // queues whose children are drawn
  expandAll: false,
  lastQueues: null,
  usage: {queue: "root", window_seconds: "21600"},
};

// GET /api/v1/admin/<path>?<params> as JSON. AuthError on 401; Error naming the server's message otherwise.
async function api(path, params, signal) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const qs = params && [...params].length ? `?${params}` : "";
  const res = await fetch(`api/v1/admin/${path}${qs}`, {headers, signal, cache: "no-store"});
  const body = await res.json().catch(() => ({message: `${res.status} ${res.statusText}`}));
  if (res.status === 401) throw new AuthError(body.message || "unauthenticated");
  if (!res.ok) throw new Error(`${path}: ${body.message || res.status}`);
  return body;
}

function showError(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg || "";
}

function askForToken(why) {
  $("token-form").hidden = false;
  $("token-why").textContent = `${why}. This droverd asks for a token from its --admin-tokens file.`;
  $("content").hidden = true;
  $("token-input").focus();
}

// A queue's row is drawn when every ancestor is expanded (root is, at first), so a
// tree of 1,000 queues opens at its top levels; ?expand=all draws every row.
function visible(path) {
  if (state.expandAll) return true;
  const parts = path.split(".");
  for (let i = 1; i < parts.length; i++) if (!state.expanded.has(parts.slice(0, i).join("."))) return false;
  return true;
}

function drawQueues(data) {
  state.lastQueues = data;
  const rows = data.queues.filter((q) => visible(q.path)).map((q) => {
    const depth = q.path.split(".").length - 1;
    const dims = q.resources.filter((r) => r.resource !== "cpu" && r.resource !== "memory");
    const open = state.expandAll || state.expanded.has(q.path);
    const toggle = q.leaf ? el("span", {class: "toggle-space"}) :
      el("button", {type: "button", class: "toggle", "data-path": q.path, "aria-expanded": open ? "true" : "false",
                    "aria-label": `${open ? "Collapse" : "Expand"} ${q.path}`}, open ? "▾" : "▸");
    return el("tr", {"data-queue": q.path},
      el("th", {scope: "row", class: "qname", "data-depth": depth},
        el("span", {class: `indent d${Math.min(depth, 8)}`}), toggle, q.path.split(".").pop(),
        q.over_max_by_config ? el("span", {class: "flag", title: "above its max after a configuration change"}, " over max") : null),
      el("td", {class: "num"}, q.running_pods),
      el("td", {class: "num"}, q.pending_pods),
      el("td", {class: "dims"}, dims.length ? dims.map(usageBar) : "no GPUs"));
  });
  $("queues-table").tBodies[0].replaceChildren(...rows);
  $("queues-shown").textContent = `${rows.length} of ${data.queues.length} queues shown` +
    (rows.length < data.queues.length ? "; expand a queue to see its children" : "");
  $("queue-names").replaceChildren(...data.queues.map((q) => el("option", {value: q.path})));
}

function waited(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function drawPending(data) {
  const now = Number(data.now_ms);
  const rows = data.workloads.map((w) => el("tr", {"data-workload": w.workload},
    el("td", {class: "num"}, Number(w.position) > 0 ? w.position : "–"),
    el("td", {}, el("a", {href: `?pod=${encodeURIComponent(w.pods[0] || w.workload)}`, "data-pod": w.pods[0] || w.workload,
                          class: "explain-link"}, w.workload)),
    el("td", {class: "pods"}, w.pods.map((p) => el("span", {class: "pod"}, p)).flatMap((s, i) => (i ? [", ", s] : [s]))),
    el("td", {}, w.queue), el("td", {class: "num"}, w.tier),
    el("td", {class: "num"}, Number(w.waiting_since_ms) >= 0 ? waited(now - Number(w.waiting_since_ms)) : ""),
    el("td", {}, w.reason), el("td", {class: "msg"}, w.message)));
  $("pending-table").tBodies[0].replaceChildren(...rows);
  const first = Number(state.pageTokens[state.pageTokens.length - 1] || 0);
  $("pending-total").textContent = `${data.total} pending workloads match` +
    (data.workloads.length ? `; showing ${first + 1}–${first + data.workloads.length}` : "");
  $("pending-total").dataset.total = data.total;
  $("pending-page").textContent = `page ${state.pageTokens.length}`;
  $("pending-prev").disabled = state.pageTokens.length <= 1;
  $("pending-next").disabled = !data.next_page_token;
  $("pending-next").dataset.token = data.next_page_token;
}

function drawInventory(data) {
  $("gpus-table").tBodies[0].replaceChildren(...data.types.map((t) => el("tr", {"data-type": t.type},
    el("th", {scope: "row"}, t.type), el("td", {class: "num"}, t.nodes), el("td", {class: "num"}, t.total),
    el("td", {class: "num"}, gpus(t.allocated_milli)), el("td", {class: "num"}, t.free),
    el("td", {class: "num"}, t.whole_nodes_free), el("td", {class: "num"}, t.stranded))));
}

function drawExplain(data) {
  const when = (ms) => new Date(Number(ms)).toLocaleString();
  const w = data.workload;
  const head = data.pending
    ? el("p", {}, `${data.pod} waits in ${w.queue} at position ${w.position} of ${data.queue_pending}: ${w.reason}. `, w.message)
    : el("p", {}, `${data.pod} is not pending.`);
  const ahead = data.ahead.length ? el("p", {}, `Ahead of it: ${data.ahead.join(", ")}`) : null;
  const table = el("table", {id: "timeline-table"},
    el("caption", {}, `Timeline of ${data.pod} (from the store)`),
    el("thead", {}, el("tr", {}, ["Time", "Event", "Reason", "Node", "By", "Message"].map((h) => el("th", {scope: "col"}, h)))),
    el("tbody", {}, data.timeline.map((e) => el("tr", {"data-kind": e.kind},
      el("td", {}, when(e.unix_ms)), el("td", {}, e.kind), el("td", {}, e.reason), el("td", {}, e.node),
      el("td", {}, e.by), el("td", {class: "msg"}, e.message)))));
  $("explain-out").replaceChildren(head, ahead || "", table);
}

function drawUsage(data) {
  const from = Number(data.from_unix_ms), to = Number(data.to_unix_ms);
  $("usage-out").replaceChildren(...(data.series.length
    ? data.series.map((s) => usageChart(s, from, to))
    : [el("p", {}, `${data.queue} has no GPU quota or usage to chart.`)]));
}

// Everything on the page, fetched at once; a refresh still running is abandoned.
async function refresh() {
  clearTimeout(state.timer);
  if (state.inFlight) state.inFlight.abort();
  const ctl = new AbortController();
  state.inFlight = ctl;
  const pending = new URLSearchParams(state.filter);
  const token = state.pageTokens[state.pageTokens.length - 1];
  if (token) pending.set("page_token", token);
  const jobs = [
    api("queues", null, ctl.signal).then(drawQueues),
    api("pending", pending, ctl.signal).then(drawPending),
    api("inventory", null, ctl.signal).then(drawInventory),
    api("usage", new URLSearchParams(state.usage), ctl.signal).then(drawUsage),
  ];
  if (state.explainPod) jobs.push(api("explain", new URLSearchParams({pod: state.explainPod}), ctl.signal).then(drawExplain));
  const results = await Promise.allSettled(jobs);
  if (ctl.signal.aborted) return;
  state.inFlight = null;
  const failed = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  const auth = failed.find((e) => e instanceof AuthError);
  if (auth) {
    askForToken(auth.message);
    $("status-line").textContent = "Sign in to see this droverd";
    return;  // no refresh until a token is given
  }
  $("content").hidden = false;
  $("sign-out").hidden = !sessionStorage.getItem(TOKEN_KEY);
  showError(failed.map((e) => e.message).join("; "));
  $("status-line").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  document.body.dataset.loaded = "true";
  if ($("auto-refresh").checked) state.timer = setTimeout(refresh, REFRESH_MS);
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  state.filter = new URLSearchParams();
  for (const k of ["queue", "tier", "reason", "page_size"]) if (q.get(k)) state.filter.set(k, q.get(k));
  state.explainPod = q.get("pod") || "";
  state.expandAll = q.get("expand") === "all";
  if (q.get("usage_queue")) state.usage.queue = q.get("usage_queue");
  $("f-queue").value = state.filter.get("queue") || "";
  $("f-tier").value = state.filter.get("tier") || "";
  $("f-reason").value = state.filter.get("reason") || "";
  if (state.filter.get("page_size")) $("f-size").value = state.filter.get("page_size");
  $("explain-pod").value = state.explainPod;
  $("expand-all").checked = state.expandAll;
  $("usage-queue").value = state.usage.queue;
}

function writeUrl() {
  const q = new URLSearchParams(state.filter);
  if (state.explainPod) q.set("pod", state.explainPod);
  if (state.usage.queue !== "root") q.set("usage_queue", state.usage.queue);
  if (state.expandAll) q.set("expand", "all");
  history.replaceState(null, "", `${location.pathname}${[...q].length ? `?${q}` : ""}`);
}

function wire() {
  $("f-reason").append(...REASONS.map((r) => el("option", {}, r)));
  readUrl();
  $("pending-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.filter = new URLSearchParams();
    for (const [k, v] of new FormData(ev.target)) if (v) state.filter.set(k, String(v).trim());
    state.pageTokens = [""];
    writeUrl();
    refresh();
  });
  $("queues-table").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.toggle");
    if (!b) return;
    const path = b.dataset.path;
    if (state.expanded.has(path)) state.expanded.delete(path); else state.expanded.add(path);
    state.expandAll = false;
    $("expand-all").checked = false;
    if (state.lastQueues) drawQueues(state.lastQueues);  // from the last answer; the next refresh keeps it
  });
  $("expand-all").addEventListener("change", () => {
    state.expandAll = $("expand-all").checked;
    writeUrl();
    if (state.lastQueues) drawQueues(state.lastQueues);
  });
  $("pending-next").addEventListener("click", () => { state.pageTokens.push($("pending-next").dataset.token); refresh(); });
  $("pending-prev").addEventListener("click", () => { if (state.pageTokens.length > 1) state.pageTokens.pop(); refresh(); });
  $("pending-table").addEventListener("click", (ev) => {
    const a = ev.target.closest("a.explain-link");
    if (!a) return;
    ev.preventDefault();
    state.explainPod = a.dataset.pod;
    $("explain-pod").value = state.explainPod;
  $("expand-all").checked = state.expandAll;
    writeUrl();
    refresh();
    $("timeline-h").scrollIntoView();
  });
  $("explain-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.explainPod = $("explain-pod").value.trim();
    writeUrl();
    refresh();
  });
  $("usage-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.usage = {queue: $("usage-queue").value.trim(), window_seconds: $("usage-window").value};
    writeUrl();
    refresh();
  });
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    $("token-form").hidden = true;
    refresh();
  });
  $("sign-out").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); refresh(); });
  $("auto-refresh").addEventListener("change", () => { if ($("auto-refresh").checked) refresh(); else clearTimeout(state.timer); });
  // A hidden tab does not poll; it catches up when shown.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(state.timer);
    else if ($("auto-refresh").checked) refresh();
  });
  refresh();
}

document.addEventListener("DOMContentLoaded", wire);
