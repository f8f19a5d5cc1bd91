// The collaborative-cursors demo: everyone in a room sees the others' pointers move live.
//
// One socket on namespace "/" and one room of the rooms convention (ROOMS.md), chosen by the
// URL hash (#lobby when there is none):
//
//   room.join({ name, color })               presence: who is here, by what name, in what colour
//                                            (joining again with new meta updates it for others)
//   room.volatile.emit("cursor", { x, y })   at most once per animation frame, the position as a
//                                            fraction (0..1) of the viewport; null when the
//                                            pointer leaves the page
//
// Everything that came from the network or the user goes into the page as text (textContent)
// or as a checked colour, never through innerHTML.
//
// `?transport=sse` or `?transport=ws` runs the same page over rtio's SSE or plain-WebSocket mode
// (MODES.md) against the server's /sse or /ws endpoints, which share the rooms with Socket.IO:
// the room handle and its presence are the same API on all three. Socket.IO starts on
// long-polling and upgrades to WebSocket; `?transports=polling` or `?transports=websocket`
// keeps it on one.
//
// For tests: `window.__demo` ({ socket, room, roomName, transport }), the events `rtio-demo:sent`
// ({ x, y } or null, on each cursor emit) and `rtio-demo:cursor` ({ id, x, y }, on each cursor
// received) on window, `#status[data-state]`, and `[data-member-id]` on the presence list's
// items and on the cursors.

const TRANSPORT = new URLSearchParams(location.search).get("transport") || "socketio";
// `?shared=1`: the tabs of this browser share one Socket.IO connection (rtio's `shared`).
const SHARED = TRANSPORT == "socketio" && new URLSearchParams(location.search).get("shared") == "1";

const DEFAULT_ROOM = "lobby";
const ME_KEY = "rtio-cursors-me";
const NAME_MAX = 40;
const EDIT_DELAY_MS = 400;
// Fraction of the remaining distance a cursor covers in 1/60 s: smooth, and caught up in ~100 ms.
const SMOOTHING = 0.35;

const COLORS = ["#e5484d", "#f76b15", "#ad7f00", "#30a46c", "#12a594", "#0090ff", "#3e63dd", "#8e4ec6", "#d6409f", "#6e56cf"];
const ADJECTIVES = ["Brave", "Calm", "Clever", "Eager", "Gentle", "Happy", "Jolly", "Kind", "Lively", "Lucky", "Nimble", "Proud", "Quick", "Quiet", "Sunny", "Witty"];
const ANIMALS = ["Badger", "Crane", "Dolphin", "Falcon", "Fox", "Heron", "Koala", "Lynx", "Marmot", "Otter", "Panda", "Puffin", "Raven", "Seal", "Tiger", "Wombat"];

const $ = (id) => document.getElementById(id);
const statusEl = $("status");
const roomNameEl = $("room-name");
const roomErrorEl = $("room-error");
const roomForm = $("room-form");
const roomInput = $("room-input");
const shareInput = $("share-url");
const copyButton = $("copy");
const meForm = $("me");
const nameInput = $("name");
const colorInput = $("color");
const countEl = $("count");
const membersEl = $("members");
const cursorsEl = $("cursors");

// ---------------------------------------------------------------------------------------------
// Who I am: a random name and colour the first time, then what was saved.

/** The members of the current room: id → { id, name, color, item, cursor }. */
const members = new Map();
const me = loadMe();
nameInput.value = me.name;
colorInput.value = me.color;

function cleanName(value) {
  return String(value ?? "").replace(/\s+/g, " ").trim().slice(0, NAME_MAX);
}

