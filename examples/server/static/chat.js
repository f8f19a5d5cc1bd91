// The demo chat: one socket on namespace "/", the `chat` event both ways.
//
// client → server  "chat" { name, text }          ack { ok: true, at } | { ok: false, error }
// server → others  "chat" { name, text, at, id }
//
// Everything that came from the network or the user is put into the page with
// textContent, never innerHTML.

import { io } from "/pkg/index.js";

const ACK_TIMEOUT_MS = 5000;
const NAME_KEY = "rtio-chat-name";

const statusEl = document.getElementById("status");
const messagesEl = document.getElementById("messages");
const form = document.getElementById("composer");
const nameInput = document.getElementById("name");
const textInput = document.getElementById("text");
const sendButton = document.getElementById("send");

nameInput.value = readSavedName();
nameInput.addEventListener("change", () => saveName(nameInput.value.trim()));

const socket = io();

socket.on("connect", () => {
  setStatus("connected", `connected as ${socket.id}`);
  sendButton.disabled = false;
});

socket.on("disconnect", (reason) => {
  setStatus("disconnected", `disconnected (${reason})`);
  sendButton.disabled = true;
});

socket.on("connect_error", (err) => {
  const message = err && err.message ? err.message : String(err);
  setStatus("error", `connection error: ${message}`);
  sendButton.disabled = true;
});

socket.on("chat", (msg) => {
  if (!msg || typeof msg.name !== "string" || typeof msg.text !== "string") return;
  addMessage({ name: msg.name, text: msg.text, at: msg.at, mine: false });
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = textInput.value;
  if (!text.trim() || !socket.connected) return;
  const name = nameInput.value.trim();
  saveName(name);
  textInput.value = "";
  textInput.focus();

  const item = addMessage({ name: name || "anonymous", text, at: Date.now(), mine: true });
  try {
    const ack = await withTimeout(socket).emitWithAck("chat", { name, text });
    if (ack && ack.ok) {
      markDelivered(item, ack.at);
    } else {
      markFailed(item, ack && ack.error ? String(ack.error) : "rejected by the server");
    }
  } catch (err) {
    markFailed(item, err && err.message ? err.message : "no acknowledgement");
  }
});

// socket.timeout(ms) rejects emitWithAck when no ack arrives; fall back to the
// plain socket if the package does not offer it.
function withTimeout(s) {
  return typeof s.timeout === "function" ? s.timeout(ACK_TIMEOUT_MS) : s;
}

function setStatus(kind, label) {
  statusEl.className = `status status-${kind}`;
  statusEl.textContent = label;
  statusEl.title = "";
}

function addMessage({ name, text, at, mine }) {
  const item = document.createElement("li");
  item.className = mine ? "message message-mine message-pending" : "message";

  const meta = document.createElement("div");
  meta.className = "message-meta";

  const who = document.createElement("span");
  who.className = "message-name";
  who.textContent = name;

  const when = document.createElement("time");
  when.className = "message-time";
  setTime(when, at);

  meta.append(who, when);

  if (mine) {
    const ack = document.createElement("span");
    ack.className = "message-ack";
    ack.textContent = "…";
    ack.title = "sending";
    meta.append(ack);
  }

  const body = document.createElement("p");
  body.className = "message-text";
  body.textContent = text;

  item.append(meta, body);

  const atBottom =
    messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 40;
  messagesEl.append(item);
  if (atBottom || mine) item.scrollIntoView({ block: "end" });
  return item;
}

function markDelivered(item, at) {
  item.classList.remove("message-pending");
  item.classList.add("message-delivered");
  const ack = item.querySelector(".message-ack");
  ack.textContent = "✓";
  ack.title = "delivered";
  setTime(item.querySelector(".message-time"), at);
}

function markFailed(item, error) {
  item.classList.remove("message-pending");
  item.classList.add("message-failed");
  const ack = item.querySelector(".message-ack");
  ack.textContent = `✗ ${error}`;
  ack.title = "not delivered";
}

function setTime(el, at) {
  const date = new Date(typeof at === "number" ? at : Date.now());
  el.dateTime = date.toISOString();
  el.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function readSavedName() {
  try {
    return localStorage.getItem(NAME_KEY) || "";
  } catch {
    return "";
  }
}

function saveName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // Storage can be unavailable (private mode, disabled cookies): the name is just not kept.
  }
}
