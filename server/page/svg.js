// DOM and SVG builders for the page. Data is never parsed as HTML: text
// becomes text nodes, attributes go through setAttribute, so queue and pod
// names (user input) cannot become markup.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

// el("td", {class: "num"}, "3", otherNode): an element with attributes and children
// (strings and numbers become text nodes; null and undefined are skipped).
function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}
function svgEl(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}
function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Milli-GPU as GPUs: 3500 -> "3.5", 8000 -> "8".
function gpus(milli) {
  return String(Math.round(Number(milli)) / 1000);
}

// One GPU type of one queue: a bar whose full width is the effective max, filled
// with usage within guaranteed, then the borrowed part apart, with a mark at
// guaranteed; its numbers beside it (also as data-* attributes, in milli-GPU).
function usageBar(dim) {
  const usage = Number(dim.usage), g = Number(dim.guaranteed), max = Number(dim.max);
  const borrowed = Number(dim.borrowed);
  const scale = Math.max(max, usage, g, 1);
  const W = 160, H = 12;
  const x = (v) => Math.max(0, Math.min(W, (v / scale) * W));
  const within = usage - borrowed;
  const label = `${dim.resource}: ${gpus(usage)} used of ${gpus(g)} guaranteed, max ${gpus(max)}` +
                (borrowed > 0 ? `, ${gpus(borrowed)} borrowed` : "");
  const bar = svgEl("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "bar"},
    svgEl("title", {}, label),
    svgEl("rect", {class: "track", x: 0, y: 0, width: W, height: H}),
    svgEl("rect", {class: "used", x: 0, y: 0, width: x(within), height: H}),
    svgEl("rect", {class: "borrowed", x: x(within), y: 0, width: x(usage) - x(within), height: H}),
    svgEl("line", {class: "mark", x1: x(g), x2: x(g), y1: 0, y2: H}));
  return el("div", {class: "dim", "data-resource": dim.resource, "data-usage": usage, "data-guaranteed": g,
                    "data-max": max, "data-borrowed": borrowed},
    el("span", {class: "type"}, dim.resource), bar,
    el("span", {class: "nums"},
      el("span", {class: "usage"}, gpus(usage)), " / ", el("span", {class: "guaranteed"}, gpus(g)), " / ",
      el("span", {class: "max"}, gpus(max)),
      borrowed > 0 ? el("span", {class: "borrowed-n"}, ` (${gpus(borrowed)} borrowed)`) : null));
}

// A line chart of one GPU type's usage points (allocated, guaranteed, effective max)
// over [from, to), in GPUs.
function usageChart(series, fromMs, toMs) {
  const W = 640, H = 150, L = 44, B = 20, T = 8, R = 8;
  const pts = series.points.map((p) => ({t: Number(p.unix_ms), a: Number(p.allocated), g: Number(p.guaranteed),
                                          m: Number(p.effective_max)}));
  const top = Math.max(1000, ...pts.map((p) => Math.max(p.a, p.g, p.m)));
  const x = (t) => L + ((t - fromMs) / Math.max(1, toMs - fromMs)) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const line = (key, cls) => svgEl("polyline", {class: cls, fill: "none",
                                                points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ")});
  const last = pts.length ? pts[pts.length - 1] : null;
  const summary = `${series.gpu_type}: ${pts.length} points` +
                  (last ? `; latest ${gpus(last.a)} allocated of ${gpus(last.g)} guaranteed, max ${gpus(last.m)}` : "; no samples in the window");
  const time = (ms) => new Date(ms).toLocaleString([], {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"});
  return el("figure", {class: "chart", "data-gpu-type": series.gpu_type, "data-points": pts.length},
    svgEl("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary},
      svgEl("title", {}, summary),
      svgEl("line", {class: "axis", x1: L, x2: L, y1: T, y2: H - B}),
      svgEl("line", {class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B}),
      svgEl("text", {x: L - 4, y: T + 8, "text-anchor": "end"}, gpus(top)),
      svgEl("text", {x: L - 4, y: H - B, "text-anchor": "end"}, "0"),
      svgEl("text", {x: L, y: H - 4}, time(fromMs)),
      svgEl("text", {x: W - R, y: H - 4, "text-anchor": "end"}, time(toMs)),
      line("m", "line-max"), line("g", "line-g"), line("a", "line-used")),
    el("figcaption", {}, summary));
}
