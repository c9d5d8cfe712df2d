// The Dreamwave page: gmcp.mudstandards.org over one WebSocket. Server text is only ever
// put in the page as text nodes (textContent), never as HTML.
import { ansiSegments, freshState, linkify, PAGE } from "/ansi.js";

const MAX_LINES = 2000; // scrollback: older lines are removed
const HISTORY = 100;
const CHANNEL_LINES = 200; // the channel panel keeps this many lines (all channels)
const PANEL_LINES = 50; // ... and the woven lines of a loop this many
const CLOCK_TICK_MS = 1000; // how often the clock panel moves on between the server's updates
// a line that carries a password never goes into the input history (this browser keeps it)
const SECRET_LINE = /^\s*(?:(?:connect|create)\s+\S+\s+\S|(?:password|passwd)\s+\S)/i;
const $ = (id) => document.getElementById(id);
const out = $("output"), cmd = $("cmd"), pw = $("pw"), below = $("below");
const store = {
  get: (k, d) => { try { const v = localStorage.getItem("dw." + k); return v === null ? d : JSON.parse(v); } catch { return d; } },
  set: (k, v) => { try { localStorage.setItem("dw." + k, JSON.stringify(v)); } catch { /* private mode */ } },
};
let ws = null, state = freshState(), line = null, pending = "";
let resumeToken = sessionStorage.getItem("dw.resume");
let history = keepable(store.get("history", [])), hpos = history.length, echoHidden = false, retry = 0;
store.set("history", history); // (what an older page stored with a password in it is gone)
let follow = true; // the reader is at the end of the story: keep them there
const decoder = new TextDecoder();

function keepable(lines) {
  return Array.isArray(lines) ? lines.filter((l) => typeof l === "string" && !SECRET_LINE.test(l)) : [];
}

function atBottom() { return out.scrollHeight - out.scrollTop - out.clientHeight < 30; }
function toBottom() { out.scrollTop = out.scrollHeight; below.hidden = true; follow = true; }

function newLine() {
  line = document.createElement("div");
  line.className = "line";
  out.appendChild(line);
  while (out.childElementCount > MAX_LINES) out.firstElementChild.remove();
}

function addText(text) {
  const stick = follow || atBottom();
  const parts = (pending + text).replace(/\r/g, "").split("\n");
  pending = "";
  parts.forEach((part, i) => {
    if (i > 0 || line === null) newLine();
    for (const seg of ansiSegments(part, state, pageBg())) {
      const span = document.createElement("span");
      if (seg.fg) span.style.color = seg.fg;
      if (seg.bg) span.style.backgroundColor = seg.bg;
      if (seg.bold) span.style.fontWeight = "bold";
      if (seg.underline) span.style.textDecoration = "underline";
      if (seg.italic) span.style.fontStyle = "italic";
      for (const piece of linkify(seg.text)) {
        if (piece.url) {
          const a = document.createElement("a");
          a.href = piece.url; a.textContent = piece.url; a.rel = "noopener noreferrer"; a.target = "_blank";
          span.appendChild(a);
        } else span.appendChild(document.createTextNode(piece.text));
      }
      line.appendChild(span);
    }
  });
  if (stick) toBottom(); else below.hidden = false;
}

out.addEventListener("scroll", () => { follow = atBottom(); if (follow) below.hidden = true; });
below.addEventListener("click", () => { toBottom(); cmd.focus(); });
// the box changed size (a phone turned, a window resized, bigger text): a reader who was
// following the story still is, and the server wraps at the new width
new ResizeObserver(() => { if (follow) toBottom(); sendCols(); }).observe(out);

function sendLine(text) { if (ws && ws.readyState === 1) ws.send(new TextEncoder().encode(text + "\n")); }
function sendGmcp(pkg, data) { if (ws && ws.readyState === 1) ws.send(pkg + " " + JSON.stringify(data)); }
function cols() {
  // the width of the output in characters of its own font, so the server wraps where we do
  const probe = document.createElement("span");
  probe.textContent = "M".repeat(20);
  probe.setAttribute("aria-hidden", "true");
  out.appendChild(probe);
  const ch = probe.getBoundingClientRect().width / 20 || 9;
  probe.remove();
  const inner = out.clientWidth - 26; // (padding, scrollbar)
  return Math.max(20, Math.min(250, Math.floor(inner / ch) || 80));
}

let sentCols = 0;
function sendCols() {
  const n = cols();
  if (n !== sentCols && ws && ws.readyState === 1) { sentCols = n; sendGmcp("Dreamwave.Client", { cols: n }); }
}
function pageBg() { return document.body.classList.contains("contrast") ? PAGE.contrast : PAGE.normal; }

function setEcho(hidden) {
  echoHidden = hidden;
  pw.hidden = !hidden; cmd.hidden = hidden;
  (hidden ? pw : cmd).focus();
}

function hereItem(name) {
  return [...$("here").children].find((li) => li.dataset.name === name);
}
function addHere(who) {  // a dreamer (or an NPC, said in words: never by colour alone)
  const li = document.createElement("li");
  li.dataset.name = who.name;
  li.textContent = who.npc ? `${who.name} (character)` : who.name;
  $("here").appendChild(li);
}