function cleanColor(value) {
  return typeof value === "string" && /^#[0-9a-f]{6}$/i.test(value) ? value.toLowerCase() : null;
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function loadMe() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(ME_KEY));
  } catch {
    // unreadable or unavailable storage: start afresh
  }
  const name = cleanName(saved?.name) || `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
  const color = cleanColor(saved?.color) || pick(COLORS);
  const fresh = { name, color };
  saveMe(fresh);
  return fresh;
}

function saveMe(value) {
  try {
    localStorage.setItem(ME_KEY, JSON.stringify(value));
  } catch {
    // Storage can be unavailable (private mode, disabled cookies): the choice is just not kept.
  }
}

// With cookie sessions (rtio-server's default), the name the others see is the session's: the
// page sets it here, and the server puts it in every join's meta, whatever the join says. A
// server without sessions answers 404, and the meta's name is shown as it is.
async function claimName(name) {
  try {
    const r = await fetch("/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (r.ok) return cleanName((await r.json()).name) || name;
  } catch {
    // offline, or no such endpoint: the name stays the page's
  }
  return name;
}
me.name = await claimName(me.name);
nameInput.value = me.name;

let editTimer = 0;
let naming = Promise.resolve();
function editMe(now) {
  clearTimeout(editTimer);
  if (!now) {
    editTimer = setTimeout(() => editMe(true), EDIT_DELAY_MS);
    return;
  }
  const name = cleanName(nameInput.value) || me.name;
  const color = cleanColor(colorInput.value) || me.color;
  if (name === me.name && color === me.color) return;
  const renamed = name !== me.name;
  me.name = name;
  me.color = color;
  saveMe(me);
  if (socket.id && members.has(socket.id)) upsertMember({ id: socket.id, meta: { ...me } });
  const room = current?.room;
  // The session's name first, then the join that shows it.
  naming = naming
    .then(() => renamed && claimName(name))
    .then(() => room && current?.room === room && room.join(joinMeta()))
    .catch((err) => showRoomError(err));
}

nameInput.addEventListener("input", () => editMe(false));
nameInput.addEventListener("change", () => {
  editMe(true);
  nameInput.value = me.name;
});
colorInput.addEventListener("input", () => editMe(false));
colorInput.addEventListener("change", () => editMe(true));
meForm.addEventListener("submit", (event) => {
  event.preventDefault();
  editMe(true);
  nameInput.value = me.name;
});

// ---------------------------------------------------------------------------------------------
// Connection status: connected, connecting, reconnecting, offline, disconnected.

/** The client of the chosen transport: one module, and one wasm, is downloaded. */
async function connect(transport) {
  if (transport === "sse") return (await import("/pkg/sse.js")).sse("/sse", { pingTimeout: 40000 });
  if (transport === "ws") return (await import("/pkg/ws.js")).ws("/ws");
  // Socket.IO: long-polling, then the upgrade to WebSocket; `?transports=polling` or
  // `?transports=websocket` keeps to one (socket.io's option, comma-separated). A visitor who
  // closes the page leaves at once, even on long-polling behind a proxy.
  const transports = new URLSearchParams(location.search).get("transports")?.split(",");
  return (await import("/pkg/index.js")).io({ closeOnBeforeunload: true, ...(transports && { transports }), ...(SHARED && { shared: true }) });
}
const socket = await connect(TRANSPORT).catch((err) => {
  statusEl.textContent = "package not built";
  statusEl.dataset.state = "error";
  statusEl.title = `Could not load the package from /pkg/ (${err.message}): run bash tools/build.sh, then reload.`;
  throw err;
});
// Socket.IO reports reconnection on its Manager, the other modes on the client itself.
const manager = socket.io?.on ? socket.io : socket;
let everConnected = false;
let lastError = "";

function updateStatus() {
  let state;
  if (!navigator.onLine) state = "offline";
  else if (socket.connected) state = "connected";
  else if (everConnected && socket.active !== false) state = "reconnecting";
  else if (socket.active !== false) state = "connecting";
  else state = "disconnected";
  statusEl.dataset.state = state;
  // Shared: how many tabs use the connection.
  const tabs = SHARED && socket.io.tabs;
  statusEl.textContent = tabs ? `${state} · ${tabs} tab${tabs == 1 ? "" : "s"}` : state;
  statusEl.title = state === "connected" ? `socket ${socket.id}` : lastError;
}

socket.on("connect", () => {
  everConnected = true;
  lastError = "";
  updateStatus();
});
socket.on("disconnect", (reason) => {
  lastError = `disconnected: ${reason}`;
  updateStatus();
});
socket.on("connect_error", (err) => {
  lastError = `connection error: ${err?.message ?? err}`;
  updateStatus();
});
manager.on("reconnect_attempt", updateStatus);
if (SHARED) manager.on("tabs", updateStatus);
manager.on("reconnect_failed", updateStatus);
window.addEventListener("online", updateStatus);
window.addEventListener("offline", updateStatus);
updateStatus();

// ---------------------------------------------------------------------------------------------
// The room: the URL hash names it; a new hash leaves the old room and joins the new one.

let current = null; // { name, room }: room is null when the join was refused
let switching = Promise.resolve();

function roomFromHash() {
  let name = location.hash.slice(1);
  try {
    name = decodeURIComponent(name);
  } catch {
    // a malformed escape: use the text as it is
  }
  return name.trim().slice(0, 128) || DEFAULT_ROOM;
}

function switchRoom() {
  const name = roomFromHash();
  switching = switching.then(() => enterRoom(name)).catch((err) => showRoomError(err));
}

async function enterRoom(name) {
  if (current?.name === name) return;
  const old = current;
  current = null;
  clearMembers();
  // Not awaited: while offline the answer waits for the reconnection, the new room need not.
  if (old?.room) old.room.leave();

  roomNameEl.textContent = name;
  roomInput.value = "";
  roomInput.placeholder = name;
  shareInput.value = location.href;
  document.title = `${name} · rtio cursors`;
  showRoomError(null);

  const room = socket.room(name);
  current = { name, room };
  const here = () => current?.room === room;
  room.presence.on("sync", (list) => here() && syncMembers(list));
  room.presence.on("join", (member) => {
    if (!here()) return;
    upsertMember(member);
    // Show the newcomer where this pointer is now, without waiting for it to move.
    if (lastPos) sendSoon(lastPos);
  });
  room.presence.on("update", (member) => here() && upsertMember(member));
  room.presence.on("leave", (member) => here() && removeMember(member.id));
  room.presence.on("error", (err) => {
    // A re-join after a reconnection was refused: the room is gone.
    if (!here()) return;
    current.room = null;
    clearMembers();
    showRoomError(err);
  });
  room.on("cursor", (pos, from) => here() && moveCursor(from?.id, pos));

  try {
    const list = await room.join(joinMeta());
    if (here()) syncMembers(list);
  } catch (err) {
    if (!here()) return;
    current.room = null;
    showRoomError(err);
  }
}

function showRoomError(err) {
  roomErrorEl.hidden = !err;
  roomErrorEl.textContent = err ? `cannot join: ${err.message ?? err}` : "";
}

window.addEventListener("hashchange", switchRoom);
roomForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = roomInput.value.trim();
  if (name) location.hash = encodeURIComponent(name);
});
copyButton.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(shareInput.value);
  } catch {
    // no clipboard access (plain http on another host): select it for the user to copy
    shareInput.select();
    document.execCommand?.("copy");
  }
  copyButton.textContent = "copied";
  setTimeout(() => (copyButton.textContent = "copy"), 1500);
});

switchRoom();

// ---------------------------------------------------------------------------------------------
// Members: the presence list and their cursors.

// What this tab joins with. Shared, it asks for the number of tabs behind its member (`tabs`,
// kept up to date by rtio).
function joinMeta() {
  return SHARED ? { ...me, tabs: 0 } : { ...me };
}

function describe(meta) {
  return {
    name: cleanName(meta?.name) || "anonymous",
    color: cleanColor(meta?.color) || "#808080",
  };
}

// Black or white, whichever reads better on `color`.
function inkFor(color) {
  const n = parseInt(color.slice(1), 16);
  const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255];
  return 0.299 * r + 0.587 * g + 0.114 * b > 160 ? "#111" : "#fff";
}

function upsertMember({ id, meta }) {
  if (typeof id !== "string") return;
  const { name, color } = describe(meta);
  let m = members.get(id);
  if (!m) {
    const item = document.createElement("li");
    item.dataset.memberId = id;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    const label = document.createElement("span");
    label.className = "member-name";
    item.append(swatch, label);
    m = { id, item, cursor: null };
    members.set(id, m);
    if (id === socket.id) {
      item.dataset.self = "";
      const you = document.createElement("span");
      you.className = "you";
      you.textContent = "you";
      item.append(you);
      membersEl.prepend(item);
    } else {
      membersEl.append(item);
    }
  }
  m.name = name;
  m.color = color;
  m.item.style.setProperty("--c", color);
  m.item.querySelector(".member-name").textContent = name;
  // Another member whose tabs share its connection: how many (this tab's status says its own).
  const tabs = id !== socket.id && Number.isInteger(meta?.tabs) && meta.tabs > 1 ? `${meta.tabs} tabs` : "";
  let tabsEl = m.item.querySelector(".tabs");
  if (tabs && !tabsEl) {
    tabsEl = document.createElement("span");
    tabsEl.className = "tabs";
    m.item.querySelector(".member-name").after(tabsEl);
  }
  if (tabsEl) tabsEl.textContent = tabs;
  if (m.cursor) paintCursor(m);
  countEl.textContent = `(${members.size})`;
}

function removeMember(id) {
  const m = members.get(id);
  if (!m) return;
  members.delete(id);
  m.item.remove();
  m.cursor?.el.remove();
  countEl.textContent = `(${members.size})`;
}

function syncMembers(list) {
  if (!Array.isArray(list)) return;
  const ids = new Set(list.map((x) => x?.id));
  for (const id of [...members.keys()]) if (!ids.has(id)) removeMember(id);
  for (const member of list) if (member) upsertMember(member);
}

function clearMembers() {
  for (const id of [...members.keys()]) removeMember(id);
  countEl.textContent = "";
}

// ---------------------------------------------------------------------------------------------
// Cursors: drawn where the others' pointers are, easing toward each new position.

const SVG = "http://www.w3.org/2000/svg";

function makeCursor(m) {
  const el = document.createElement("div");
  el.className = "cursor";
  el.dataset.memberId = m.id;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 22");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "25");
  const arrow = document.createElementNS(SVG, "path");
  arrow.setAttribute("d", "M1 1 L1 18 L5.5 13.8 L8.6 20.6 L11.4 19.4 L8.4 12.8 L14.5 12.8 Z");
  svg.append(arrow);
  const label = document.createElement("span");
  label.className = "cursor-label";
  el.append(svg, label);
  cursorsEl.append(el);
  m.cursor = { el, label, x: 0, y: 0, tx: 0, ty: 0, shown: false };
  paintCursor(m);
  return m.cursor;
}

function paintCursor(m) {
  m.cursor.el.style.setProperty("--c", m.color);
  m.cursor.el.style.setProperty("--ink", inkFor(m.color));
  m.cursor.label.textContent = m.name;
}

const unit = (v) => (typeof v === "number" && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : null);

function moveCursor(id, pos) {
  const m = members.get(id);
  // Only members have cursors: a late message from one who left draws nothing.
  if (!m || id === socket.id) return;
  const x = unit(pos?.x);
  const y = unit(pos?.y);
  const c = m.cursor || makeCursor(m);
  if (x === null || y === null) {
    c.shown = false;
    c.el.hidden = true;
    return;
  }
  c.tx = x;
  c.ty = y;
  if (!c.shown) {
    // Appears where it is, not gliding from where it was last seen.
    c.x = x;
    c.y = y;
    c.shown = true;
    c.el.hidden = false;
  }
  c.el.dataset.x = x;
  c.el.dataset.y = y;
  window.dispatchEvent(new CustomEvent("rtio-demo:cursor", { detail: { id, x, y } }));
  animate();
}

let animFrame = 0;
let animLast = 0;

function animate() {
  if (!animFrame) animFrame = requestAnimationFrame(step);
}

function step(now) {
  animFrame = 0;
  const dt = animLast ? Math.min(100, now - animLast) : 16.7;
  animLast = now;
  const k = 1 - Math.pow(1 - SMOOTHING, dt / 16.7);
  const w = window.innerWidth;
  const h = window.innerHeight;
  let moving = false;
  for (const m of members.values()) {
    const c = m.cursor;
    if (!c || !c.shown) continue;
    c.x += (c.tx - c.x) * k;
    c.y += (c.ty - c.y) * k;
    if (Math.abs(c.tx - c.x) * w < 0.3 && Math.abs(c.ty - c.y) * h < 0.3) {
      c.x = c.tx;
      c.y = c.ty;
    } else {
      moving = true;
    }
    c.el.style.transform = `translate(${(c.x * w).toFixed(1)}px, ${(c.y * h).toFixed(1)}px)`;
  }
  if (moving) animate();
  else animLast = 0;
}

window.addEventListener("resize", animate);

// ---------------------------------------------------------------------------------------------
// My pointer: sent at most once per animation frame, volatile (a stale position is not worth
// buffering), and only while the room is joined.

let lastPos = null;
let pendingPos;
let sendFrame = 0;

const round = (v) => Math.round(v * 10000) / 10000;

function sendSoon(pos) {
  pendingPos = pos;
  if (!sendFrame) sendFrame = requestAnimationFrame(flush);
}

function flush() {
  sendFrame = 0;
  const room = current?.room;
  if (!room || !room.joined || !socket.connected) return;
  room.volatile.emit("cursor", pendingPos);
  window.dispatchEvent(new CustomEvent("rtio-demo:sent", { detail: pendingPos }));
}

window.addEventListener(
  "pointermove",
  (event) => {
    lastPos = { x: round(event.clientX / window.innerWidth), y: round(event.clientY / window.innerHeight) };
    sendSoon(lastPos);
  },
  { passive: true },
);

// Sent at once: a hidden page gets no animation frames.
function pointerGone() {
  if (!lastPos) return;
  lastPos = null;
  cancelAnimationFrame(sendFrame);
  pendingPos = null;
  flush();
}

document.addEventListener("pointerout", (event) => {
  if (!event.relatedTarget) pointerGone();
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) pointerGone();
});

// The sharing switch: the page again, with or without `?shared=1`.
const sharedBox = $("shared");
sharedBox.checked = SHARED;
sharedBox.disabled = TRANSPORT != "socketio";
sharedBox.addEventListener("change", () => {
  const q = new URLSearchParams(location.search);
  sharedBox.checked ? q.set("shared", "1") : q.delete("shared");
  location.search = q.toString();
});

// The transport switch in the footer keeps the room (the hash).
for (const a of document.querySelectorAll("[data-transport]")) {
  const t = a.dataset.transport;
  a.href = (t === "socketio" ? location.pathname : `?transport=${t}`) + location.hash;
  if (t === TRANSPORT) a.setAttribute("aria-current", "true");
}
window.addEventListener("hashchange", () => {
  for (const a of document.querySelectorAll("[data-transport]")) a.hash = location.hash;
});

window.__demo = {
  socket,
  transport: TRANSPORT,
  get room() {
    return current?.room ?? null;
  },
  get roomName() {
    return current?.name ?? null;
  },
};
