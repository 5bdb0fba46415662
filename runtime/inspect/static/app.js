// wsgw inspector: plain JavaScript, no dependencies, served from the binary.
"use strict";

const $ = (id) => document.getElementById(id);
const H = { "X-Wsgw-Inspector": "1" };
let selected = null;       // connection id shown
let selectedClosed = false;
let shown = new Set();     // seqs in the timeline

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

async function loadStages() {
  const stages = await getJSON("api/stages");
  const box = $("stages");
  box.replaceChildren();
  for (const s of stages) {
    const d = el("div", "stage");
    d.append(el("div", null, s.api + " stage " + s.stage));
    d.append(el("div", "url mono", s.webSocketUrl));
    d.append(el("div", "url mono", s.connectionsUrl));
    d.append(el("div", "url", "route selection " + s.routeSelectionExpression));
    const t = el("table");
    for (const r of s.routes) {
      const tr = el("tr");
      tr.append(el("td", "key mono", r.key));
      const d2 = el("td");
      d2.append(el("span", null, r.integration ? r.integration + " " + r.type + " " : "no integration "));
      d2.append(el("span", "note", [r.target === "-" ? "" : r.target, r.notes].filter(Boolean).join("; ")));
      tr.append(d2);
      t.append(tr);
    }
    d.append(t);
    box.append(d);
  }
}

function connItem(c, closed) {
  const li = el("li");
  li.dataset.id = c.connectionId;
  li.append(el("div", "mono", c.connectionId));
  let sub = c.api + " / " + c.stage + " · " + c.sourceIp + " · " + c.events + " events";
  if (closed) sub = (c.refused ? "refused " + c.code : "closed " + c.code + (c.reason ? " " + c.reason : "")) + " · " + sub;
  li.append(el("div", "sub", sub));
  if (c.connectionId === selected) li.classList.add("selected");
  li.addEventListener("click", () => select(c.connectionId, closed, c));
  return li;
}

let refreshing = false, again = false;
async function refreshConnections() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const [live, closed] = await Promise.all([getJSON("api/connections"), getJSON("api/closed")]);
    $("live-count").textContent = String(live.length);
    $("connections").replaceChildren(...live.map((c) => connItem(c, false)));
    $("closed").replaceChildren(...closed.map((c) => connItem(c, true)));
    if (selected) {
      const c = live.find((c) => c.connectionId === selected) || closed.find((c) => c.connectionId === selected);
      setState(!live.some((c) => c.connectionId === selected));
      if (c && !$("conn-meta").textContent) $("conn-meta").textContent = meta(c);
    } else if (live.length > 0) {
      // Nothing chosen yet: follow the newest connection.
      const c = live[live.length - 1];
      select(c.connectionId, false, c);
    }
  } finally {
    refreshing = false;
    if (again) { again = false; refreshConnections(); }
  }
}

function setState(closed) {
  selectedClosed = closed;
  const b = $("conn-state");
  b.textContent = closed ? "closed" : "open";
  b.className = "badge" + (closed ? " closed" : "");
  $("disconnect").disabled = closed;
  $("send").disabled = closed;
}

async function select(id, closed, c) {
  selected = id;
  shown = new Set();
  $("empty").hidden = true;
  $("detail").hidden = false;
  $("conn-id").textContent = id;
  $("conn-meta").textContent = c ? meta(c) : "";
  $("send-result").textContent = "";
  setState(closed);
  for (const li of document.querySelectorAll(".conns li")) li.classList.toggle("selected", li.dataset.id === id);
  // The old timeline (or the one the server rendered) stays until the new
  // one is here.
  const events = await getJSON("api/connections/" + encodeURIComponent(id) + "/events");
  if (selected !== id) return;
  shown = new Set();
  $("timeline").replaceChildren(...events.map(eventItem));
}

function meta(c) {
  return c.api + " stage " + c.stage + " · from " + c.sourceIp + (c.userAgent ? " · " + c.userAgent : "") + " · connected " + c.connectedAt;
}

function bodyText(ev) {
  if (ev.body !== undefined) return ev.body;
  if (ev.bodyBase64) return "(binary, base64) " + ev.bodyBase64;
  return null;
}