const panels = {
  "Room.Info"(d) {
    $("room-name").textContent = d.name || "—";
    $("room-area").textContent = d.area || "";
    const nav = $("exits"); nav.replaceChildren();
    for (const name of Object.keys(d.exits || {})) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = name; b.className = "exit";
      b.addEventListener("click", () => { sendLine(name); cmd.focus(); });
      nav.appendChild(b);
    }
  },
  // logged in: ask which channels there are (the engine sends the list when asked)
  "Char.Name"() { if (ws && ws.readyState === 1) ws.send("Comm.Channel.List"); },
  "Room.Players"(list) {
    const ul = $("here"); ul.replaceChildren();
    for (const who of list || []) addHere(who);
  },
  "Room.AddPlayer"(who) { if (who && !hereItem(who.name)) addHere(who); },
  "Room.RemovePlayer"(who) { const li = who && hereItem(who.name); if (li) li.remove(); },
  "Dreamwave.Status"(d) {
    // the account's settings win over what this browser remembered (e.g. set by telnet)
    if (typeof d.screenreader === "boolean") mirror("t-reader", "reader", d.screenreader);
    if (typeof d.brief === "boolean") mirror("t-brief", "brief", d.brief);
    $("dream-state").textContent = d.state || "—";
    $("dream-owner").textContent = d.dream ? `In ${d.dream.owner}'s dream` : "";
    const loop = d.loop;
    $("loop").hidden = !loop;
    if (loop) {
      $("loop-who").textContent = "Loop: " + loop.participants.join(", ");
      const s = Math.round(Number(loop.stability) || 0);
      $("loop-stability").value = s; $("loop-value").textContent = s + "%";
    }
    if (d.clock) setClock(d.clock);
  },
  "Comm.Channel.List"(list) {
    const tabs = $("tabs"); tabs.replaceChildren();
    for (const ch of [{ name: "", caption: "Every channel" }, ...(list || [])]) {
      const b = document.createElement("button");
      b.type = "button"; b.setAttribute("role", "tab"); b.setAttribute("aria-controls", "chan-lines");
      b.dataset.channel = ch.name;
      b.textContent = ch.name || "all"; b.title = ch.caption || "";
      // shows that channel's lines in the panel: nothing is typed or sent
      b.addEventListener("click", () => { chanShown = ch.name; showChannels(); });
      tabs.appendChild(b);
    }
    showChannels();
  },
  "Comm.Channel.Text"(d) {
    if (!d || typeof d.text !== "string") return;
    if (d.channel === "weave") {  // the loop's woven lines have their own list
      const li = document.createElement("li");
      li.textContent = d.text;
      $("woven").appendChild(li);
      while ($("woven").childElementCount > PANEL_LINES) $("woven").firstElementChild.remove();
      return;
    }
    chanLines.push({ channel: d.channel, text: d.text }); // (the text is the line as heard)
    if (chanLines.length > CHANNEL_LINES) chanLines.shift();
    showChannels();
  },
  "Dreamwave.Echo"(d) { setEcho(!!d.hidden); },
  // first on every socket: a resumed one carries on, a new one starts at the login screen
  "Dreamwave.Session"(d) { if (d && d.resumed) $("panels").removeAttribute("aria-busy"); else clearPanels(); },
  "Dreamwave.Resume"(d) { resumeToken = d.token; sessionStorage.setItem("dw.resume", d.token); },
};

let chanLines = [], chanShown = "";
function showChannels() {
  for (const b of $("tabs").children) b.setAttribute("aria-selected", String(b.dataset.channel === chanShown));
  const ol = $("chan-lines");
  ol.replaceChildren(...chanLines.filter((l) => !chanShown || l.channel === chanShown).map((l) => {
    const li = document.createElement("li"); li.textContent = l.text; return li;
  }));
  ol.scrollTop = ol.scrollHeight;
}

