// portwatch operations dashboard: reads the API with the token typed in; no external
// resources. Alerts arrive over the SSE stream (read with fetch, so the token travels in
// the Authorization header, never in a URL) and resume from the last event id.
"use strict";
const LANE_COLOUR = { free: "#3182ce", express: "#38a169", secondary: "#dd6b20", full_search: "#c53030" };
const SVGNS = "http://www.w3.org/2000/svg";
let token = sessionStorage.getItem("portwatch-token") || "";
let lastEventId = 0;
const seenAlerts = new Map();

function $(id) { return document.getElementById(id); }
function status(text) { $("status").textContent = text; }

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
  const r = await fetch(path, Object.assign({}, options, { headers }));
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.status === 204 ? null : r.json();
}

function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function pct(x) { return x === null ? "-" : (100 * x).toFixed(1) + " %"; }

async function refreshStats() {
  const s = await api("/v1/stats");
  $("port").textContent = s.port_code;
  $("k-decisions").textContent = s.decisions;
  $("k-express").textContent = pct(s.express_share);
  $("k-referral").textContent = pct(s.referral_rate);
  $("k-queue").textContent = s.in_secondary + " / " + s.secondary_capacity;
  $("k-alerts").textContent = s.open_alerts;
  drawChart(s.per_hour);
  const rows = $("inspections");
  rows.replaceChildren();
  for (const [k, v] of Object.entries(s.inspections)) rows.append(trow(["outcome: " + k, v]));
  for (const [k, v] of Object.entries(s.identifications)) rows.append(trow(["identified: " + k, v]));
  if (!rows.children.length) rows.append(trow(["no inspections yet", ""]));
}

function trow(cells) {
  const tr = el("tr");
  for (const c of cells) tr.append(el("td", {}, String(c)));
  return tr;
}

function drawChart(perHour) {
  const svg = $("chart");
  svg.replaceChildren();
  const n = Math.max(perHour.length, 1);
  const top = Math.max(1, ...perHour.map(h => h.decisions));
  const w = Math.min(560 / n, 40);
  perHour.forEach((h, i) => {
    let y = 180;
    for (const lane of ["free", "express", "secondary", "full_search"]) {
      const v = h.by_lane[lane] || 0;
      const hgt = 160 * v / top;
      y -= hgt;
      svg.append(el("svg:rect", { x: 30 + i * w, y, width: Math.max(1, w - 2), height: hgt,
                                  fill: LANE_COLOUR[lane], class: "bar", "data-lane": lane }));
    }
    svg.append(el("svg:text", { x: 30 + i * w, y: 195 }, h.hour.slice(11, 13) + "h"));
  });
  svg.append(el("svg:text", { x: 0, y: 20 }, String(top)));
  let x = 300;
  for (const [lane, c] of Object.entries(LANE_COLOUR)) {
    svg.append(el("svg:rect", { x, y: 4, width: 8, height: 8, fill: c }));
    svg.append(el("svg:text", { x: x + 11, y: 12 }, lane));
    x += 70;
  }
}

async function refreshMap() {
  const ships = await api("/v1/shipments");
  const svg = $("map");
  svg.replaceChildren();
  const pts = ships.flatMap(s => s.route_line);
  if (!pts.length) { svg.append(el("svg:text", { x: 10, y: 20 }, "no shipments")); return; }
  const lats = pts.map(p => p[0]), lons = pts.map(p => p[1]);
  const [la0, la1, lo0, lo1] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const k = Math.cos((la0 + la1) / 2 * Math.PI / 180);  // equirectangular, true to scale
  const sx = 560 / Math.max((lo1 - lo0) * k, 1e-6), sy = 320 / Math.max(la1 - la0, 1e-6);
  const s = Math.min(sx, sy);
  const proj = ([la, lo]) => [20 + (lo - lo0) * k * s, 340 - (la - la0) * s];
  const drawn = new Set();
  for (const ship of ships) {
    const key = JSON.stringify(ship.route_line);
    if (drawn.has(key)) continue;
    drawn.add(key);
    const d = ship.route_line.map((p, i) => (i ? "L" : "M") + proj(p).map(v => v.toFixed(1)).join(" ")).join(" ");
    svg.append(el("svg:path", { d, fill: "none", stroke: "#cbd5e0", "stroke-width": 10,
                                "stroke-linecap": "round", "stroke-linejoin": "round", class: "corridor" }));
    svg.append(el("svg:path", { d, fill: "none", stroke: "#4a5568", "stroke-width": 1.5, class: "route" }));
  }
  const live = ships.filter(x => x.state !== "delivered").slice(0, 40);
  for (const ship of live) {
    const st = await api("/v1/shipments/" + encodeURIComponent(ship.shipment_id));
    if (st.last_lat === null) continue;
    const [x, y] = proj([st.last_lat, st.last_lon]);
    const colour = { clean: "#38a169", review: "#d69e2e", broken: "#c53030" }[st.verdict];
    const dot = el("svg:circle", { cx: x, cy: y, r: 5, fill: colour, class: "truck", "data-verdict": st.verdict });
    dot.append(el("svg:title", {}, ship.shipment_id + " " + st.state + " " + st.verdict));
    svg.append(dot);
  }
}

function showAlert(a) {
  let tr = seenAlerts.get(a.alert_id);
  const fresh = !tr;
  if (fresh) { tr = el("tr"); seenAlerts.set(a.alert_id, tr); }
  tr.className = a.severity + (a.acked_at ? " acked" : "");
  tr.dataset.alertId = a.alert_id;
  tr.replaceChildren(el("td", {}, a.kind), el("td", {}, a.shipment_id || "-"),
                     el("td", {}, a.detail.slice(0, 90)));
  const cell = el("td");
  if (a.acked_at) cell.textContent = "acked";
  else {
    const b = el("button", { class: "ack" }, "ack");
    b.onclick = async () => {
      const comment = prompt("Acknowledge " + a.kind + ": comment");
      if (!comment) return;
      const ack = await api("/v1/alerts/" + encodeURIComponent(a.alert_id) + "/ack", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ comment }) });
      showAlert(Object.assign({}, a, { acked_at: ack.acked_at }));
    };
    cell.append(b);
  }
  tr.append(cell);
  if (fresh) $("alerts").prepend(tr);
}

async function streamAlerts() {
  // one stream at a time; it ends after wait_s and is reopened from the last event id
  while (token) {
    try {
      const r = await fetch("/v1/alerts/stream?wait_s=25", { headers: {
        Authorization: "Bearer " + token, "Last-Event-ID": String(lastEventId) } });
      if (!r.ok) { status("alert stream: " + r.status); await sleep(5000); continue; }
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const fields = {};
          for (const line of block.split("\n")) {
            const i = line.indexOf(": ");
            if (i > 0 && !line.startsWith(":")) fields[line.slice(0, i)] = line.slice(i + 2);
          }
          if (fields.id && fields.data) {
            lastEventId = Math.max(lastEventId, Number(fields.id));
            showAlert(JSON.parse(fields.data));
          }
        }
      }
    } catch (e) { status("alert stream: " + e.message); await sleep(3000); }
  }
}

function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }

async function refresh() {
  try {
    await Promise.all([refreshStats(), refreshMap()]);
    status("connected, updated " + new Date().toISOString().slice(11, 19) + " UTC");
  } catch (e) { status(e.message); }
}

function connect() {
  token = $("token").value.trim() || token;
  if (!token) return;
  sessionStorage.setItem("portwatch-token", token);
  $("token").value = "";
  refresh();
  streamAlerts();
  setInterval(refresh, 15000);
}

$("connect").onclick = connect;
if (token) connect();