function describe(ev) {
  const parts = [];
  switch (ev.type) {
    case "connect": parts.push(ev.method + " " + ev.url, "from " + ev.sourceIp); break;
    case "connected": parts.push(ev.status === 101 ? "101 open" : "refused " + ev.status); break;
    case "route": parts.push(ev.why); break;
    case "integration.request": parts.push((ev.integration || "") + " " + (ev.method || "") + " " + (ev.url || "")); break;
    case "integration.response": parts.push((ev.integration || "") + " " + (ev.status || "")); break;
    case "management": parts.push("@connections " + ev.method + " → " + ev.status); break;
    case "error": parts.push(ev.status ? String(ev.status) : ""); break;
    case "disconnect": parts.push("code " + ev.code + (ev.reason ? " " + JSON.stringify(ev.reason) : "") + (ev.by ? " by " + ev.by : "")); break;
  }
  if (ev.route && ev.type !== "route") parts.push("route " + ev.route);
  if (ev.latencyMs !== undefined) parts.push(ev.latencyMs + " ms");
  if (ev.size !== undefined) parts.push(ev.size + " bytes" + (ev.truncated ? " (cut)" : ""));
  if (ev.error) parts.push(ev.error);
  return parts.filter(Boolean).join(" · ");
}

function addEvent(ev) {
  if (shown.has(ev.seq)) return;
  $("timeline").append(eventItem(ev));
}

function eventItem(ev) {
  shown.add(ev.seq);
  const li = el("li", "k-" + ev.type.replace(".", "-"));
  li.dataset.type = ev.type;
  const head = el("div", "head");
  head.append(el("span", "t mono", ev.time.slice(11, 23)));
  head.append(el("span", "kind", ev.type));
  head.append(el("span", "info", describe(ev)));
  if (ev.type === "message" && !ev.truncated) {
    const b = el("button", "secondary", "Replay");
    b.type = "button";
    b.title = "send this message to the gateway again, as if the client had sent it";
    b.addEventListener("click", () => act("replay?seq=" + ev.seq, null, "replayed"));
    head.append(b);
  }
  li.append(head);
  const body = bodyText(ev);
  if (body !== null && body !== "") li.append(el("pre", null, body));
  if (ev.headers && ev.type === "integration.request") {
    const lines = Object.entries(ev.headers).map(([k, v]) => k + ": " + v.join(", "));
    li.append(el("pre", "headers", lines.join("\n")));
  }
  return li;
}

async function act(path, body, done) {
  if (!selected) return;
  const r = await fetch("api/connections/" + encodeURIComponent(selected) + "/" + path, { method: "POST", headers: H, body });
  let text = r.ok ? done : r.status + "";
  if (!r.ok) { try { text += " " + (await r.json()).message; } catch (e) { /* keep the status */ } }
  $("send-result").textContent = text;
  refreshConnections();
  if (selected) refreshTimeline();
  return r.ok;
}

$("disconnect").addEventListener("click", () => act("disconnect", null, "disconnected"));
$("send-form").addEventListener("submit", (e) => {
  e.preventDefault();
  act("send", $("send-body").value, "sent");
});

// The page polls rather than holds a stream open: a page with a request
// that never ends never settles for a browser that only renders it
// (chromium --dump-dom --virtual-time-budget waits for the network to be
// idle). Scripts that want every event use /api/stream.
const POLL_MS = 1000;

async function refreshTimeline() {
  const id = selected;
  const r = await fetch("api/connections/" + encodeURIComponent(id) + "/events", { cache: "no-store" });
  if (!r.ok || selected !== id) return;
  for (const ev of await r.json()) addEvent(ev);
}

async function poll() {
  try {
    await refreshConnections();
    if (selected) await refreshTimeline();
    $("status").textContent = "live";
    $("status").className = "status live";
  } catch (e) {
    $("status").textContent = "reconnecting…";
    $("status").className = "status";
  }
  setTimeout(poll, POLL_MS);
}

loadStages().catch((e) => { $("stages").textContent = String(e); });
if (document.body.dataset.selected) select(document.body.dataset.selected, false, null);
poll();