// The clock panel runs on from the server's last reading (its game seconds and their
// speed), so it is not stuck at the time of the last move.
let clock = null, clockTimer = null;
function setClock(c) {
  clock = { ...c, at: performance.now() };
  showClock();
  clearInterval(clockTimer);
  clockTimer = typeof c.seconds === "number" && c.rate > 0 ? setInterval(showClock, CLOCK_TICK_MS) : null;
}
function showClock() {
  let { day, time, phase } = clock;
  if (clockTimer !== null) {
    const t = clock.seconds + clock.rate * (performance.now() - clock.at) / 1000;
    const minute = Math.floor(t / 60);
    day = Math.floor(minute / 1440) + 1;
    const hour = Math.floor(minute / 60) % 24;
    time = `${String(hour).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
    for (const [start, key] of clock.phases || []) if (hour >= start) phase = key;
  }
  $("clock").textContent = `Day ${day}, ${time} (${phase})`;
}

// Nothing of a dreamer stays on the page once they are gone (quit, booted, a restart).
function clearPanels() {
  $("panels").removeAttribute("aria-busy");
  $("room-name").textContent = "—"; $("room-area").textContent = "";
  for (const id of ["exits", "here", "woven", "tabs", "chan-lines"]) $(id).replaceChildren();
  $("dream-state").textContent = "—"; $("dream-owner").textContent = ""; $("loop").hidden = true;
  clearInterval(clockTimer); clock = clockTimer = null; $("clock").textContent = "—";
  chanLines = []; chanShown = "";
}

function onGmcp(text) {
  const sp = text.indexOf(" ");
  const pkg = sp < 0 ? text : text.slice(0, sp);
  let data = null;
  try { data = sp < 0 ? null : JSON.parse(text.slice(sp + 1)); } catch { return; }
  const f = panels[pkg];
  if (f) f(data);
}

function connect() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  $("status").textContent = "connecting…";
  ws = new WebSocket(url, ["gmcp.mudstandards.org"]);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    retry = 0;
    $("status").textContent = "connected";
    sentCols = cols();
    ws.send("Dreamwave.Client " + JSON.stringify({ cols: sentCols, screenreader: !!store.get("reader", false), resume: resumeToken }));
    resumeToken = null; sessionStorage.removeItem("dw.resume");
    sendGmcp("Core.Hello", { client: "Dreamwave web", version: "1" });
    sendGmcp("Core.Supports.Set", ["Char 1", "Room 1", "Comm.Channel 1", "Dreamwave 1"]);
    cmd.focus();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") onGmcp(ev.data);
    else addText(decoder.decode(ev.data, { stream: true }));
  };
  ws.onclose = (ev) => {
    $("status").textContent = ev.reason ? `disconnected: ${ev.reason}` : "disconnected";
    if (ev.code === 1000 && !resumeToken) {
      clearPanels();
      addText("\n(Disconnected. Reload the page to play again.)\n"); return;
    }
    $("panels").setAttribute("aria-busy", "true"); // until the next socket says if it resumed
    const wait = Math.min(10000, 500 * 2 ** retry++);
    $("status").textContent += ` — reconnecting in ${Math.round(wait / 1000)} s`;
    setTimeout(connect, wait);
  };
}

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (echoHidden) { sendLine(pw.value); pw.value = ""; return; }
  const text = cmd.value;
  addText(text + "\n");
  sendLine(text);
  if (text.trim() && history[history.length - 1] !== text && !SECRET_LINE.test(text)) {
    history.push(text); history = history.slice(-HISTORY); store.set("history", history);
  }
  hpos = history.length; cmd.value = "";
});
cmd.addEventListener("keydown", (ev) => {
  if (ev.key === "ArrowUp" && hpos > 0) { cmd.value = history[--hpos]; ev.preventDefault(); }
  else if (ev.key === "ArrowDown") { hpos = Math.min(history.length, hpos + 1); cmd.value = history[hpos] || ""; ev.preventDefault(); }
});

document.querySelectorAll(".panels h2 button").forEach((b) => {
  const body = b.closest("section").querySelector(".body");
  const key = "panel." + b.id;
  const set = (open) => { b.setAttribute("aria-expanded", String(open)); body.hidden = !open; };
  set(store.get(key, true));
  b.addEventListener("click", () => { const open = b.getAttribute("aria-expanded") !== "true"; set(open); store.set(key, open); });
});

const mirrors = {};  // id -> show a toggle's state without sending it back
function mirror(id, key, on) {
  store.set(key, on);
  if (mirrors[id]) mirrors[id](on);
}

function toggle(id, key, onChange) {
  const b = $(id);
  const set = (on) => { b.setAttribute("aria-pressed", String(on)); onChange(on, false); };
  b.setAttribute("aria-pressed", String(!!store.get(key, false)));
  onChange(!!store.get(key, false), true);
  b.addEventListener("click", () => { const on = b.getAttribute("aria-pressed") !== "true"; store.set(key, on); set(on); cmd.focus(); });
  mirrors[id] = (on) => { b.setAttribute("aria-pressed", String(on)); onChange(on, true); };
}
toggle("t-reader", "reader", (on, first) => {
  document.body.classList.toggle("reader", on);
  if (!first) { sendGmcp("Dreamwave.Client", { screenreader: on }); sendLine("config screenreader " + (on ? "on" : "off")); }
});
toggle("t-brief", "brief", (on, first) => { if (!first) sendLine("config brief " + (on ? "on" : "off")); });
toggle("t-contrast", "contrast", (on) => document.body.classList.toggle("contrast", on));
let size = store.get("font", 15);
const applySize = () => { document.documentElement.style.setProperty("--font", size + "px"); sendCols(); };
applySize();
$("t-smaller").addEventListener("click", () => { size = Math.max(10, size - 1); store.set("font", size); applySize(); });
$("t-bigger").addEventListener("click", () => { size = Math.min(28, size + 1); store.set("font", size); applySize(); });
document.addEventListener("keydown", (ev) => {
  if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey && document.activeElement === document.body) (echoHidden ? pw : cmd).focus();
});
connect();
